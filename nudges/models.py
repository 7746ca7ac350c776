"""Nudges: small reminders that build the sharing habit. The organisation's settings, each
person's opt-outs, and one delivery row per (person, nudge key): the row is claimed before
the notification is written, and its unique key is what makes a nudge go out once."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from organizations.models import Organization

INACTIVITY_WEEKS_MAX = 26
WEEKLY_CAP_MAX = 7


class NudgeKind(models.TextChoices):
    # In priority order: when several are due for one person, the first one goes out.
    SCHEDULED_SHARE = "scheduled_share", _("Reminder: my scheduled share goes out in an hour")
    CHALLENGE_ENDING = (
        "challenge_ending",
        _("Reminder: a challenge ends soon and I am close to its goal"),
    )
    CHARTER = "charter", _("Reminder: the social media charter is waiting for me")
    INACTIVE = "inactive", _("Reminder: I have not shared for a few weeks")


# The notification kind of each nudge (registered in NudgesConfig.ready()).
NOTIFICATION_KINDS = {kind: f"nudges.{kind}" for kind in NudgeKind.values}


class NudgeSettings(models.Model):
    """An organisation's nudges: each kind on or off, how long without a share is
    "inactive", and the most nudges one person gets in seven days. No row: the defaults."""

    organization = models.OneToOneField(
        Organization, on_delete=models.CASCADE, related_name="nudge_settings"
    )
    scheduled_share_enabled = models.BooleanField(
        _("Reminder an hour before a scheduled share"), default=True
    )
    challenge_ending_enabled = models.BooleanField(
        _("Challenge about to end, for people close to its goal"), default=True
    )
    charter_enabled = models.BooleanField(
        _("Social media charter, for people who have not accepted it"), default=True
    )
    inactive_enabled = models.BooleanField(
        _("Reminder to people who have not shared for a while"), default=True
    )
    inactivity_weeks = models.PositiveSmallIntegerField(
        _("Weeks without a share before the reminder"),
        default=3,
        validators=[MinValueValidator(1), MaxValueValidator(INACTIVITY_WEEKS_MAX)],
    )
    weekly_cap = models.PositiveSmallIntegerField(
        _("Most nudges per person in seven days"),
        default=1,
        validators=[MinValueValidator(1), MaxValueValidator(WEEKLY_CAP_MAX)],
    )
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("nudge settings")
        verbose_name_plural = _("nudge settings")
        constraints = [
            models.CheckConstraint(
                condition=Q(inactivity_weeks__gte=1, inactivity_weeks__lte=INACTIVITY_WEEKS_MAX),
                name="nudge_settings_inactivity_weeks_range",
            ),
            models.CheckConstraint(
                condition=Q(weekly_cap__gte=1, weekly_cap__lte=WEEKLY_CAP_MAX),
                name="nudge_settings_weekly_cap_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organization}: nudges"

    def enabled_kinds(self) -> list[str]:
        return [kind for kind in NudgeKind.values if getattr(self, f"{kind}_enabled")]


class NudgeOptOut(models.Model):
    """A person who does not want one kind of nudge. Absent: they get it."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="nudge_opt_outs"
    )
    kind = models.CharField(max_length=30, choices=NudgeKind.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "kind"], name="nudge_opt_out_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user_id}:{self.kind} off"


class NudgeDelivery(models.Model):
    """One nudge sent to one person. `key` names what it was about (`inactive:<since>`,
    `scheduled:<share id>`, `charter:v<version>`, `challenge-ending:<challenge id>`): the
    database refuses a second row for the same person and key, so two runs never send the
    same nudge twice. The rows of the last seven days are the person's weekly cap."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="nudge_deliveries"
    )
    kind = models.CharField(max_length=30, choices=NudgeKind.choices)
    key = models.CharField(max_length=100)
    # The run that claimed the row: an INSERT … ON CONFLICT DO NOTHING does not say which
    # rows it wrote, so a run reads back the ones carrying its own id.
    run = models.UUIDField(db_index=True)
    sent_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="nudge_delivery_once")]
        indexes = [
            models.Index(fields=["user", "sent_at"], name="nudge_delivery_recent"),
            models.Index(fields=["organization", "sent_at"], name="nudge_delivery_org_time"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id}:{self.key}"
