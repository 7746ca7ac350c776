"""Every write of the archive: archiving a share and what happens to it afterwards (one
chain per organisation), the sweep that makes up for a lost signal, the retention policy,
the purge after retention, the exports and the demo."""

from __future__ import annotations

import json
import logging
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, F, Max, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpRequest
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from advocacy.models import Share, ShareStatus
from archive.chain import entry_hash, payload_of
from archive.models import (
    EXPORT_RETENTION_DEFAULT_DAYS,
    EXPORT_RETENTION_MAX_DAYS,
    EXPORT_RETENTION_MIN_DAYS,
    RETENTION_DEFAULT_YEARS,
    RETENTION_MAX_YEARS,
    RETENTION_MIN_YEARS,
    ArchivedShare,
    ArchiveEvent,
    ArchiveEventKind,
    ArchiveExport,
    ArchivePolicy,
    ChainHead,
    ExportStatus,
    archive_today,
    purge_allowed,
)
from content.models import ContentVersion, Review, ReviewDecision
from notifications.services import notification_create
from organizations.audit import audit_record
from organizations.errors import ConflictError, DomainError, PermissionDeniedError
from organizations.models import Organization, User

logger = logging.getLogger(__name__)

EXPORT_READY_KIND = "archive.export_ready"

# A share in one of these states has left Portevoix, may have, or was refused by the
# network: it gets its record (the first time it is seen in one of them).
ARCHIVED_STATUSES = (
    ShareStatus.PUBLISHED,
    ShareStatus.FAILED,
    ShareStatus.OUTCOME_UNKNOWN,
    ShareStatus.RECALL_PENDING,
    ShareStatus.RECALLING,
    ShareStatus.RECALLED,
    ShareStatus.RECALL_ASKED,
    ShareStatus.RECALL_FAILED,
)
# Once archived, each change into one of these states is an event (RECALLING is the
# deletion under way: it reads as "deletion requested").
EVENT_OF_STATUS: dict[str, str] = {
    ShareStatus.PUBLISHED: ArchiveEventKind.PUBLISHED,
    ShareStatus.FAILED: ArchiveEventKind.FAILED,
    ShareStatus.OUTCOME_UNKNOWN: ArchiveEventKind.OUTCOME_UNKNOWN,
    ShareStatus.DISMISSED: ArchiveEventKind.DISMISSED,
    ShareStatus.CANCELLED: ArchiveEventKind.CANCELLED,
    ShareStatus.RECALL_PENDING: ArchiveEventKind.RECALL_PENDING,
    ShareStatus.RECALLING: ArchiveEventKind.RECALL_PENDING,
    ShareStatus.RECALLED: ArchiveEventKind.RECALLED,
    ShareStatus.RECALL_ASKED: ArchiveEventKind.RECALL_ASKED,
    ShareStatus.RECALL_FAILED: ArchiveEventKind.RECALL_FAILED,
}


# --- retention --------------------------------------------------------------------------


def retention_years_of(organization_id: int) -> int:
    years = (
        ArchivePolicy.objects.filter(organization_id=organization_id)
        .values_list("retention_years", flat=True)
        .first()
    )
    return years or RETENTION_DEFAULT_YEARS


def _years_after(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def archive_policy_update(
    *,
    actor: User,
    retention_years: int,
    export_retention_days: int | None = None,
    request: HttpRequest | None = None,
) -> ArchivePolicy:
    """Set the organisation's retention. It applies to what is archived from now on:
    existing records keep the date they were given (nothing can be shortened, and
    changing a record would break its hash)."""
    if not actor.is_org_admin or actor.organization_id is None:
        raise PermissionDeniedError(_("Only an organisation admin can change the retention."))
    if not RETENTION_MIN_YEARS <= retention_years <= RETENTION_MAX_YEARS:
        raise DomainError(
            _("Choose between %(min)d and %(max)d years.")
            % {"min": RETENTION_MIN_YEARS, "max": RETENTION_MAX_YEARS},
            field="retention_years",
        )
    if export_retention_days is not None and not (
        EXPORT_RETENTION_MIN_DAYS <= export_retention_days <= EXPORT_RETENTION_MAX_DAYS
    ):
        raise DomainError(
            _("Choose between %(min)d and %(max)d days.")
            % {"min": EXPORT_RETENTION_MIN_DAYS, "max": EXPORT_RETENTION_MAX_DAYS},
            field="export_retention_days",
        )
    with transaction.atomic():
        policy, _created = ArchivePolicy.objects.select_for_update().get_or_create(
            organization_id=actor.organization_id
        )
        days_before = policy.export_retention_days
        if export_retention_days is not None and days_before != export_retention_days:
            policy.export_retention_days = export_retention_days
            policy.save()
            audit_record(
                action="archive.export_retention_changed",
                organization=actor.organization,
                actor=actor,
                request=request,
                details={"from": days_before, "to": export_retention_days},
            )
        before = policy.retention_years if not _created else RETENTION_DEFAULT_YEARS
        if _created or before != retention_years:
            policy.retention_years = retention_years
            policy.save()
            audit_record(
                action="archive.retention_changed",
                organization=actor.organization,
                actor=actor,
                request=request,
                details={"from": before, "to": retention_years},
            )
    return policy


def _purgeable_prefix(organization_id: int, after: int, today: date) -> int:
    """The last position of the chain's prefix that may go: every entry from `after` + 1
    to it is past its retention, and no record in it keeps an event beyond it."""
    kept = [
        model.objects.filter(
            organization_id=organization_id, sequence__gt=after, retain_until__gte=today
        )
        .order_by("sequence")
        .values_list("sequence", flat=True)
        .first()
        for model in (ArchivedShare, ArchiveEvent)
    ]
    ends = [
        model.objects.filter(organization_id=organization_id).aggregate(m=Max("sequence"))["m"]
        for model in (ArchivedShare, ArchiveEvent)
    ]
    last = min([k - 1 for k in kept if k is not None] or [max([e for e in ends if e] or [after])])
    while last > after:
        # A record whose later event stays cannot go before it (the event points to it).
        blocked = (
            ArchiveEvent.objects.filter(
                organization_id=organization_id,
                sequence__gt=last,
                record__sequence__gt=after,
                record__sequence__lte=last,
            )
            .order_by("record__sequence")
            .values_list("record__sequence", flat=True)
            .first()
        )
        if blocked is None:
            break
        last = blocked - 1
    return last


def archive_purge_expired(*, today: date | None = None) -> int:
    """Delete what is past its retention date: the only deletion the archive allows. Only
    the oldest run of each organisation's chain goes (up to the first entry still under
    retention), and the head keeps the checkpoint (the last position deleted and its
    hash) from which what is left is verified. The trigger lets it through only with the
    purge flag set, and only past the date."""
    today = today or archive_today()
    organizations = sorted(
        {
            *ArchivedShare.objects.filter(retain_until__lt=today).values_list(
                "organization_id", flat=True
            ),
            *ArchiveEvent.objects.filter(retain_until__lt=today).values_list(
                "organization_id", flat=True
            ),
        }
    )
    deleted = 0
    for organization_id in organizations:
        with transaction.atomic(), purge_allowed():
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute("SET LOCAL portevoix.archive_purge = 'on'")
            head = _head_locked(organization_id)
            last = _purgeable_prefix(organization_id, head.purged_sequence, today)
            if last <= head.purged_sequence:
                continue
            span = {
                "organization_id": organization_id,
                "sequence__gt": head.purged_sequence,
                "sequence__lte": last,
            }
            last_hash = (
                ArchivedShare.objects.filter(organization_id=organization_id, sequence=last)
                .values_list("record_hash", flat=True)
                .first()
                or ArchiveEvent.objects.filter(organization_id=organization_id, sequence=last)
                .values_list("record_hash", flat=True)
                .first()
            )
            if last_hash is None:  # a gap already: leave it for archive_verify to show
                logger.error("archive purge: entry %s of %s is missing", last, organization_id)
                continue
            events, _counts = ArchiveEvent.objects.filter(**span).delete()
            records, _counts = ArchivedShare.objects.filter(**span).delete()
            head.purged_sequence, head.purged_hash = last, last_hash
            head.save(update_fields=["purged_sequence", "purged_hash"])
            deleted += events + records
    return deleted


# --- archiving --------------------------------------------------------------------------


def _head_locked(organization_id: int) -> ChainHead:
    # The head row serialises an organisation's inserts: a sequence and a previous hash
    # are only ever handed out once.
    head = ChainHead.objects.select_for_update().filter(organization_id=organization_id).first()
    if head is None:  # the organisation's first entry
        ChainHead.objects.get_or_create(organization_id=organization_id)
        head = ChainHead.objects.select_for_update().get(organization_id=organization_id)
    return head


def _link(head: ChainHead, entry: ArchivedShare | ArchiveEvent) -> None:
    entry.sequence = head.sequence + 1
    entry.previous_hash = head.last_hash
    entry.record_hash = entry_hash(entry.previous_hash, payload_of(entry))
    entry.save()
    head.sequence, head.last_hash = entry.sequence, entry.record_hash
    head.save(update_fields=["sequence", "last_hash"])


def _json(value: Any) -> Any:
    """Plain JSON values, as the database will give them back (the hash is recomputed
    from what is read)."""
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


def _approved_version(share: Share) -> int:
    version = Review.objects.filter(
        content_id=share.content_id,
        decision=ReviewDecision.APPROVE,
        created_at__lte=share.created_at,
    ).aggregate(v=Max("version"))["v"]
    return version or share.content.version


def _approvals(content_id: int, version: int) -> list[dict[str, Any]]:
    rows = []
    reviews = (
        Review.objects.filter(content_id=content_id, version=version)
        .select_related("reviewer", "step")
        .order_by("created_at", "pk")
    )
    for review in reviews:
        reviewer = review.reviewer
        # The step's name as kept on the review: the step itself may have been deleted.
        step = review.step_name or (str(review.step) if review.step is not None else "")
        rows.append(
            {
                "reviewer_id": reviewer.pk if reviewer else None,
                "reviewer": (reviewer.get_full_name() or reviewer.email) if reviewer else "",
                "decision": review.decision,
                "at": review.created_at,
                "step": step or None,
                "comment": review.comment,
            }
        )
    return _json(rows)


def _record_build(share: Share, *, at: datetime) -> ArchivedShare:
    user = share.user
    content = share.content
    version = _approved_version(share)
    snapshot = (
        ContentVersion.objects.filter(content_id=content.pk, number=version)
        .values_list("snapshot", flat=True)
        .first()
    )
    link = getattr(share, "tracked_link", None)
    account = share.account
    organization = share.organization
    return ArchivedShare(
        organization_id=share.organization_id,
        organization_name=organization.name[:200],
        share_id=share.pk,
        person_id=user.pk,
        person_name=(user.get_full_name() or user.email)[:201],
        person_email=user.email,
        team_names=sorted(user.teams.values_list("name", flat=True)),
        network=share.network,
        mode=share.mode,
        account_name=(account.display_name if account else "")[:200],
        account_external_id=(account.external_id if account else "")[:200],
        text=share.text,
        tracked_url=f"{settings.SITE_URL}/s/{link.code}" if link else "",
        destination_url=link.destination if link else "",
        content_id=content.pk,
        content_title=content.title[:200],
        content_version=version,
        content_snapshot=_json(snapshot or {}),
        approvals=_approvals(content.pk, version),
        outcome=share.status if share.status != ShareStatus.RECALLING else "recall_pending",
        error=share.last_error[:500],
        shared_at=share.created_at,
        left_at=share.published_at or share.updated_at,
        published_at=share.published_at,
        external_id=share.external_id,
        external_url=share.external_url,
        archived_at=at,
        retain_until=_years_after(_utc_day(at), retention_years_of(share.organization_id)),
    )


def _utc_day(moment: datetime) -> date:
    return moment.astimezone(UTC).date()


def _last_known_status(record: ArchivedShare) -> str:
    last = (
        ArchiveEvent.objects.filter(record=record)
        .order_by("-sequence")
        .values_list("kind", flat=True)
        .first()
    )
    return last or record.outcome


# What tells whether a share changed between its reading and the organisation's lock.
_STATE_FIELDS = ("status", "updated_at", "published_at", "external_id", "last_error")


def _share_for_archive(share_id: int) -> Share | None:
    return (
        Share.objects.select_related("user", "content", "account", "organization")
        .select_related("tracked_link")
        .filter(pk=share_id)
        .first()
    )


def share_archive_observe(*, share_id: int, at: datetime | None = None) -> str:
    """Archive what the share has become: its record the first time it has left (or
    failed), then one event per later change of state. Idempotent: seeing the same state
    twice writes nothing. Returns what was written: "record", "event" or "nothing".

    The organisation's chain head is locked for the writes only: every archive write of
    the organisation waits for it (a publishing worker's threads, all at once), so the
    record is read and built before, and the share's state read again once the lock is
    held (observations of an organisation are in order there); if it changed meanwhile,
    the record is built again from what it has become."""
    share = _share_for_archive(share_id)
    if share is None:
        return "nothing"
    now = at or timezone.now()
    prepared = None
    if (
        share.status in ARCHIVED_STATUSES
        and not ArchivedShare.objects.filter(share_id=share_id).exists()
    ):
        prepared = _record_build(share, at=now)
    with transaction.atomic():
        head = _head_locked(share.organization_id)
        state = Share.objects.filter(pk=share_id).values_list(*_STATE_FIELDS).first()
        if state is None:
            return "nothing"
        if state != tuple(getattr(share, field) for field in _STATE_FIELDS):
            share = _share_for_archive(share_id)
            if share is None:
                return "nothing"
            prepared = None
        record = ArchivedShare.objects.filter(share_id=share_id).first()
        if record is None:
            if share.status not in ARCHIVED_STATUSES:
                return "nothing"
            _link(head, prepared or _record_build(share, at=now))
            return "record"
        kind = EVENT_OF_STATUS.get(share.status)
        if kind is None or kind == _last_known_status(record):
            return "nothing"
        _link(
            head,
            ArchiveEvent(
                organization_id=record.organization_id,
                record=record,
                share_id=share_id,
                kind=kind,
                occurred_at=share.updated_at,
                published_at=share.published_at if kind == ArchiveEventKind.PUBLISHED else None,
                external_id=share.external_id if kind == ArchiveEventKind.PUBLISHED else "",
                external_url=share.external_url if kind == ArchiveEventKind.PUBLISHED else "",
                detail=share.last_error[:500],
                archived_at=now,
                # Kept as long as its record, and at least the retention from the day
                # it was appended.
                retain_until=max(
                    record.retain_until,
                    _years_after(_utc_day(now), retention_years_of(record.organization_id)),
                ),
            ),
        )
        return "event"


def on_share_state_changed(sender: object = None, *, share_id: int, **kwargs: object) -> None:
    """The signal comes after the pipeline's commit: the share's state is read then and
    archived at once. Never fails the pipeline: lost, the sweep makes up for it."""
    try:
        share_archive_observe(share_id=share_id)
    except Exception:
        logger.warning("Could not archive share %s; the sweep will", share_id, exc_info=True)


def shares_archive_sweep(*, now: datetime | None = None, batch: int = 500) -> dict[str, int]:
    """Make up for a lost signal (a worker killed after the commit): every share in an
    archived state without its record gets one, and recently changed archived shares get
    their missing event. The unique share id keeps it to one record whatever runs twice."""
    now = now or timezone.now()
    counts = {"record": 0, "event": 0, "failed": 0}
    archived = ArchivedShare.objects.filter(share_id=OuterRef("pk"))
    missing = list(
        Share.objects.filter(status__in=ARCHIVED_STATUSES)
        .exclude(Exists(archived))
        .order_by("updated_at", "pk")
        .values_list("pk", flat=True)[:batch]
    )
    # Archived shares whose state moved on since the archive last heard of them.
    last_known = Coalesce(
        Subquery(
            ArchiveEvent.objects.filter(share_id=OuterRef("pk"))
            .order_by("-sequence")
            .values("kind")[:1]
        ),
        Subquery(archived.values("outcome")[:1]),
    )
    recent = list(
        Share.objects.filter(
            status__in=list(EVENT_OF_STATUS), updated_at__gte=now - timedelta(days=1)
        )
        .filter(Exists(archived))
        .annotate(last_known=last_known)
        .exclude(last_known=F("status"))
        .exclude(status=ShareStatus.RECALLING, last_known=ArchiveEventKind.RECALL_PENDING)
        .order_by("updated_at", "pk")
        .values_list("pk", flat=True)[:batch]
    )
    for share_id in [*missing, *recent]:
        try:
            written = share_archive_observe(share_id=share_id)
        except IntegrityError:
            # Most likely archived by the task at the same moment: the next sweep sees.
            logger.warning("archive sweep: share %s conflicted", share_id, exc_info=True)
            counts["failed"] += 1
            continue
        except Exception:  # one bad share must not stop the batch
            logger.exception("archive sweep: share %s could not be archived", share_id)
            counts["failed"] += 1
            continue
        if written in counts:
            counts[written] += 1
    return counts


# --- exports ----------------------------------------------------------------------------


def _require_compliance(actor: User) -> None:
    if not actor.is_compliance_officer or actor.organization_id is None:
        raise PermissionDeniedError(_("Only a compliance officer can use the archive."))


MAX_EXPORT_DAYS = 3 * 366


def archive_export_request(
    *, actor: User, date_from: date, date_to: date, request: HttpRequest | None = None
) -> ArchiveExport:
    """Ask for the export of a period; it is built in the background."""
    _require_compliance(actor)
    organization_id = actor.organization_id
    assert organization_id is not None
    if date_to < date_from:
        raise DomainError(_("The end of the period is before its start."), field="date_to")
    if (date_to - date_from).days >= MAX_EXPORT_DAYS:
        raise DomainError(_("Export at most three years at a time."), field="date_to")
    if date_from > timezone.localdate():
        raise DomainError(_("The period has not started yet."), field="date_from")
    with transaction.atomic():
        if ArchiveExport.objects.filter(
            organization_id=organization_id, status=ExportStatus.PENDING
        ).exists():
            raise ConflictError(_("An export is already being prepared; wait for it to finish."))
        try:
            with transaction.atomic():
                export = ArchiveExport.objects.create(
                    organization_id=organization_id,
                    requested_by=actor,
                    requested_by_email=actor.email,
                    date_from=date_from,
                    date_to=date_to,
                )
        except IntegrityError as exc:  # asked twice at the same moment: one is pending
            raise ConflictError(
                _("An export is already being prepared; wait for it to finish.")
            ) from exc
        audit_record(
            action="archive.export_requested",
            organization=actor.organization,
            actor=actor,
            target=export,
            request=request,
            details={"from": date_from.isoformat(), "to": date_to.isoformat()},
        )
        from archive.tasks import build_export

        build_export.delay_on_commit(export.pk)
    return export


# A pending export nobody took after this long is re-enqueued (a lost task); one taken
# but not finished after this long is a crashed build, marked failed.
EXPORT_REQUEUE_AFTER = timedelta(minutes=5)
EXPORT_BUILD_TIMEOUT = timedelta(minutes=30)


def archive_export_build(*, export_id: int) -> str:
    """Build the ZIP of a pending export (see archive.exports); announce it when ready."""
    from archive.exports import export_zip

    export = ArchiveExport.objects.select_related("organization", "requested_by").get(pk=export_id)
    if export.status != ExportStatus.PENDING:
        return "done-already"
    # The claim is committed on its own, so that the sweep sees a build under way (and one
    # that never finishes).
    claimed = ArchiveExport.objects.filter(
        pk=export_id, status=ExportStatus.PENDING, claimed_at__isnull=True
    ).update(claimed_at=timezone.now())
    if not claimed:
        return "claimed-already"
    try:
        with transaction.atomic():
            # Exports chain in the order they are built: one at a time per organisation,
            # serialised on the organisation's policy row before the previous is chosen.
            ArchivePolicy.objects.get_or_create(organization_id=export.organization_id)
            ArchivePolicy.objects.select_for_update().get(organization_id=export.organization_id)
            locked = ArchiveExport.objects.select_for_update().get(pk=export_id)
            if locked.status != ExportStatus.PENDING:
                return "done-already"
            previous = (
                ArchiveExport.objects.filter(
                    organization_id=export.organization_id,
                    status__in=(ExportStatus.READY, ExportStatus.EXPIRED),
                )
                .order_by("-completed_at", "-pk")
                .defer("file")
                .first()
            )
            built = export_zip(export, previous=previous)
            locked.file = built.data
            locked.file_size = len(built.data)
            locked.record_count = built.record_count
            locked.event_count = built.event_count
            locked.first_hash = built.first_hash
            locked.last_hash = built.last_hash
            locked.manifest_hash = built.manifest_hash
            locked.previous = previous
            locked.chain_hash = built.chain_hash
            locked.status = ExportStatus.READY
            locked.completed_at = timezone.now()
            locked.save()
            recipient = export.requested_by
            if recipient is not None and recipient.organization_id == export.organization_id:
                with translation.override(recipient.language):
                    notification_create(
                        recipient=recipient,
                        kind=EXPORT_READY_KIND,
                        title=_("Your archive export is ready"),
                        body=_("The export of %(start)s – %(end)s can be downloaded.")
                        % {"start": export.date_from, "end": export.date_to},
                        url=f"/archive/exports/{export.pk}/",
                    )
    except Exception as exc:
        logger.exception("archive export %s failed", export_id)
        ArchiveExport.objects.filter(pk=export_id, status=ExportStatus.PENDING).update(
            status=ExportStatus.FAILED, error=str(exc)[:500], completed_at=timezone.now()
        )
        return "failed"
    return "ready"


def archive_exports_sweep(*, now: datetime | None = None) -> dict[str, int]:
    """Make up for a lost or crashed build: a pending export no worker took is enqueued
    again; one taken but unfinished past the timeout is marked failed (with the reason on
    its page), which frees the organisation to ask again."""
    from archive.tasks import build_export

    now = now or timezone.now()
    stuck = ArchiveExport.objects.filter(
        status=ExportStatus.PENDING, claimed_at__lt=now - EXPORT_BUILD_TIMEOUT
    ).update(
        status=ExportStatus.FAILED,
        error=_("The export took too long to build and was stopped. Ask for it again.")[:500],
        completed_at=now,
    )
    lost = list(
        ArchiveExport.objects.filter(
            status=ExportStatus.PENDING,
            claimed_at__isnull=True,
            created_at__lt=now - EXPORT_REQUEUE_AFTER,
        ).values_list("pk", flat=True)
    )
    for export_id in lost:
        build_export.delay(export_id)
    return {"requeued": len(lost), "failed": stuck}


def archive_exports_expire(*, now: datetime | None = None) -> int:
    """Delete the ZIP of exports past their organisation's export retention; the row stays
    (status "expired", its hashes kept: later exports still chain to it)."""
    now = now or timezone.now()
    days = Coalesce(
        Subquery(
            ArchivePolicy.objects.filter(organization_id=OuterRef("organization_id")).values(
                "export_retention_days"
            )[:1]
        ),
        EXPORT_RETENTION_DEFAULT_DAYS,
    )
    expired = 0
    rows = ArchiveExport.objects.filter(status=ExportStatus.READY).annotate(days=days)
    for pk, completed_at, keep_days in rows.values_list("pk", "completed_at", "days"):
        if completed_at is not None and completed_at < now - timedelta(days=keep_days):
            expired += ArchiveExport.objects.filter(pk=pk, status=ExportStatus.READY).update(
                status=ExportStatus.EXPIRED, file=None, expired_at=now
            )
    return expired


def person_forget_requester(*, user: User) -> int:
    """The person's erasure: the exports they asked for no longer name them (the ZIPs
    already built keep the email until they expire). Returns the exports changed."""
    theirs = Q(requested_by=user)
    if user.email:  # asked before the account lost its link to the export
        theirs |= Q(
            requested_by__isnull=True,
            requested_by_email__iexact=user.email,
            organization_id=user.organization_id,
        )
    return ArchiveExport.objects.filter(theirs).update(requested_by=None, requested_by_email="")


# --- the demo -----------------------------------------------------------------------------


def archive_demo_seed(
    sender: object = None, *, organization: Organization, **kwargs: object
) -> None:
    """Archive the demo's shares as if each had been archived when it happened, so that the
    compliance officer's archive is alive (idempotent)."""
    ArchivePolicy.objects.get_or_create(organization=organization)
    archived = ArchivedShare.objects.filter(share_id=OuterRef("pk"))
    shares = sorted(
        Share.objects.filter(organization=organization, status__in=ARCHIVED_STATUSES)
        .exclude(Exists(archived))
        .values_list("pk", "published_at", "updated_at"),
        key=lambda row: (row[1] or row[2], row[0]),
    )
    with transaction.atomic():  # one commit for the lot
        for share_id, published_at, updated_at in shares:
            share_archive_observe(share_id=share_id, at=published_at or updated_at)
