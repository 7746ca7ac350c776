"""Personal data (GDPR): each organisation's privacy settings (contact, retention periods),
a person's data exports, and their participation in the programme (an explicit, recorded
opt-in and a way to leave)."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from organizations.images import UnguessableName
from organizations.models import Organization

# Bounds of each retention period, in days: long enough for what the data is for (the
# rollups trail the clicks by minutes; a notification is read within weeks), short enough
# to mean something.
CLICK_RETENTION_MIN, CLICK_RETENTION_MAX, CLICK_RETENTION_DEFAULT = 30, 1095, 395
NOTIFICATION_RETENTION_MIN, NOTIFICATION_RETENTION_MAX, NOTIFICATION_RETENTION_DEFAULT = (
    30,
    1095,
    365,
)
EXPORT_RETENTION_MIN, EXPORT_RETENTION_MAX, EXPORT_RETENTION_DEFAULT = 1, 30, 7


class PrivacySettings(models.Model):
    """One per organisation; without a row, the defaults apply."""

    organization = models.OneToOneField(
        Organization, on_delete=models.CASCADE, related_name="privacy_settings"
    )
    contact_name = models.CharField(
        _("data-protection contact"),
        max_length=150,
        blank=True,
        help_text=_("A person or a function, such as “Data protection officer”."),
    )
    contact_email = models.EmailField(_("contact email"), blank=True)
    notice = models.TextField(
        _("additional information"),
        blank=True,
        max_length=4000,
        help_text=_("Shown on the privacy page after what Portevoix generates."),
    )
    click_retention_days = models.PositiveIntegerField(
        _("raw clicks kept (days)"),
        default=CLICK_RETENTION_DEFAULT,
        validators=[
            MinValueValidator(CLICK_RETENTION_MIN),
            MaxValueValidator(CLICK_RETENTION_MAX),
        ],
    )
    notification_retention_days = models.PositiveIntegerField(
        _("notifications kept (days)"),
        default=NOTIFICATION_RETENTION_DEFAULT,
        validators=[
            MinValueValidator(NOTIFICATION_RETENTION_MIN),
            MaxValueValidator(NOTIFICATION_RETENTION_MAX),
        ],
    )
    export_retention_days = models.PositiveIntegerField(
        _("data exports kept (days)"),
        default=EXPORT_RETENTION_DEFAULT,
        validators=[
            MinValueValidator(EXPORT_RETENTION_MIN),
            MaxValueValidator(EXPORT_RETENTION_MAX),
        ],
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("privacy settings")
        verbose_name_plural = _("privacy settings")
        constraints = [
            models.CheckConstraint(
                condition=Q(click_retention_days__gte=CLICK_RETENTION_MIN)
                & Q(click_retention_days__lte=CLICK_RETENTION_MAX),
                name="privacy_click_retention_bounds",
            ),
            models.CheckConstraint(
                condition=Q(notification_retention_days__gte=NOTIFICATION_RETENTION_MIN)
                & Q(notification_retention_days__lte=NOTIFICATION_RETENTION_MAX),
                name="privacy_notification_retention_bounds",
            ),
            models.CheckConstraint(
                condition=Q(export_retention_days__gte=EXPORT_RETENTION_MIN)
                & Q(export_retention_days__lte=EXPORT_RETENTION_MAX),
                name="privacy_export_retention_bounds",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organization_id}"


class ExportStatus(models.TextChoices):
    PENDING = "pending", _("Waiting")
    RUNNING = "running", _("Being prepared")
    READY = "ready", _("Ready")
    FAILED = "failed", _("Failed")
    EXPIRED = "expired", _("Expired")


RUNNING_STATUSES = (ExportStatus.PENDING, ExportStatus.RUNNING)


class DataExport(models.Model):
    """One request of a person for everything Portevoix holds about them: a ZIP prepared
    in the background, downloadable by that person only until `expires_at`."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="data_exports"
    )
    status = models.CharField(
        _("status"), max_length=10, choices=ExportStatus.choices, default=ExportStatus.PENDING
    )
    file = models.FileField(upload_to=UnguessableName("exports"), blank=True, max_length=200)
    size = models.PositiveBigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    # When the build task was last sent (the sweep sends a waiting export's task again
    # when it is lost) and when a worker claimed it (a running export whose worker died
    # is marked failed past a timeout): see `data_exports_sweep`.
    queued_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    ready_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)

    class Meta:
        verbose_name = _("data export")
        verbose_name_plural = _("data exports")
        ordering = ["-created_at", "-pk"]
        constraints = [
            # One export in preparation per person: a second request gets the running one.
            models.UniqueConstraint(
                fields=["user"],
                condition=Q(status__in=["pending", "running"]),
                name="data_export_one_running_per_user",
            )
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.status}"


class Participation(models.Model):
    """A person's explicit consent to take part in the programme: when, and which version
    of the charter they accepted; `left_at` when they left (they may join again)."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="participation"
    )
    joined_at = models.DateTimeField(_("joined"))
    charter_version = models.PositiveIntegerField(_("charter version"), null=True, blank=True)
    left_at = models.DateTimeField(_("left"), null=True, blank=True)
    # What the person had chosen before leaving (digests, reminders, rankings), restored
    # when they join again.
    left_choices = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("participation")
        verbose_name_plural = _("participations")

    def __str__(self) -> str:
        return f"{self.user_id} {'left' if self.left_at else 'joined'}"

    @property
    def is_active(self) -> bool:
        return self.left_at is None
