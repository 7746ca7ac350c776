"""The archive of everything shared: one immutable record per share that left Portevoix
(`ArchivedShare`), what happened to it afterwards (`ArchiveEvent`), each organisation's
retention (`ArchivePolicy`), and signed exports (`ArchiveExport`).

Records and events of one organisation form one hash chain (`ChainHead` serialises the
inserts). Identifiers of people, shares and organisations are plain integers, not foreign
keys: deleting a person, a share or an organisation never reaches into the archive. On
PostgreSQL a trigger refuses UPDATE and DELETE below the ORM (migration 0002)."""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from datetime import UTC, date, datetime

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from organizations.models import Organization

RETENTION_MIN_YEARS, RETENTION_MAX_YEARS, RETENTION_DEFAULT_YEARS = 1, 30, 7
GENESIS_HASH = "0" * 64
EXPORT_RETENTION_MIN_DAYS, EXPORT_RETENTION_MAX_DAYS, EXPORT_RETENTION_DEFAULT_DAYS = 7, 365, 90

_purging: contextvars.ContextVar[bool] = contextvars.ContextVar("archive_purging", default=False)


class ArchiveImmutableError(Exception):
    pass


def archive_today() -> date:
    """The archive's "today": the UTC date, as the trigger's
    `(now() AT TIME ZONE 'UTC')::date`, so that the ORM and the database agree."""
    return datetime.now(UTC).date()


@contextlib.contextmanager
def purge_allowed() -> Iterator[None]:
    """Only the retention job deletes, and only what is past its retention date."""
    token = _purging.set(True)
    try:
        yield
    finally:
        _purging.reset(token)


class ImmutableQuerySet(models.QuerySet):
    def update(self, **kwargs: object) -> int:
        raise ArchiveImmutableError("The archive cannot be changed")

    def delete(self) -> tuple[int, dict[str, int]]:
        if not _purging.get():
            raise ArchiveImmutableError("The archive cannot be deleted from")
        today = archive_today()
        if self.filter(retain_until__gte=today).exists():
            raise ArchiveImmutableError("These records are still under retention")
        return super().delete()


class ImmutableModel(models.Model):
    objects = ImmutableQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args: object, **kwargs: object) -> None:
        if not self._state.adding:
            raise ArchiveImmutableError("The archive cannot be changed")
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        return type(self).objects.filter(pk=self.pk).delete()


class ArchivePolicy(models.Model):
    organization = models.OneToOneField(
        Organization, on_delete=models.CASCADE, related_name="archive_policy"
    )
    retention_years = models.PositiveSmallIntegerField(
        _("retention (years)"),
        default=RETENTION_DEFAULT_YEARS,
        validators=[
            MinValueValidator(RETENTION_MIN_YEARS),
            MaxValueValidator(RETENTION_MAX_YEARS),
        ],
        help_text=_(
            "How long each archived share is kept, from the day it was archived. During "
            "that time no one can delete it."
        ),
    )
    export_retention_days = models.PositiveSmallIntegerField(
        _("keep exports (days)"),
        default=EXPORT_RETENTION_DEFAULT_DAYS,
        validators=[
            MinValueValidator(EXPORT_RETENTION_MIN_DAYS),
            MaxValueValidator(EXPORT_RETENTION_MAX_DAYS),
        ],
        help_text=_(
            "How long an export's ZIP can be downloaded after it is built; then the file "
            "is deleted (the export's hashes are kept)."
        ),
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(retention_years__gte=RETENTION_MIN_YEARS)
                & Q(retention_years__lte=RETENTION_MAX_YEARS),
                name="archive_policy_years_bounds",
            ),
            models.CheckConstraint(
                condition=Q(export_retention_days__gte=EXPORT_RETENTION_MIN_DAYS)
                & Q(export_retention_days__lte=EXPORT_RETENTION_MAX_DAYS),
                name="archive_policy_export_days_bounds",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organization_id}: {self.retention_years}y"


class ChainHead(models.Model):
    """The last link of an organisation's chain; locked for each insert."""

    organization_id = models.BigIntegerField(primary_key=True)
    sequence = models.BigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default=GENESIS_HASH)
    # The purge's checkpoint: the last entry deleted after its retention and its hash.
    # What is left of the chain starts right after it (or at the genesis).
    purged_sequence = models.BigIntegerField(default=0)
    purged_hash = models.CharField(max_length=64, default=GENESIS_HASH)

    def __str__(self) -> str:
        return f"{self.organization_id}#{self.sequence}"


class ArchivedShare(ImmutableModel):
    organization_id = models.BigIntegerField()
    organization_name = models.CharField(max_length=200)
    sequence = models.BigIntegerField()
    previous_hash = models.CharField(max_length=64)
    record_hash = models.CharField(max_length=64, unique=True)
    share_id = models.BigIntegerField(unique=True)
    # The person as they were named at the time: the archive outlives the account.
    person_id = models.BigIntegerField()
    person_name = models.CharField(max_length=201)
    person_email = models.CharField(max_length=254)
    team_names = models.JSONField(default=list)
    network = models.CharField(max_length=10)
    mode = models.CharField(max_length=10)
    account_name = models.CharField(max_length=200, blank=True)
    account_external_id = models.CharField(max_length=200, blank=True)
    text = models.TextField()
    tracked_url = models.CharField(max_length=1000, blank=True)
    destination_url = models.CharField(max_length=1000, blank=True)
    content_id = models.BigIntegerField()
    content_title = models.CharField(max_length=200)
    content_version = models.PositiveIntegerField()
    content_snapshot = models.JSONField(default=dict)
    approvals = models.JSONField(default=list)
    # The share's state when it was archived; what came later is in its events.
    outcome = models.CharField(max_length=30)
    error = models.CharField(max_length=500, blank=True)
    shared_at = models.DateTimeField()
    # When it left (published or confirmed), or else when its outcome was known: the
    # moment the search's period is about.
    left_at = models.DateTimeField()
    published_at = models.DateTimeField(null=True, blank=True)
    external_id = models.CharField(max_length=200, blank=True)
    external_url = models.CharField(max_length=500, blank=True)
    archived_at = models.DateTimeField()
    retain_until = models.DateField()

    class Meta:
        ordering = ["-archived_at", "-sequence"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization_id", "sequence"], name="archived_share_chain_position"
            )
        ]
        indexes = [
            models.Index(fields=["organization_id", "-left_at"], name="archive_org_left"),
            models.Index(fields=["organization_id", "archived_at"], name="archive_org_archived"),
            models.Index(fields=["organization_id", "person_id"], name="archive_org_person"),
            models.Index(fields=["organization_id", "content_id"], name="archive_org_content"),
        ]

    def __str__(self) -> str:
        return f"share {self.share_id} ({self.person_name})"


class ArchiveEventKind(models.TextChoices):
    PUBLISHED = "published", _("Published")
    FAILED = "failed", _("Failed")
    OUTCOME_UNKNOWN = "outcome_unknown", _("Outcome unknown")
    DISMISSED = "dismissed", _("Not posted after all")
    CANCELLED = "cancelled", _("Cancelled")
    RECALL_PENDING = "recall_pending", _("Deletion requested")
    RECALLED = "recalled", _("Deleted from the network")
    RECALL_ASKED = "recall_asked", _("Employee asked to delete it")
    RECALL_FAILED = "recall_failed", _("Could not be deleted")


class ArchiveEvent(ImmutableModel):
    """What happened to an archived share afterwards, in the same chain as the records."""

    organization_id = models.BigIntegerField()
    sequence = models.BigIntegerField()
    previous_hash = models.CharField(max_length=64)
    record_hash = models.CharField(max_length=64, unique=True)
    record = models.ForeignKey(ArchivedShare, on_delete=models.PROTECT, related_name="events")
    share_id = models.BigIntegerField()
    kind = models.CharField(max_length=30, choices=ArchiveEventKind.choices)
    occurred_at = models.DateTimeField()
    published_at = models.DateTimeField(null=True, blank=True)
    external_id = models.CharField(max_length=200, blank=True)
    external_url = models.CharField(max_length=500, blank=True)
    detail = models.CharField(max_length=500, blank=True)
    archived_at = models.DateTimeField()
    retain_until = models.DateField()

    class Meta:
        ordering = ["sequence"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization_id", "sequence"], name="archive_event_chain_position"
            )
        ]
        indexes = [
            models.Index(fields=["organization_id", "archived_at"], name="archive_event_time")
        ]

    def __str__(self) -> str:
        return f"{self.share_id} {self.kind}"


class ExportStatus(models.TextChoices):
    PENDING = "pending", _("Being prepared")
    READY = "ready", _("Ready")
    FAILED = "failed", _("Failed")
    EXPIRED = "expired", _("Expired")


class ArchiveExport(models.Model):
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="archive_exports"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    requested_by_email = models.CharField(max_length=254, blank=True)
    date_from = models.DateField(_("from"))
    date_to = models.DateField(_("to"))
    status = models.CharField(
        max_length=10, choices=ExportStatus.choices, default=ExportStatus.PENDING
    )
    record_count = models.PositiveIntegerField(default=0)
    event_count = models.PositiveIntegerField(default=0)
    first_hash = models.CharField(max_length=64, blank=True)
    last_hash = models.CharField(max_length=64, blank=True)
    manifest_hash = models.CharField(max_length=64, blank=True)
    previous = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # sha256(previous export's chain_hash + this manifest's hash): one export missing from
    # the sequence breaks every later link.
    chain_hash = models.CharField(max_length=64, blank=True)
    # The ZIP itself, in the database: web and workers see it wherever they run.
    file = models.BinaryField(null=True, blank=True, editable=False)
    file_size = models.PositiveIntegerField(default=0)
    error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    # When a worker started building it (still pending meanwhile): a build claimed long
    # ago is a crashed one (see archive_exports_sweep).
    claimed_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    # When its file was deleted after the export retention (status "expired").
    expired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["organization", "-created_at"], name="archive_export_org")]
        constraints = [
            models.CheckConstraint(
                condition=Q(date_to__gte=models.F("date_from")), name="archive_export_period"
            ),
            models.UniqueConstraint(
                fields=["organization"],
                condition=Q(status="pending"),
                name="archive_export_one_pending",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organization_id} {self.date_from}–{self.date_to}"

    @property
    def filename(self) -> str:
        return f"archive-{self.date_from:%Y%m%d}-{self.date_to:%Y%m%d}-{self.pk}.zip"
