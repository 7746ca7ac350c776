"""Reads of the archive, always scoped to the caller's organisation; only compliance
officers read it (`archive_reader`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.http import Http404
from django.utils.translation import gettext as _

from archive.chain import payload_of
from archive.models import (
    RETENTION_DEFAULT_YEARS,
    ArchivedShare,
    ArchiveEvent,
    ArchiveExport,
    ArchivePolicy,
)
from organizations.errors import PermissionDeniedError
from organizations.models import User


def archive_reader(user: User) -> int:
    """The organisation whose archive the caller may read; refused to anyone but its
    compliance officers."""
    if not user.is_authenticated or not user.is_compliance_officer or not user.organization_id:
        raise PermissionDeniedError(_("Only a compliance officer can read the archive."))
    return user.organization_id


@dataclass(frozen=True)
class ArchiveFilters:
    person: str = ""
    date_from: date | None = None
    date_to: date | None = None
    network: str = ""
    content: str = ""
    words: str = ""


def _day_start(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time.min, zone)


def archive_search(user: User, filters: ArchiveFilters) -> QuerySet[ArchivedShare]:
    """The organisation's archived shares, newest first, with their latest event."""
    organization_id = archive_reader(user)
    organization = user.organization
    assert organization is not None  # archive_reader checked
    zone = ZoneInfo(organization.time_zone)
    rows = ArchivedShare.objects.filter(organization_id=organization_id)
    if filters.person:
        term = filters.person.strip()
        person = Q(person_name__icontains=term) | Q(person_email__icontains=term)
        if term.isdecimal():
            person |= Q(person_id=int(term))
        rows = rows.filter(person)
    if filters.date_from:
        rows = rows.filter(left_at__gte=_day_start(filters.date_from, zone))
    if filters.date_to:
        rows = rows.filter(left_at__lt=_day_start(filters.date_to + timedelta(days=1), zone))
    if filters.network:
        rows = rows.filter(network=filters.network)
    if filters.content:
        term = filters.content.strip()
        content = Q(content_title__icontains=term)
        if term.isdecimal():
            content |= Q(content_id=int(term))
        rows = rows.filter(content)
    for word in filters.words.split()[:10]:
        rows = rows.filter(text__icontains=word)
    return _with_latest_event(rows).order_by("-left_at", "-sequence")


def _with_latest_event(rows: QuerySet[ArchivedShare]) -> QuerySet[ArchivedShare]:
    latest = ArchiveEvent.objects.filter(record=OuterRef("pk")).order_by("-sequence")
    return rows.annotate(latest_event=Subquery(latest.values("kind")[:1]))


def archived_share_for(user: User, pk: int) -> ArchivedShare:
    """One record of the caller's organisation (another organisation's is a 404)."""
    organization_id = archive_reader(user)
    record = _with_latest_event(
        ArchivedShare.objects.filter(organization_id=organization_id, pk=pk)
    ).first()
    if record is None:
        raise Http404
    return record


def events_of(record: ArchivedShare) -> list[ArchiveEvent]:
    return list(ArchiveEvent.objects.filter(record=record).order_by("sequence"))


def archive_exports(user: User) -> QuerySet[ArchiveExport]:
    organization_id = archive_reader(user)
    return (
        ArchiveExport.objects.filter(organization_id=organization_id)
        .defer("file")
        .order_by("-created_at", "-pk")
    )


def archive_export_for(user: User, pk: int, *, with_file: bool = False) -> ArchiveExport:
    exports = ArchiveExport.objects.filter(organization_id=archive_reader(user), pk=pk)
    export = (exports if with_file else exports.defer("file")).first()
    if export is None:
        raise Http404
    return export


def archive_policy_of(organization_id: int) -> ArchivePolicy:
    policy = ArchivePolicy.objects.filter(organization_id=organization_id).first()
    return policy or ArchivePolicy(
        organization_id=organization_id, retention_years=RETENTION_DEFAULT_YEARS
    )


def archive_counts(organization_id: int) -> dict[str, Any]:
    rows = ArchivedShare.objects.filter(organization_id=organization_id)
    oldest = rows.order_by("archived_at").values_list("archived_at", flat=True).first()
    return {"records": rows.count(), "oldest": oldest}


def person_archive_summary(*, user: User) -> dict[str, Any]:
    """What the archive keeps under a person's name, for their personal-data export. The
    archive is not erased with the person: legal retention keeps the name and the text
    until each record's `retain_until`."""
    records = list(
        ArchivedShare.objects.filter(person_id=user.pk).order_by("archived_at", "sequence")
    )
    events: dict[int, list[dict[str, Any]]] = {}
    for event in ArchiveEvent.objects.filter(record__in=[r.pk for r in records]).order_by(
        "sequence"
    ):
        events.setdefault(event.record_id, []).append(payload_of(event))
    return {
        "count": len(records),
        "retained_until": max((r.retain_until for r in records), default=None),
        "records": [
            {**payload_of(record), "events": events.get(record.pk, [])} for record in records
        ],
    }
