"""The email digest: the organisation's schedule, each person's choice, and one delivery
row per (person, period) that is the outbox of that period's email."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from organizations.models import Organization


class Frequency(models.TextChoices):
    DAILY = "daily", _("Every day")
    WEEKLY = "weekly", _("Every week")
    NEVER = "never", _("Never")


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")


DEFAULT_FREQUENCY = Frequency.WEEKLY
DEFAULT_WEEKDAY = Weekday.MONDAY
DEFAULT_HOUR = 9


class DigestSettings(models.Model):
    """The organisation's schedule; an organisation without a row uses the defaults."""

    organization = models.OneToOneField(
        Organization, on_delete=models.CASCADE, related_name="digest_settings"
    )
    default_frequency = models.CharField(
        _("default frequency"),
        max_length=10,
        choices=Frequency.choices,
        default=DEFAULT_FREQUENCY,
        help_text=_("For everyone who has not chosen their own."),
    )
    weekday = models.PositiveSmallIntegerField(
        _("day of the weekly digest"), choices=Weekday.choices, default=DEFAULT_WEEKDAY
    )
    hour = models.PositiveSmallIntegerField(
        _("hour"),
        default=DEFAULT_HOUR,
        validators=[MaxValueValidator(23)],
        help_text=_("In each person's own time zone, from 0 to 23."),
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("digest settings")
        constraints = [
            models.CheckConstraint(condition=models.Q(hour__lte=23), name="digest_hour_valid"),
            models.CheckConstraint(condition=models.Q(weekday__lte=6), name="digest_weekday_valid"),
        ]

    def __str__(self) -> str:
        return str(self.organization)


class DigestPreference(models.Model):
    """A person's own choice; without a row, the organisation's default applies."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="digest_preference"
    )
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    frequency = models.CharField(_("frequency"), max_length=10, choices=Frequency.choices)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("digest preference")

    def __str__(self) -> str:
        return f"{self.user_id}: {self.frequency}"


class DigestRun(models.Model):
    """One run of the sending job for one organisation, with its counts."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    sent = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["organization", "-started_at"], name="digest_run_recent")]

    def __str__(self) -> str:
        return f"{self.organization_id} {self.started_at:%Y-%m-%d %H:%M}"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Waiting")
    SENDING = "sending", _("Being sent")
    SENT = "sent", _("Sent")
    SKIPPED = "skipped", _("Nothing new")
    FAILED = "failed", _("Failed")


class DigestDelivery(models.Model):
    """The outbox row of one person's digest for one period ("d:2026-12-07" for a day,
    "w:2026-12-07" for the week whose digest day that is). The unique key is what makes a
    period claimed once, whatever the number of runs racing for it."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="digest_deliveries"
    )
    period_key = models.CharField(max_length=20)
    status = models.CharField(
        max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    created_at = models.DateTimeField()
    # A claim: who holds the row (a run's token) and until when; past it, another run may.
    lease_token = models.CharField(max_length=32, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    run = models.ForeignKey(DigestRun, on_delete=models.SET_NULL, null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # What the digest covered: the next one starts where this one ended.
    covered_until = models.DateTimeField(null=True, blank=True)
    content_ids = models.JSONField(default=list, blank=True)
    # The person's points and rank when it was made, for the next one's "rank movement".
    points = models.IntegerField(null=True, blank=True)
    rank = models.PositiveIntegerField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "period_key"], name="digest_once_per_period")
        ]
        indexes = [
            models.Index(fields=["status", "lease_until"], name="digest_delivery_due"),
            models.Index(fields=["user", "-covered_until"], name="digest_delivery_latest"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.period_key} {self.status}"
