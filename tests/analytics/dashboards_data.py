"""A small organisation with a team tree and hand-written daily rollups, for the
dashboard tests. Rollup rows are the table the dashboards read, written directly."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from analytics.models import DailyRollup
from content.models import Content, Network
from organizations.models import Organization, Role, Team, User
from tests.content.factories import ContentFactory, TopicFactory
from tests.factories import OrganizationFactory, TeamFactory, UserFactory

# The dashboards' "today" in the tests: a Wednesday, in the Paris organisation's days.
TODAY = date(2026, 3, 18)
NOW = "2026-03-18T10:00:00+01:00"


@dataclass
class World:
    organization: Organization
    sales: Team
    north: Team  # below Sales
    marketing: Team
    admin: User
    editor: User
    manager: User  # manages Sales (and so North)
    employee: User  # in North
    seller: User  # in Sales
    marketer: User  # in Marketing
    both: User  # in Sales and in Marketing
    content: Content
    other_content: Content
    other_organization: Organization
    other_team: Team
    outsider: User  # org admin of the other organisation
    outsider_employee: User
    outsider_content: Content


def rollup(
    user: User,
    content: Content,
    day: date,
    *,
    network: str = Network.LINKEDIN,
    **counts: object,
) -> DailyRollup:
    if "emv" in counts:
        counts["emv"] = Decimal(str(counts["emv"]))
    return DailyRollup.objects.create(
        organization_id=user.organization_id,
        user=user,
        content=content,
        day=day,
        network=network,
        **counts,
    )


def build_world() -> World:
    org = OrganizationFactory(name="Acme Santé", slug="acme", time_zone="Europe/Paris")
    sales = TeamFactory(organization=org, name="Sales")
    north = TeamFactory(organization=org, name="North", parent=sales)
    marketing = TeamFactory(organization=org, name="Marketing")
    admin = UserFactory(organization=org, role=Role.ORG_ADMIN, first_name="Ada", last_name="Admin")
    editor = UserFactory(organization=org, role=Role.EDITOR, first_name="Eda", last_name="Editor")
    manager = UserFactory(
        organization=org, role=Role.MANAGER, first_name="Max", last_name="Manager", teams=[sales]
    )
    sales.managers.add(manager)
    employee = UserFactory(organization=org, first_name="Nora", last_name="North", teams=[north])
    seller = UserFactory(organization=org, first_name="Sam", last_name="Seller", teams=[sales])
    marketer = UserFactory(
        organization=org, first_name="Mia", last_name="Marketer", teams=[marketing]
    )
    both = UserFactory(
        organization=org, first_name="Bea", last_name="Both", teams=[sales, marketing]
    )
    topic = TopicFactory(organization=org, name="Hiring")
    content = ContentFactory(
        organization=org, title="We are hiring", kind="link", topics=[topic], author=editor
    )
    other_content = ContentFactory(
        organization=org, title="Our new site", kind="text", author=editor
    )
    other_org = OrganizationFactory(name="Other Corp", slug="other")
    other_team = TeamFactory(organization=other_org, name="Secret team")
    outsider = UserFactory(organization=other_org, role=Role.ORG_ADMIN, teams=[other_team])
    outsider_employee = UserFactory(organization=other_org, teams=[other_team])
    outsider_content = ContentFactory(
        organization=other_org, title="Secret launch", author=outsider
    )
    return World(
        org,
        sales,
        north,
        marketing,
        admin,
        editor,
        manager,
        employee,
        seller,
        marketer,
        both,
        content,
        other_content,
        other_org,
        other_team,
        outsider,
        outsider_employee,
        outsider_content,
    )
