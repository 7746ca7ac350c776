"""A person's export of everything Portevoix holds about them: requested (one in
preparation at a time), built in the background into a ZIP (one JSON and one CSV per kind,
a README in the person's language, what the archive keeps), announced by notification,
downloadable by that person only until it expires."""

from __future__ import annotations

import csv
import io
import json
import logging
import tempfile
import zipfile
from datetime import timedelta
from typing import Any

from django.core.files import File
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from notifications.services import notification_create
from organizations.audit import audit_record
from organizations.errors import ConflictError, NotFoundError
from organizations.media import media_discard_on_commit
from organizations.models import User
from privacy.archive_link import archive_summary
from privacy.models import RUNNING_STATUSES, DataExport, ExportStatus
from privacy.registry import EXCLUDED, KEEP, LEGAL_RETENTION, installed_entries
from privacy.selectors import privacy_settings_of

logger = logging.getLogger(__name__)

NOTIFICATION_KIND = "privacy.export_ready"


def data_export_request(*, user: User, request: Any = None) -> tuple[DataExport, bool]:
    """Start an export of the person's data, or return the one in preparation. Returns
    (export, created)."""
    assert user.organization_id is not None
    running = DataExport.objects.filter(user=user, status__in=RUNNING_STATUSES).first()
    if running is not None:
        return running, False
    try:
        with transaction.atomic():
            export = DataExport.objects.create(
                organization_id=user.organization_id, user=user, queued_at=timezone.now()
            )
            audit_record(
                action="privacy.export_requested",
                organization=user.organization,
                actor=user,
                target=export,
                request=request,
            )
            _enqueue(export)
    except IntegrityError:
        # Two requests at once: the unique constraint let one through; answer with it.
        running = DataExport.objects.filter(user=user, status__in=RUNNING_STATUSES).first()
        if running is None:
            raise
        return running, False
    return export, True


def _enqueue(export: DataExport) -> None:
    from privacy.tasks import build_data_export

    build_data_export.delay_on_commit(export.pk)


def _discard(name: str) -> None:
    """Delete a stored ZIP that no row points to (a failed build, an erased person)."""
    if not name:
        return
    try:
        DataExport._meta.get_field("file").storage.delete(name)  # type: ignore[attr-defined]
    except Exception:
        logger.exception("Could not delete the orphaned export file %s", name)


def data_export_build(*, export_id: int) -> DataExport | None:
    """Build the ZIP of one export. Claimed with a conditional UPDATE, so a task delivered
    twice builds it once. A failure is recorded on the row (the person sees it and may
    ask again), never raised to the worker.

    The file is stored before the row says "ready"; the row is then updated only if it is
    still this worker's (running: not swept as failed, not deleted by an erasure). When
    that update does not happen or anything after the file was stored fails (the
    notification), the file is deleted: no ZIP of a person's data outlives its row."""
    now = timezone.now()
    claimed = DataExport.objects.filter(pk=export_id, status=ExportStatus.PENDING).update(
        status=ExportStatus.RUNNING, started_at=now
    )
    if not claimed:
        return None
    export = (
        DataExport.objects.select_related("user", "user__organization").filter(pk=export_id).first()
    )
    if export is None:  # deleted with the person's data since the claim
        return None
    user = export.user
    stored = ""
    try:
        with tempfile.TemporaryFile() as handle:
            export_write_zip(user=user, handle=handle)
            size = handle.tell()
            handle.seek(0)
            days = privacy_settings_of(user.organization).export_retention_days
            stored = export.file.storage.save(
                export.file.field.generate_filename(export, "export.zip"), File(handle)
            )
        with transaction.atomic():
            ready_at = timezone.now()
            expires_at = ready_at + timedelta(days=days)
            updated = DataExport.objects.filter(pk=export_id, status=ExportStatus.RUNNING).update(
                file=stored,
                size=size,
                status=ExportStatus.READY,
                ready_at=ready_at,
                expires_at=expires_at,
            )
            if not updated:
                # Swept as failed (too long), or deleted with the person's data meanwhile.
                logger.warning("Data export %s is no longer running; file discarded", export_id)
                _discard(stored)
                return None
            with translation.override(user.language):
                notification_create(
                    recipient=user,
                    kind=NOTIFICATION_KIND,
                    title=_("Your data export is ready"),
                    body=_("Download it before %(date)s; it is then deleted.")
                    % {"date": timezone.localtime(expires_at, user.zone).date()},
                    url=reverse("privacy_my_data"),
                )
    except Exception as exc:
        logger.exception("Data export %s failed", export_id)
        _discard(stored)
        DataExport.objects.filter(pk=export_id, status=ExportStatus.RUNNING).update(
            status=ExportStatus.FAILED, error=str(exc)[:500] or exc.__class__.__name__
        )
        return None
    export.refresh_from_db()
    return export


# A waiting export whose task was lost is sent again after this long; one still waiting
# after EXPORT_PENDING_GIVE_UP (no worker took it) fails. A running one whose worker died
# fails after EXPORT_RUNNING_TIMEOUT (longer than the task's time limit).
EXPORT_REQUEUE_AFTER = timedelta(minutes=5)
EXPORT_PENDING_GIVE_UP = timedelta(hours=6)


def export_running_timeout() -> timedelta:
    from django.conf import settings

    limit = int(getattr(settings, "CELERY_TASK_TIME_LIMIT", 600) or 600)
    return max(timedelta(seconds=limit * 2), timedelta(minutes=30))


def data_exports_sweep(*, now: Any = None) -> dict[str, int]:
    """The periodic sweep (beat `sweep-data-exports`): exports lost between request and
    worker are sent again, exports that waited or ran far too long are marked failed, so
    that the person's next request starts a new one (the unique constraint only holds
    waiting and running exports). Returns the counts."""
    now = now or timezone.now()
    gave_up = DataExport.objects.filter(
        status=ExportStatus.PENDING, created_at__lt=now - EXPORT_PENDING_GIVE_UP
    ).update(status=ExportStatus.FAILED, error="Not started in time; ask for a new one.")
    timed_out = DataExport.objects.filter(
        status=ExportStatus.RUNNING, started_at__lt=now - export_running_timeout()
    ).update(status=ExportStatus.FAILED, error="Interrupted; ask for a new one.")
    requeued = 0
    late = DataExport.objects.filter(status=ExportStatus.PENDING).filter(
        Q(queued_at__lt=now - EXPORT_REQUEUE_AFTER)
        | Q(queued_at__isnull=True, created_at__lt=now - EXPORT_REQUEUE_AFTER)
    )
    for export in late.only("pk"):
        with transaction.atomic():
            if DataExport.objects.filter(pk=export.pk, status=ExportStatus.PENDING).update(
                queued_at=now
            ):
                _enqueue(export)
                requeued += 1
    return {"requeued": requeued, "failed": gave_up + timed_out}


def data_export_for_download(*, user: User) -> DataExport:
    """The person's latest ready export, or a clear refusal."""
    export = DataExport.objects.filter(user=user).order_by("-created_at", "-pk").first()
    if export is None:
        raise NotFoundError(_("You have not asked for an export yet."))
    if export.status in RUNNING_STATUSES:
        raise ConflictError(_("Your export is still being prepared."))
    if export.status == ExportStatus.FAILED:
        raise ConflictError(_("Your last export failed; ask for a new one."))
    if (
        export.status == ExportStatus.EXPIRED
        or not export.file
        or (export.expires_at is not None and export.expires_at <= timezone.now())
    ):
        raise ConflictError(_("Your last export has expired; ask for a new one."))
    return export


def data_export_open(*, export: DataExport) -> Any:
    """The export's file, open for reading. A file missing from storage (deleted by hand,
    lost with a volume) is an expired export: the row says so and the person is told to
    ask for a new one, instead of an error page."""
    try:
        return export.file.open("rb")
    except (FileNotFoundError, OSError):
        logger.warning("The file of data export %s is missing; marked expired", export.pk)
        DataExport.objects.filter(pk=export.pk, status=ExportStatus.READY).update(
            status=ExportStatus.EXPIRED, file=""
        )
        raise ConflictError(_("Your last export has expired; ask for a new one.")) from None


def data_exports_expire(*, now: Any = None, organization_id: int | None = None) -> int:
    """Delete the files of expired exports (the retention job). Returns how many."""
    now = now or timezone.now()
    rows = DataExport.objects.filter(status=ExportStatus.READY, expires_at__lte=now)
    if organization_id is not None:
        rows = rows.filter(organization_id=organization_id)
    count = 0
    for export in rows.only("pk", "file"):
        with transaction.atomic():
            name = export.file.name
            DataExport.objects.filter(pk=export.pk).update(status=ExportStatus.EXPIRED, file="")
            media_discard_on_commit(name)
        count += 1
    return count


# --- the ZIP -----------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


def export_collect(*, user: User) -> dict[str, list[dict[str, Any]]]:
    """Every kind of personal data the registry knows, as rows of plain values."""
    found: dict[str, list[dict[str, Any]]] = {}
    for entry in installed_entries():
        columns = [name for name, _column in entry.columns()]
        rows = entry.rows_of(user).values(*columns)
        found[entry.kind] = [_plain(row) for row in rows.iterator(chunk_size=2000)]
    return found


def _csv(rows: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    if rows:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]))
        writer.writeheader()
        for row in rows:
            writer.writerow(
                {
                    key: json.dumps(value, ensure_ascii=False)
                    if isinstance(value, dict | list)
                    else value
                    for key, value in row.items()
                }
            )
    return out.getvalue()


def _readme(user: User, counts: dict[str, int], archive: dict[str, Any]) -> str:
    settings = privacy_settings_of(user.organization)
    lines = [
        _("Everything Portevoix holds about you"),
        "",
        _("Prepared on %(date)s for %(email)s (%(organization)s).")
        % {
            "date": timezone.localtime(timezone.now(), user.zone).strftime("%Y-%m-%d %H:%M"),
            "email": user.email,
            "organization": user.organization.name if user.organization else "",
        },
        "",
        _("Each kind of data is in two files: KIND.json and KIND.csv (the same rows)."),
        "",
    ]
    for entry in installed_entries():
        what = (
            _("kept if your data is erased: %(reason)s") % {"reason": entry.reason}
            if entry.erase == KEEP
            else (str(entry.reason) or _("deleted if your data is erased"))
        )
        lines.append(f"- {entry.kind}: {entry.title} ({counts.get(entry.kind, 0)}) — {what}")
    lines += ["", _("Kept under legal retention"), ""]
    if archive["count"]:
        until = archive.get("retained_until")
        lines.append(
            _(
                "The archive of what you shared holds %(count)s records about you (in "
                "archive.json). They are kept under legal retention until %(date)s and are "
                "not erased before that date, even if you ask for your data to be erased."
            )
            % {"count": archive["count"], "date": until.isoformat() if until else "—"}
        )
    else:
        lines.append(_("The archive of what was shared holds no record about you."))
    for reason in [*LEGAL_RETENTION.values(), *EXCLUDED.values()]:
        lines.append(f"- {reason}")
    lines += [
        "",
        _("Not in this export"),
        _(
            "Your sign-in sessions (opaque identifiers, deleted when they expire or when you "
            "sign out) and your password (stored only as a one-way hash)."
        ),
        "",
        _("How long data is kept"),
        _("Raw clicks: %(days)s days.") % {"days": settings.click_retention_days},
        _("Notifications: %(days)s days.") % {"days": settings.notification_retention_days},
        _("This export: %(days)s days.") % {"days": settings.export_retention_days},
    ]
    if settings.contact_email or settings.contact_name:
        lines += [
            "",
            _("Questions: %(contact)s")
            % {
                "contact": " ".join(
                    part for part in (settings.contact_name, settings.contact_email) if part
                )
            },
        ]
    return "\n".join(lines) + "\n"


def export_write_zip(*, user: User, handle: Any) -> None:
    """Write the ZIP of `user`'s data into the open binary file `handle`."""
    data = export_collect(user=user)
    archive = archive_summary(user=user)
    with zipfile.ZipFile(handle, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
        for kind, rows in data.items():
            bundle.writestr(
                f"{kind}.json",
                json.dumps(rows, ensure_ascii=False, indent=2, cls=DjangoJSONEncoder),
            )
            bundle.writestr(f"{kind}.csv", _csv(rows))
        bundle.writestr(
            "archive.json",
            json.dumps(
                {
                    "count": archive["count"],
                    "retained_until": archive.get("retained_until"),
                    "records": archive.get("records", []),
                    "note": "Kept under legal retention until retained_until; not erasable "
                    "before that date.",
                },
                ensure_ascii=False,
                indent=2,
                cls=DjangoJSONEncoder,
            ),
        )
        with translation.override(user.language):
            counts = {kind: len(rows) for kind, rows in data.items()}
            bundle.writestr("README.txt", _readme(user, counts, archive))
