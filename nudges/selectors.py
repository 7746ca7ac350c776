"""Nudges' reads for the pages and the API, scoped to the caller's organisation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Count
from django.utils import timezone
from django.utils.functional import Promise

from nudges.models import NudgeDelivery, NudgeKind, NudgeOptOut, NudgeSettings
from organizations.models import User

SENT_WINDOW_DAYS = 30


@dataclass(frozen=True)
class NudgePreference:
    kind: str
    label: str | Promise
    enabled: bool  # the person's own choice
    organization_enabled: bool  # the organisation sends this kind at all


def nudge_settings_for(user: User) -> NudgeSettings:
    """The caller's organisation's settings (the defaults, unsaved, when never changed)."""
    assert user.organization_id is not None
    config = NudgeSettings.objects.filter(organization_id=user.organization_id).first()
    return config or NudgeSettings(organization_id=user.organization_id)


def nudge_preferences_of(user: User) -> tuple[NudgeSettings, list[NudgePreference]]:
    """Each kind of nudge, in priority order, with the person's choice and the
    organisation's switch: two queries."""
    config = nudge_settings_for(user)
    off = set(NudgeOptOut.objects.filter(user=user).values_list("kind", flat=True))
    return config, [
        NudgePreference(
            kind=kind.value,
            label=kind.label,
            enabled=kind.value not in off,
            organization_enabled=getattr(config, f"{kind.value}_enabled"),
        )
        for kind in NudgeKind
    ]


def nudges_sent_recently(user: User, *, days: int = SENT_WINDOW_DAYS) -> list[tuple[str, int]]:
    """(kind label, count) of the nudges the caller's organisation sent in the last `days`
    days, every kind listed: one query."""
    assert user.organization_id is not None
    counts = dict(
        NudgeDelivery.objects.filter(
            organization_id=user.organization_id,
            sent_at__gte=timezone.now() - timedelta(days=days),
        )
        .values("kind")
        .annotate(count=Count("pk"))
        .order_by()
        .values_list("kind", "count")
    )
    return [(str(kind.label), counts.get(kind.value, 0)) for kind in NudgeKind]


def profile_nudges_context(user: User) -> dict[str, object]:
    if user.organization_id is None:
        return {"nudge_rows": []}
    config, rows = nudge_preferences_of(user)
    return {"nudge_rows": rows, "nudge_cap": config.weekly_cap}
