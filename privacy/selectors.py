"""Reads of the privacy app, scoped to the caller's organisation."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.http import Http404

from organizations.models import Organization, Role, User
from privacy.archive_link import archive_count
from privacy.models import DataExport, Participation, PrivacySettings


def privacy_settings_of(organization: Organization | None) -> PrivacySettings:
    """The organisation's settings, or the defaults (unsaved) when it has none."""
    if organization is None:
        return PrivacySettings()
    found = PrivacySettings.objects.filter(organization=organization).first()
    return found or PrivacySettings(organization=organization)


def data_export_latest(*, user: User) -> DataExport | None:
    return DataExport.objects.filter(user=user).order_by("-created_at", "-pk").first()


def participation_of(*, user: User) -> Participation | None:
    return Participation.objects.filter(user=user).first()


def member_to_erase(*, actor: User, pk: int) -> User:
    """A person of the actor's organisation that the actor (an org admin) may erase; 404
    for anyone else, whatever the reason (another organisation, no such person)."""
    if not actor.is_org_admin or actor.organization_id is None:
        raise Http404
    member = User.objects.filter(organization_id=actor.organization_id, pk=pk).first()
    if member is None:
        raise Http404
    return member


def other_active_admins(*, user: User) -> int:
    return (
        User.objects.filter(organization=user.organization, role=Role.ORG_ADMIN, is_active=True)
        .exclude(pk=user.pk)
        .count()
    )


@dataclass(frozen=True)
class ErasurePreview:
    member: User
    archive: dict[str, Any]
    counts: dict[str, int]


def erasure_preview(*, member: User) -> ErasurePreview:
    """What erasing `member` touches, for the confirmation page."""
    from privacy.registry import installed_entries

    counts = {}
    for entry in installed_entries():
        if entry.model in ("challenges.PointEntry", "advocacy.Share", "advocacy.Click"):
            counts[entry.model] = entry.rows_of(member).count()
    return ErasurePreview(member, archive_count(user=member), counts)
