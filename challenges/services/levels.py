"""Levels ("paliers"): the defaults, the organisation's own, where a score stands, and the
admin's edits."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils.translation import gettext as _

from challenges.models import Level
from organizations.audit import audit_record
from organizations.errors import DomainError, PermissionDeniedError
from organizations.models import Organization, User

# (threshold, English, French): the levels an organisation starts with.
DEFAULT_LEVELS: tuple[tuple[int, str, str], ...] = (
    (0, "Newcomer", "Nouvel arrivant"),
    (50, "Messenger", "Messager"),
    (150, "Relay", "Relais"),
    (400, "Ambassador", "Ambassadeur"),
    (1000, "Champion", "Champion"),
    (2500, "Legend", "Légende"),
)


def levels_default(organization_id: int) -> list[Level]:
    return [
        Level(organization_id=organization_id, threshold=t, name_en=en, name_fr=fr)
        for t, en, fr in DEFAULT_LEVELS
    ]


def levels_for(organization_id: int) -> list[Level]:
    """The organisation's levels by threshold, or the defaults when it has none."""
    levels = list(Level.objects.filter(organization_id=organization_id).order_by("threshold"))
    return levels or levels_default(organization_id)


@dataclass(frozen=True)
class LevelProgress:
    current: Level | None
    next: Level | None
    points_to_next: int
    percent: int


def level_progress(levels: list[Level], lifetime_points: int) -> LevelProgress:
    current = None
    upcoming = None
    for level in levels:
        if level.threshold <= lifetime_points:
            current = level
        elif upcoming is None:
            upcoming = level
    if upcoming is None:
        return LevelProgress(current, None, 0, 100)
    floor = current.threshold if current else 0
    span = max(upcoming.threshold - floor, 1)
    percent = max(0, min(100, (lifetime_points - floor) * 100 // span))
    return LevelProgress(current, upcoming, upcoming.threshold - lifetime_points, percent)


def levels_ensure(*, organization: Organization) -> list[Level]:
    """Write the default levels for an organisation that has none (idempotent)."""
    Level.objects.bulk_create(levels_default(organization.pk), ignore_conflicts=True)
    return levels_for(organization.pk)


def levels_replace(
    *,
    actor: User,
    rows: list[tuple[int, str, str]],
    request: HttpRequest | None = None,
) -> list[Level]:
    """Replace the organisation's levels with `rows` (threshold, English name, French name)."""
    if not actor.is_org_admin or actor.organization_id is None:
        raise PermissionDeniedError(_("Only organisation administrators can do this."))
    if not rows:
        raise DomainError(_("Keep at least one level."), field="levels")
    thresholds = [threshold for threshold, _en, _fr in rows]
    if len(set(thresholds)) != len(thresholds):
        raise DomainError(
            _("Two levels cannot start at the same number of points."), field="levels"
        )
    if min(thresholds) != 0:
        raise DomainError(_("The first level must start at 0 points."), field="levels")
    for threshold, name_en, name_fr in rows:
        if threshold < 0 or not name_en.strip() or not name_fr.strip():
            raise DomainError(
                _("Each level needs a threshold of 0 or more and a name in both languages."),
                field="levels",
            )
    try:
        with transaction.atomic():
            Level.objects.filter(organization_id=actor.organization_id).delete()
            Level.objects.bulk_create(
                [
                    Level(
                        organization_id=actor.organization_id,
                        threshold=threshold,
                        name_en=name_en.strip()[:60],
                        name_fr=name_fr.strip()[:60],
                    )
                    for threshold, name_en, name_fr in sorted(rows)
                ]
            )
            audit_record(
                action="points.levels_changed",
                organization=actor.organization,
                actor=actor,
                request=request,
                details={"levels": [[t, en, fr] for t, en, fr in sorted(rows)]},
            )
    except IntegrityError:
        raise DomainError(
            _("Two levels cannot start at the same number of points."), field="levels"
        ) from None
    return levels_for(actor.organization_id)
