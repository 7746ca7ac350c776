"""The advocacy figures of the agency view (organizations.agency): adoption and shares
this month, for every organisation of the list at once."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Count
from django.utils.translation import gettext_lazy as _

from advocacy.models import Share, ShareStatus
from organizations.agency import agency_figure_register
from organizations.models import Membership, User

ADOPTION_DAYS = 30


def _shares_this_month(ids: list[int], month_start: datetime) -> dict[int, str | int]:
    rows = (
        Share.objects.filter(
            organization_id__in=ids,
            status=ShareStatus.PUBLISHED,
            published_at__gte=month_start,
        )
        .values("organization_id")
        .annotate(n=Count("pk"))
    )
    return {row["organization_id"]: row["n"] for row in rows}


def _adoption(ids: list[int], month_start: datetime) -> dict[int, str | int]:
    """Active people who published a share in the last 30 days, out of the active people
    (those whose home it is and those who belong through a membership)."""
    from django.utils import timezone

    since = timezone.now() - timedelta(days=ADOPTION_DAYS)
    people: dict[int, int] = {}
    for row in (
        User.objects.filter(organization_id__in=ids, is_active=True)
        .values("organization_id")
        .annotate(n=Count("pk"))
    ):
        people[row["organization_id"]] = row["n"]
    for row in (
        Membership.objects.filter(organization_id__in=ids, user__is_active=True)
        .values("organization_id")
        .annotate(n=Count("pk"))
    ):
        people[row["organization_id"]] = people.get(row["organization_id"], 0) + row["n"]
    sharers = {
        row["organization_id"]: row["n"]
        for row in Share.objects.filter(
            organization_id__in=ids, status=ShareStatus.PUBLISHED, published_at__gte=since
        )
        .values("organization_id")
        .annotate(n=Count("user_id", distinct=True))
    }
    return {
        org_id: f"{round(100 * sharers.get(org_id, 0) / people[org_id])} %"
        if people.get(org_id)
        else "—"
        for org_id in ids
    }


def register() -> None:
    agency_figure_register(
        key="adoption", label=_("Adoption (30 days)"), order=10, compute=_adoption
    )
    agency_figure_register(
        key="shares_this_month",
        label=_("Shares this month"),
        order=20,
        compute=_shares_this_month,
    )
