"""The rollups equal a recomputation from the raw events (property-based, over generated
shares, clicks and snapshots across day boundaries in the organisation's time zone);
re-running changes nothing; a late event re-fills exactly its bucket; an interrupted pass
resumes where it stopped."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from advocacy.models import Click, Share, ShareMode
from analytics.models import DailyRollup, FillState, MetricPoll, MetricSnapshot
from analytics.services import rollups
from analytics.services.rollups import emv_compute, rollups_fill
from analytics.services.settings import analytics_settings_get
from organizations.models import Role
from tests.analytics.conftest import make_click, make_share, make_snapshot
from tests.content.factories import ContentFactory
from tests.factories import OrganizationFactory, UserFactory

pytestmark = pytest.mark.django_db

START = datetime(2026, 3, 1, 0, 0, tzinfo=UTC)  # weeks before the spring DST change
NOW = START + timedelta(days=32)
FIELDS = ("impressions", "reactions", "comments", "reshares")


# --- the reference: rollups recomputed naively from every raw event -----------------------


def recompute(organization) -> dict[tuple, dict]:
    zone = ZoneInfo(organization.time_zone)
    rates = analytics_settings_get(organization_id=organization.pk)
    rows: dict[tuple, dict] = defaultdict(
        lambda: {
            "shares": 0,
            "link_confirmations": 0,
            "clicks": 0,
            "visitors": set(),
            **dict.fromkeys(FIELDS, 0),
            "potential_reach": 0,
            "stand_in": 0,
            "reach_stands_in": False,
        }
    )
    shares = list(Share.objects.filter(organization=organization, published_at__isnull=False))
    snapshots = defaultdict(list)
    for snapshot in MetricSnapshot.objects.filter(organization=organization):
        snapshots[snapshot.share_id].append(snapshot)
    followers = dict(
        MetricPoll.objects.filter(organization=organization).values_list("share_id", "followers")
    )
    by_share = {share.pk: share for share in shares}
    for share in shares:
        key = (share.published_at.astimezone(zone).date(), share.user_id, share.content_id)
        row = rows[(*key, share.network)]
        if share.mode == ShareMode.API:
            row["shares"] += 1
            reach = followers.get(share.pk) or 0
            known = any(s.impressions is not None for s in snapshots[share.pk])
        else:
            row["link_confirmations"] += 1
            earlier = sorted(
                (other.published_at, other.pk)
                for other in shares
                if other.mode == ShareMode.API
                and other.user_id == share.user_id
                and other.network == share.network
                and other.published_at <= share.published_at
                and followers.get(other.pk) is not None
            )
            reach = followers[earlier[-1][1]] if earlier else 0
            known = False
        row["potential_reach"] += reach
        if not known:
            row["stand_in"] += reach
            row["reach_stands_in"] = True
    for click in Click.objects.filter(organization=organization, is_self=False):
        day = click.clicked_at.astimezone(zone).date()
        row = rows[(day, click.sharer_id, click.content_id, click.network)]
        row["clicks"] += 1
        row["visitors"].add(click.visitor)
    for share_id, taken in snapshots.items():
        share = Share.objects.get(pk=share_id) if share_id not in by_share else by_share[share_id]
        taken.sort(key=lambda s: s.fetched_at)
        days = sorted({s.fetched_at.astimezone(zone).date() for s in taken})
        for day in days:
            for field in FIELDS:
                before = [
                    getattr(s, field)
                    for s in taken
                    if s.fetched_at.astimezone(zone).date() < day and getattr(s, field) is not None
                ]
                upto = [
                    getattr(s, field)
                    for s in taken
                    if s.fetched_at.astimezone(zone).date() <= day and getattr(s, field) is not None
                ]
                if upto:
                    key = (day, share.user_id, share.content_id, share.network)
                    rows[key][field] += max(upto) - max(before, default=0)
    result = {}
    for (day, user, content, network), row in rows.items():
        if not any(row[name] for name in ("shares", "link_confirmations", "clicks", *FIELDS)):
            continue
        cpm = rates.cpm_for(network)
        result[(day, user, content, network)] = {
            "shares": row["shares"],
            "link_confirmations": row["link_confirmations"],
            "clicks": row["clicks"],
            "unique_clicks": len(row["visitors"]),
            **{field: row[field] for field in FIELDS},
            "potential_reach": row["potential_reach"],
            "reach_stands_in": row["reach_stands_in"],
            "emv": (
                cpm * (row["impressions"] + row["stand_in"]) / 1000 + rates.cpc * row["clicks"]
            ).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP),
        }
    return result


def stored(organization) -> dict[tuple, dict]:
    return {
        (r.day, r.user_id, r.content_id, r.network): {
            "shares": r.shares,
            "link_confirmations": r.link_confirmations,
            "clicks": r.clicks,
            "unique_clicks": r.unique_clicks,
            **{field: getattr(r, field) for field in FIELDS},
            "potential_reach": r.potential_reach,
            "reach_stands_in": r.reach_stands_in,
            "emv": r.emv,
        }
        for r in DailyRollup.objects.filter(organization=organization)
    }


# --- generated histories ------------------------------------------------------------------

minutes = st.integers(min_value=0, max_value=20 * 24 * 60)
share_spec = st.fixed_dictionaries(
    {
        "user": st.integers(0, 2),
        "content": st.integers(0, 2),
        "network": st.sampled_from(["linkedin", "x", "facebook"]),
        "api": st.booleans(),
        "at": minutes,
        "followers": st.one_of(st.none(), st.integers(0, 5000)),
        "clicks": st.lists(
            st.tuples(st.integers(0, 3 * 24 * 60), st.integers(0, 4), st.booleans()),
            max_size=6,
        ),
        "snapshots": st.lists(
            st.tuples(
                st.integers(0, 10 * 24 * 60),
                st.one_of(st.none(), st.integers(0, 5000)),
                st.integers(0, 300),
            ),
            max_size=5,
        ),
    }
)


def build(organization, specs: list[dict]) -> None:
    users = [UserFactory(organization=organization, role=Role.EMPLOYEE) for _ in range(3)]
    contents = [ContentFactory(organization=organization) for _ in range(3)]
    for spec in specs:
        user, content = users[spec["user"]], contents[spec["content"]]
        api = spec["api"] and spec["network"] != "facebook"
        published = START + timedelta(minutes=spec["at"])
        if Share.objects.filter(
            user=user, content=content, network=spec["network"], status="published"
        ).exists():
            continue  # one live share per person, content and network
        share = make_share(
            user=user,
            content=content,
            network=spec["network"],
            mode=ShareMode.API if api else ShareMode.LINK,
            published_at=published,
            followers=spec["followers"],
        )
        for offset, visitor, is_self in spec["clicks"]:
            make_click(
                share,
                at=published + timedelta(minutes=offset),
                visitor=f"v{visitor}",
                is_self=is_self,
            )
        if api:
            for offset, impressions, reactions in spec["snapshots"]:
                make_snapshot(
                    share,
                    at=published + timedelta(minutes=offset),
                    impressions=impressions,
                    reactions=reactions,
                    comments=reactions // 7,
                    reshares=None,
                )


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    specs=st.lists(share_spec, min_size=1, max_size=6),
    zone=st.sampled_from(["Europe/Paris", "America/New_York", "Asia/Tokyo", "UTC"]),
)
def test_rollups_equal_a_recomputation_from_raw_events(db, specs, zone):
    organization = OrganizationFactory(time_zone=zone)
    with time_machine.travel(NOW, tick=False):
        build(organization, specs)
    # The fill trails the clock by a few minutes (events stamped just before it may still
    # be committing): fill once everything is older than that.
    with time_machine.travel(NOW + timedelta(minutes=10), tick=False):
        filled = rollups_fill(organization_id=organization.pk)
    assert stored(organization) == recompute(organization)
    assert filled >= len({r[0] for r in stored(organization)})
    before = list(DailyRollup.objects.filter(organization=organization).values())
    # Re-running with nothing new rebuilds nothing and changes nothing.
    with time_machine.travel(NOW + timedelta(hours=1), tick=False):
        assert rollups_fill(organization_id=organization.pk) == 0
    assert list(DailyRollup.objects.filter(organization=organization).values()) == before
    # A rebuild recomputes every day and ends with the same numbers.
    with time_machine.travel(NOW + timedelta(hours=2), tick=False):
        rollups_fill(organization_id=organization.pk, rebuild=True)
    assert stored(organization) == recompute(organization)


# --- late events ----------------------------------------------------------------------------


@pytest.fixture
def history(db):
    """An organisation in Paris with one API share and one share link, filled once."""
    organization = OrganizationFactory(time_zone="Europe/Paris")
    user = UserFactory(organization=organization)
    content = ContentFactory(organization=organization)
    with time_machine.travel(START + timedelta(days=10), tick=False):
        api = make_share(
            user=user, content=content, published_at=START + timedelta(hours=9), followers=800
        )
        link = make_share(
            user=user,
            content=content,
            network="x",
            mode=ShareMode.LINK,
            published_at=START + timedelta(days=2, hours=9),
        )
        make_snapshot(api, at=START + timedelta(hours=10), impressions=100, reactions=4)
        make_snapshot(api, at=START + timedelta(days=1, hours=10), impressions=300, reactions=9)
        make_click(api, at=START + timedelta(hours=12))
        make_click(link, at=START + timedelta(days=3, hours=12))
    with time_machine.travel(START + timedelta(days=10, minutes=10), tick=False):
        rollups_fill(organization_id=organization.pk)
    return organization, api, link


def pks_by_day(organization) -> dict[date, set[int]]:
    found: dict[date, set[int]] = defaultdict(set)
    for pk, day in DailyRollup.objects.filter(organization=organization).values_list("pk", "day"):
        found[day].add(pk)
    return found


def test_a_late_click_refills_only_its_bucket(history):
    organization, api, _link = history
    before = pks_by_day(organization)
    late_at = START + timedelta(days=10, hours=1)
    with time_machine.travel(late_at, tick=False):
        # Drained late: clicked on day 3, recorded now, after the watermark.
        make_click(api, at=START + timedelta(days=3, hours=8), visitor="late")
    with time_machine.travel(late_at + timedelta(minutes=10), tick=False):
        assert rollups_fill(organization_id=organization.pk) == 1
    after = pks_by_day(organization)
    day = date(2026, 3, 4)
    assert after[day] != before[day]
    assert {d: p for d, p in after.items() if d != day} == {
        d: p for d, p in before.items() if d != day
    }
    row = DailyRollup.objects.get(organization=organization, day=day, network="linkedin")
    assert (row.clicks, row.unique_clicks) == (1, 1)
    assert stored(organization) == recompute(organization)
    # Again: nothing new, nothing rebuilt.
    with time_machine.travel(late_at + timedelta(minutes=20), tick=False):
        assert rollups_fill(organization_id=organization.pk) == 0


def test_a_late_event_lands_on_the_organisation_day(history):
    organization, api, _link = history
    # 23:30 UTC on 5 March is 00:30 on 6 March in Paris.
    clicked = datetime(2026, 3, 5, 23, 30, tzinfo=UTC)
    with time_machine.travel(START + timedelta(days=11), tick=False):
        make_click(api, at=clicked, visitor="midnight")
    with time_machine.travel(START + timedelta(days=11, minutes=10), tick=False):
        assert rollups_fill(organization_id=organization.pk) == 1
    row = DailyRollup.objects.get(organization=organization, day=date(2026, 3, 6))
    assert row.clicks == 1
    assert not DailyRollup.objects.filter(organization=organization, day=date(2026, 3, 5)).exists()


def test_a_late_first_snapshot_refills_reach_and_stand_in(history):
    organization, api, _link = history
    user = api.user
    with time_machine.travel(START + timedelta(days=12), tick=False):
        # An X share (of another content) posted for the employee on day 1; its first
        # poll comes late.
        x_share = make_share(
            user=user,
            content=ContentFactory(organization=organization),
            network="x",
            published_at=START + timedelta(days=1, hours=8),
        )
        # The share-link on X (day 2) now takes its reach from the X account.
        MetricPoll.objects.filter(share=x_share).update(followers=450)
        make_snapshot(x_share, at=START + timedelta(days=11), impressions=None, followers=450)
    with time_machine.travel(START + timedelta(days=12, minutes=10), tick=False):
        filled = rollups_fill(organization_id=organization.pk)
    assert filled >= 2
    assert stored(organization) == recompute(organization)
    link_row = DailyRollup.objects.get(organization=organization, day=date(2026, 3, 3), network="x")
    assert link_row.link_confirmations == 1
    assert link_row.potential_reach == 450 and link_row.reach_stands_in
    rates = analytics_settings_get(organization_id=organization.pk)
    assert link_row.emv == emv_compute(
        cpm=rates.cpm_x, cpc=rates.cpc, impressions=0, clicks=0, stand_in=450
    )


def test_an_interrupted_pass_resumes_at_the_next_chunk(history, monkeypatch):
    organization, api, _link = history
    calls: list[list[date]] = []
    real = rollups._fill_days

    def failing(organization, zone, days, rates):
        calls.append(days)
        if len(calls) == 2:
            raise RuntimeError("worker killed")
        return real(organization, zone, days, rates)

    with time_machine.travel(START + timedelta(days=20), tick=False):
        for offset in range(6):
            make_click(api, at=START + timedelta(days=4 + offset, hours=10), visitor=f"r{offset}")
    monkeypatch.setattr(rollups, "CHUNK_DAYS", 2)
    monkeypatch.setattr(rollups, "_fill_days", failing)
    with (
        time_machine.travel(START + timedelta(days=20, minutes=10), tick=False),
        pytest.raises(RuntimeError),
    ):
        rollups_fill(organization_id=organization.pk)
    watermark = FillState.objects.get(name=f"rollups:{organization.pk}").watermark
    assert watermark < START + timedelta(days=20)  # not moved: the pass is unfinished
    assert FillState.objects.filter(name=f"rollups:{organization.pk}:done").exists()
    assert DailyRollup.objects.filter(organization=organization, day=date(2026, 3, 6)).exists()
    assert not DailyRollup.objects.filter(organization=organization, day=date(2026, 3, 7)).exists()

    calls.clear()
    monkeypatch.setattr(rollups, "_fill_days", lambda *a: (calls.append(a[2]), real(*a))[1])
    with time_machine.travel(START + timedelta(days=20, minutes=20), tick=False):
        assert rollups_fill(organization_id=organization.pk) == 4
    # The days written before the interruption are not written again.
    assert calls == [
        [date(2026, 3, 7), date(2026, 3, 8)],
        [date(2026, 3, 9), date(2026, 3, 10)],
    ]
    assert stored(organization) == recompute(organization)
    assert FillState.objects.get(name=f"rollups:{organization.pk}").watermark > watermark
    assert not FillState.objects.filter(name__startswith=f"rollups:{organization.pk}:").exists()


def test_fill_covers_every_organisation_and_keeps_them_apart(history):
    organization, api, _link = history
    other = OrganizationFactory(time_zone="Asia/Tokyo")
    with time_machine.travel(START + timedelta(days=10, hours=1), tick=False):
        share = make_share(
            user=UserFactory(organization=other),
            content=ContentFactory(organization=other),
            published_at=START + timedelta(days=1),
            followers=50,
        )
        make_click(share, at=START + timedelta(days=1, hours=2))
    with time_machine.travel(START + timedelta(days=10, hours=2), tick=False):
        # The new organisation's first fill: its one day (2 March in Tokyo); nothing new
        # in the other one.
        assert rollups_fill() == 1
    assert stored(other) == recompute(other)
    assert stored(organization) == recompute(organization)
    assert not DailyRollup.objects.filter(organization=other, user=api.user).exists()


def _fill_queries(pairs: int) -> int:
    organization = OrganizationFactory(time_zone="Europe/Paris")
    users = [UserFactory(organization=organization) for _ in range(4)]
    contents = [ContentFactory(organization=organization) for _ in range(5)]
    combos = [(user, content) for user in users for content in contents][:pairs]
    with time_machine.travel(START + timedelta(days=30), tick=False):
        for index, (user, content) in enumerate(combos):
            at = START + timedelta(days=index * 20 // pairs, hours=9)
            share = make_share(user=user, content=content, published_at=at, followers=100)
            make_snapshot(share, at=at + timedelta(hours=1), impressions=50, reactions=2)
            make_snapshot(share, at=at + timedelta(days=1), impressions=90, reactions=3)
            for minute in range(3):
                make_click(share, at=at + timedelta(minutes=minute), visitor=f"v{minute}")
            make_share(
                user=user,
                content=content,
                network="facebook",
                mode=ShareMode.LINK,
                published_at=at + timedelta(hours=2),
            )
    with (
        time_machine.travel(START + timedelta(days=30, minutes=10), tick=False),
        CaptureQueriesContext(connection) as queries,
    ):
        rollups_fill(organization_id=organization.pk)
    assert stored(organization) == recompute(organization)
    return len(queries)


def test_fill_queries_do_not_grow_with_events(db):
    """One query per source for a run of days, whatever the number of events and days."""
    assert _fill_queries(2) == _fill_queries(20)
