"""Each challenge metric and scope computed from the raw rows: shares, clicks (not the
sharer's own), points (not the challenge's own bonus), accepted suggestions; contents,
topics, hashtag and network; period bounds in the organisation's time zone; the audience
with its sub-teams; team mode normalised per member; ranking ties and hidden users."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from advocacy.models import ActivityKind
from challenges import campaign_metrics as metrics
from challenges import campaign_selectors as selectors
from challenges.models import ChallengeMetric, ChallengeMode, Score
from challenges.services.points import points_hide_from_rankings
from content.models import Network, SuggestionStatus
from organizations.models import Role
from tests.challenges.challenge_factories import give_points, make_challenge
from tests.challenges.conftest import click, make_share, publish
from tests.content.factories import ContentFactory, SuggestionFactory, TopicFactory
from tests.factories import TeamFactory, UserFactory

pytestmark = pytest.mark.django_db
PARIS = ZoneInfo("Europe/Paris")


def values(challenge) -> dict[int, int]:
    scope = metrics.scope_content_ids([challenge])[challenge.pk]
    return metrics.values_by_user(challenge, scope)


def test_shares_count_published_and_confirmed_links_once_each(personas):
    org, me = personas.organization, personas.teammate
    challenge = make_challenge(org, metric=ChallengeMetric.SHARES)
    publish(make_share(me))
    publish(make_share(me), kind=ActivityKind.SHARE_LINK_CONFIRMED)
    outside = make_share(me, at=challenge.starts_at - timedelta(minutes=1))
    publish(outside)
    publish(make_share(personas.owner))
    # The outsider's share is another organisation's row: never counted here.
    publish(make_share(personas.outsider))
    assert values(challenge) == {me.pk: 2, personas.owner.pk: 1}


def test_clicks_leave_out_the_sharers_own(personas):
    org, me = personas.organization, personas.teammate
    challenge = make_challenge(org, metric=ChallengeMetric.CLICKS)
    share = make_share(me)
    click(share)
    click(share)
    click(share, is_self=True)
    assert values(challenge) == {me.pk: 2}


def test_points_exclude_the_challenges_own_bonus_but_not_others(personas):
    org, me = personas.organization, personas.teammate
    challenge = make_challenge(org, metric=ChallengeMetric.POINTS)
    give_points(me, 30, key="gift-1")
    give_points(me, 5, key=f"{metrics.bonus_key_prefix(challenge.pk)}bonus:{me.pk}")
    give_points(me, 7, key=f"{metrics.bonus_key_prefix(challenge.pk + 1000)}bonus:{me.pk}")
    give_points(me, 100, key="too-early", at=challenge.starts_at - timedelta(seconds=1))
    assert values(challenge) == {me.pk: 37}


def test_suggestions_accepted_in_the_period(personas):
    org, me = personas.organization, personas.teammate
    challenge = make_challenge(org, metric=ChallengeMetric.SUGGESTIONS)
    now = timezone.now()
    SuggestionFactory(organization=org, author=me, status=SuggestionStatus.ACCEPTED, decided_at=now)
    SuggestionFactory(organization=org, author=me, status=SuggestionStatus.ACCEPTED, decided_at=now)
    SuggestionFactory(organization=org, author=me, status=SuggestionStatus.PENDING)
    SuggestionFactory(organization=org, author=me, status=SuggestionStatus.DECLINED, decided_at=now)
    SuggestionFactory(
        organization=org,
        author=me,
        status=SuggestionStatus.ACCEPTED,
        decided_at=challenge.ends_at + timedelta(seconds=1),
    )
    assert values(challenge) == {me.pk: 2}


def test_scope_by_contents_topics_hashtag_and_network(personas):
    org, me = personas.organization, personas.teammate
    health = TopicFactory(organization=org, name="Health")
    tagged_health = ContentFactory(organization=org, hashtags=["#Launch"], topics=[health])
    tagged_only = ContentFactory(organization=org, hashtags=["#launch", "#other"])
    plain = ContentFactory(organization=org)
    for content in (tagged_health, tagged_only, plain):
        publish(make_share(me, content=content, network=Network.LINKEDIN))
    publish(make_share(me, content=tagged_health, network=Network.X))

    by_tag = make_challenge(org, hashtag="#LAUNCH")
    assert values(by_tag) == {me.pk: 3}
    by_topic = make_challenge(org, topics=[health])
    assert values(by_topic) == {me.pk: 2}
    by_tag_and_network = make_challenge(org, hashtag="#launch", network=Network.LINKEDIN)
    assert values(by_tag_and_network) == {me.pk: 2}
    by_content = make_challenge(org, contents=[plain])
    assert values(by_content) == {me.pk: 1}
    # Every filter must match: this content has no such topic.
    by_content_and_topic = make_challenge(org, contents=[plain], topics=[health])
    assert values(by_content_and_topic) == {}


def test_period_bounds_are_the_organisations_midnights(personas):
    """A challenge for March in Paris starts at 23:00 UTC on 28 February: a share at
    23:30 UTC that evening counts, one at 22:30 UTC does not; the end is exclusive."""
    org, me = personas.organization, personas.teammate
    starts = datetime(2026, 3, 1, tzinfo=PARIS)
    ends = datetime(2026, 4, 1, tzinfo=PARIS)
    challenge = make_challenge(org, starts_at=starts, ends_at=ends)
    utc = ZoneInfo("UTC")
    publish(make_share(me, at=datetime(2026, 2, 28, 23, 30, tzinfo=utc)))  # 00:30 in Paris
    publish(make_share(me, at=datetime(2026, 2, 28, 22, 30, tzinfo=utc)))  # 23:30 the day before
    publish(make_share(me, at=datetime(2026, 3, 31, 21, 59, tzinfo=utc)))  # 23:59 in Paris
    publish(make_share(me, at=datetime(2026, 3, 31, 22, 0, tzinfo=utc)))  # midnight: excluded
    assert values(challenge) == {me.pk: 2}


def test_audience_includes_sub_teams_and_no_one_else(personas):
    org = personas.organization
    department = TeamFactory(organization=org, name="Sales")
    lyon = TeamFactory(organization=org, name="Sales Lyon", parent=department)
    seller = UserFactory(organization=org, teams=[lyon])
    other = UserFactory(organization=org, teams=[personas.team])
    UserFactory(organization=org, teams=[lyon], is_active=False)
    challenge = make_challenge(org, teams=[department])
    people = metrics.participants_of(challenge)
    assert people.user_ids == {seller.pk}
    assert other.pk not in people.user_ids
    # Outside the audience, the challenge does not exist for an employee.
    assert not selectors.challenges_visible(other).filter(pk=challenge.pk).exists()
    assert selectors.challenges_visible(seller).filter(pk=challenge.pk).exists()
    everyone = make_challenge(org)
    assert {seller.pk, other.pk, personas.owner.pk} <= metrics.participants_of(everyone).user_ids


def test_team_mode_ranks_teams_per_member_so_a_small_team_can_win(personas):
    org = personas.organization
    big = TeamFactory(organization=org, name="Big")
    small = TeamFactory(organization=org, name="Small")
    big_people = [UserFactory(organization=org, teams=[big]) for _ in range(4)]
    solo = UserFactory(organization=org, teams=[small])
    for person in big_people[:3]:
        publish(make_share(person))
        publish(make_share(person))
    publish(make_share(solo))
    publish(make_share(solo))
    publish(make_share(solo))
    challenge = make_challenge(org, mode=ChallengeMode.TEAM, teams=[big, small], goal=2)
    board = selectors.challenge_board(solo, challenge)
    assert [(row.name, row.value, row.rank) for row in board.rows] == [
        ("Small", Decimal("3.00"), 1),
        ("Big", Decimal("1.50"), 2),
    ]
    assert board.rows[0].is_me and board.rows[0].goal_reached
    assert not board.rows[1].goal_reached
    assert board.team.value == Decimal("3.00") and board.team.percent == 100


def test_ranking_ties_share_a_rank_and_hidden_people_stay_out_but_see_theirs(personas):
    org = personas.organization
    team = personas.team
    people = [UserFactory(organization=org, teams=[team]) for _ in range(4)]
    a, b, c, d = people
    for person, count in ((a, 3), (b, 3), (c, 1), (d, 2)):
        for _ in range(count):
            publish(make_share(person))
    points_hide_from_rankings(user=d, hidden=True)
    challenge = make_challenge(org, teams=[team])
    board = selectors.challenge_board(c, challenge)
    assert [(row.user_id, row.rank) for row in board.rows] == [(a.pk, 1), (b.pk, 1), (c.pk, 3)]
    assert d.pk not in {row.user_id for row in board.rows}
    hidden_board = selectors.challenge_board(d, challenge)
    assert hidden_board.hidden
    assert d.pk not in {row.user_id for row in hidden_board.rows}
    # Where d would stand: behind the two tied at 3, ahead of c.
    assert hidden_board.me.rank == 3
    assert hidden_board.my_row is not None and hidden_board.my_row.rank == 3
    assert Score.objects.get(user=d).hidden_from_rankings


def test_my_row_is_shown_when_i_am_not_in_the_top(personas):
    org = personas.organization
    people = [UserFactory(organization=org, role=Role.EMPLOYEE) for _ in range(selectors.TOP + 2)]
    for person in people:
        publish(make_share(person))
        publish(make_share(person))
    me = personas.teammate
    publish(make_share(me))
    challenge = make_challenge(org)
    board = selectors.challenge_board(me, challenge)
    assert len(board.rows) == selectors.TOP and not any(row.is_me for row in board.rows)
    assert board.my_row.rank == selectors.TOP + 3 and board.my_row.value == 1
    assert board.me.percent == 50  # half the leader's value, without a goal


def test_list_progress_takes_one_query_per_metric_not_per_challenge(
    personas, django_assert_max_num_queries
):
    org, me = personas.organization, personas.teammate
    publish(make_share(me))
    click(make_share(me))
    give_points(me, 12, key="list-gift")
    challenges = [
        make_challenge(org, metric=metric, goal=4, hashtag="#x" if 4 <= i < 8 else "")
        for i, metric in enumerate(ChallengeMetric.values * 3)
    ]
    listed = list(selectors.challenge_list(me, tab="active"))
    assert len(listed) == len(challenges)
    with django_assert_max_num_queries(8):
        progress = selectors.progress_for(listed, me)
    by_metric = {c.metric: progress[c.pk].value for c in listed if not c.hashtag}
    assert by_metric == {
        ChallengeMetric.SHARES: 1,
        ChallengeMetric.CLICKS: 1,
        ChallengeMetric.POINTS: 12,
        ChallengeMetric.SUGGESTIONS: 0,
    }
    # Scoped by a hashtag no content carries: nothing counts.
    assert {progress[c.pk].value for c in listed if c.hashtag} == {0}
