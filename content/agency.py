"""The content figure of the agency view (organizations.agency): what waits for review."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Count
from django.utils.translation import gettext_lazy as _

from content.models import Content, ContentStatus
from organizations.agency import agency_figure_register


def _waiting_for_review(ids: list[int], month_start: datetime) -> dict[int, str | int]:
    rows = (
        Content.objects.filter(organization_id__in=ids, status=ContentStatus.IN_REVIEW)
        .values("organization_id")
        .annotate(n=Count("pk"))
    )
    return {row["organization_id"]: row["n"] for row in rows}


def register() -> None:
    agency_figure_register(
        key="waiting_for_review",
        label=_("Waiting for review"),
        order=30,
        compute=_waiting_for_review,
    )
