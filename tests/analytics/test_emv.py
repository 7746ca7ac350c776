"""Earned media value: the formula, the stand-in of potential reach, the organisation's
rates (defaults, validation, permission, audit) and their use by the rollups."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine

from advocacy.models import ShareMode
from analytics.models import AnalyticsSettings, DailyRollup
from analytics.services.rollups import emv_compute, rollups_fill
from analytics.services.settings import analytics_settings_get, analytics_settings_update
from organizations.errors import DomainError, PermissionDeniedError
from organizations.models import AuditLogEntry
from tests.analytics.conftest import make_click, make_share, make_snapshot
from tests.content.factories import ContentFactory

pytestmark = pytest.mark.django_db

DAY = datetime(2026, 6, 2, 9, 0, tzinfo=UTC)


def test_formula():
    # 30 € per thousand impressions, 1.50 € per click.
    assert emv_compute(
        cpm=Decimal("30"), cpc=Decimal("1.50"), impressions=2500, clicks=4
    ) == Decimal("81.00")
    assert emv_compute(
        cpm=Decimal("6"), cpc=Decimal("1.50"), impressions=0, clicks=0, stand_in=777
    ) == Decimal("4.66")  # 4.662, rounded to the cent
    assert emv_compute(cpm=Decimal("9"), cpc=Decimal("0"), impressions=0, clicks=0) == 0


def test_defaults(personas):
    rates = analytics_settings_get(organization_id=personas.organization.pk)
    assert (rates.currency, rates.cpc) == ("EUR", Decimal("1.50"))
    assert (rates.cpm_linkedin, rates.cpm_x, rates.cpm_facebook) == (
        Decimal("30.00"),
        Decimal("6.00"),
        Decimal("9.00"),
    )
    assert rates.cpm_for("x") == Decimal("6.00")
    assert analytics_settings_get(organization_id=personas.organization.pk).pk == rates.pk


def test_update_is_audited(personas):
    rates = analytics_settings_update(
        organization=personas.organization,
        actor=personas.owner,
        cpc="2,10",
        cpm_x="7.5",
        currency="chf",
    )
    assert (rates.cpc, rates.cpm_x, rates.currency) == (Decimal("2.10"), Decimal("7.50"), "CHF")
    entry = AuditLogEntry.objects.get(action="analytics.settings_updated")
    assert entry.organization == personas.organization and entry.actor == personas.owner
    assert entry.details["before"]["cpc"] == "1.50"
    assert entry.details["after"]["cpc"] == "2.10"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"cpc": "-1"}, "cpc"),
        ({"cpm_linkedin": "abc"}, "cpm_linkedin"),
        ({"cpm_x": "1.234"}, "cpm_x"),
        ({"cpm_facebook": "10000000"}, "cpm_facebook"),
        ({"currency": "euro"}, "currency"),
        ({"cpm_tiktok": "3"}, "cpm_tiktok"),
        ({"cpc": "NaN"}, "cpc"),
    ],
)
def test_bad_rates_name_the_field_and_change_nothing(personas, change, field):
    with pytest.raises(DomainError) as raised:
        analytics_settings_update(
            organization=personas.organization,
            actor=personas.owner,
            **{"cpm_x": "8", **change},  # a good value next to the bad one
        )
    assert raised.value.field == field
    rates = analytics_settings_get(organization_id=personas.organization.pk)
    assert rates.cpm_x == Decimal("6.00")
    assert not AuditLogEntry.objects.filter(action="analytics.settings_updated").exists()


def test_only_admins_of_the_organisation_change_rates(personas):
    for actor in (personas.teammate, personas.outsider):
        with pytest.raises(PermissionDeniedError):
            analytics_settings_update(organization=personas.organization, actor=actor, cpc="3")
    assert not AnalyticsSettings.objects.filter(cpc=Decimal("3")).exists()


def test_rollup_emv_uses_impressions_or_reach_in_their_place(personas):
    organization, user = personas.organization, personas.teammate
    analytics_settings_update(organization=organization, actor=personas.owner, cpc="2")
    content = ContentFactory(organization=organization)
    with time_machine.travel(DAY + timedelta(days=3), tick=False):
        measured = make_share(user=user, content=content, published_at=DAY, followers=900)
        make_snapshot(measured, at=DAY + timedelta(hours=1), impressions=1500, reactions=12)
        make_click(measured, at=DAY + timedelta(hours=2), visitor="a")
        make_click(measured, at=DAY + timedelta(hours=3), visitor="a")
        make_click(measured, at=DAY + timedelta(hours=3), visitor="me", is_self=True)
        # Polled, but the network gives no impressions.
        blind = make_share(user=user, content=content, network="x", published_at=DAY, followers=400)
        make_snapshot(blind, at=DAY + timedelta(hours=1), impressions=None, reactions=3)
        # A share link on Facebook, no account there: no reach known.
        link = make_share(
            user=user,
            content=content,
            network="facebook",
            mode=ShareMode.LINK,
            published_at=DAY,
        )
        make_click(link, at=DAY + timedelta(hours=5), visitor="b")
    with time_machine.travel(DAY + timedelta(days=3, minutes=10), tick=False):
        rollups_fill(organization_id=organization.pk)
    rows = {
        row.network: row
        for row in DailyRollup.objects.filter(organization=organization, day=date(2026, 6, 2))
    }
    linkedin, x, facebook = rows["linkedin"], rows["x"], rows["facebook"]
    assert (linkedin.impressions, linkedin.clicks, linkedin.unique_clicks) == (1500, 2, 1)
    assert not linkedin.reach_stands_in and linkedin.potential_reach == 900
    assert linkedin.emv == Decimal("30") * 1500 / 1000 + 2 * 2  # 49.00
    assert x.reach_stands_in and (x.impressions, x.potential_reach, x.reactions) == (0, 400, 3)
    assert x.emv == Decimal("2.40")  # 6 € × 400 / 1000
    assert facebook.reach_stands_in and facebook.potential_reach == 0
    assert (facebook.link_confirmations, facebook.clicks, facebook.emv) == (1, 1, Decimal("2.00"))
