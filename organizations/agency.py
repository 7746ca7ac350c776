"""The agency view: a person who is an admin or editor in several organisations (an agency
running programmes for client companies) sees each one's figures side by side.

The figures come from the apps above this one (shares, content waiting for review),
registered in their AppConfig.ready(), so that this app never imports them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone
from django.utils.functional import Promise

from organizations.memberships import OrganizationChoice, organizations_of
from organizations.models import Role, User

# Roles that run a programme: the agency view lists the organisations where one has them.
AGENCY_ROLES = (Role.ORG_ADMIN, Role.EDITOR)


@dataclass(frozen=True)
class AgencyFigure:
    key: str
    label: str | Promise
    order: int
    # (organisation ids, start of the current month) → {organisation id: shown value}; one
    # query for all the organisations, whatever their number.
    compute: Callable[[list[int], datetime], dict[int, str | int]]


_figures: dict[str, AgencyFigure] = {}


def agency_figure_register(
    *,
    key: str,
    label: str | Promise,
    order: int,
    compute: Callable[[list[int], datetime], dict[int, str | int]],
) -> None:
    _figures[key] = AgencyFigure(key, label, order, compute)


def agency_figures() -> list[AgencyFigure]:
    return sorted(_figures.values(), key=lambda figure: figure.order)


@dataclass(frozen=True)
class AgencyRow:
    choice: OrganizationChoice
    cells: list[tuple[AgencyFigure, str | int]]


def agency_organizations(user: User) -> list[OrganizationChoice]:
    """The organisations where the person is an admin or editor."""
    return [choice for choice in organizations_of(user) if choice.role in AGENCY_ROLES]


def agency_rows(user: User, *, now: datetime | None = None) -> list[AgencyRow]:
    choices = agency_organizations(user)
    if not choices:
        return []
    now = now or timezone.now()
    month_start = timezone.localtime(now).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    ids = [choice.organization.pk for choice in choices]
    computed = [(figure, figure.compute(ids, month_start)) for figure in agency_figures()]
    return [
        AgencyRow(
            choice,
            [(figure, values.get(choice.organization.pk, 0)) for figure, values in computed],
        )
        for choice in choices
    ]
