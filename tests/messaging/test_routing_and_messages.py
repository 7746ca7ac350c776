"""Routing (teams, topics, event kinds → destinations), the shape of each message (Block Kit
with its text fallback, Adaptive Card), and the events that make them: a post announced,
a challenge launched and ended, the weekly leaderboard."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone, translation

from challenges.models import ChallengeMode, ChallengeResult, ChallengeStatus, Score
from challenges.services.campaigns import challenge_announce_launch, challenge_results_pay
from content.announce import content_announce
from messaging import composer
from messaging.models import ChannelMessage, DestinationStatus, EventKind, MessageStatus
from messaging.routing import destinations_for_item, destinations_for_organization
from messaging.services import (
    channels_post_challenge,
    channels_post_content,
    channels_post_leaderboards,
)
from tests.challenges.challenge_factories import give_points, make_challenge
from tests.content.factories import ContentFactory, TopicFactory
from tests.factories import TeamFactory, UserFactory
from tests.messaging.conftest import slack_destination, teams_destination

pytestmark = pytest.mark.django_db


@pytest.fixture
def eager_tasks():
    from config.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous


# --- routing -------------------------------------------------------------------------------


def _routed(personas, *, teams=(), topics=(), event=EventKind.CONTENT_PUBLISHED):
    return {
        d.label
        for d in destinations_for_item(
            organization_id=personas.organization.pk,
            event=event,
            team_ids=[t.pk for t in teams],
            topic_ids=[t.pk for t in topics],
        )
    }


def test_routing_by_team_topic_and_event(personas, connected, fake_teams):
    organization = personas.organization
    sales = TeamFactory(organization=organization, name="Sales")
    east = TeamFactory(organization=organization, name="Sales East", parent=sales)
    hr = TeamFactory(organization=organization, name="HR")
    product = TopicFactory(organization=organization, name="Product")
    slack_destination(personas, label="all")
    slack_destination(personas, label="sales", teams=[sales])
    slack_destination(personas, label="east", teams=[east])
    slack_destination(personas, label="product", topics=[product])
    slack_destination(personas, label="sales-product", teams=[sales], topics=[product])
    teams_destination(
        personas, fake_teams.add_flow(), label="leaderboard", events=[EventKind.LEADERBOARD_WEEKLY]
    )
    # For everyone: every team's channel, but not the topic channels.
    assert _routed(personas) == {"all", "sales", "east"}
    # For Sales: its sub-team's channel too; HR's content stays out of Sales channels.
    assert _routed(personas, teams=[sales]) == {"all", "sales", "east"}
    assert _routed(personas, teams=[east]) == {"all", "sales", "east"}
    assert _routed(personas, teams=[hr]) == {"all"}
    assert _routed(personas, teams=[sales], topics=[product]) == {
        "all", "sales", "east", "product", "sales-product",
    }  # fmt: skip
    assert _routed(personas, teams=[hr], topics=[product]) == {"all", "product"}
    # The leaderboard is organisation-wide: teams and topics do not filter it.
    everywhere = destinations_for_organization(
        organization_id=organization.pk, event=EventKind.LEADERBOARD_WEEKLY
    )
    assert {d.label for d in everywhere} == {
        "all", "sales", "east", "product", "sales-product", "leaderboard",
    }  # fmt: skip


def test_broken_destinations_get_nothing_new(personas, connected):
    destination = slack_destination(personas, label="gone")
    destination.status = DestinationStatus.BROKEN
    destination.save()
    assert _routed(personas) == set()


# --- message shapes ------------------------------------------------------------------------


def test_a_post_in_block_kit_with_a_text_fallback(personas):
    content = ContentFactory(
        organization=personas.organization,
        title="Our new lab <opens> & more",
        why_it_matters="Our teams built it in *two* years.",
    )
    message = composer.slack_message(composer.compose_content(content))
    assert message["text"] == (
        f"New to share: Our new lab &lt;opens&gt; &amp; more https://portevoix.example/share/{content.pk}/"
    )
    kinds = [block["type"] for block in message["blocks"]]
    assert kinds == ["context", "header", "section", "actions"]
    assert message["blocks"][1]["text"] == {
        "type": "plain_text", "text": "Our new lab <opens> & more", "emoji": True,
    }  # fmt: skip
    # mrkdwn: markup characters escaped.
    assert message["blocks"][2]["text"]["text"] == "Our teams built it in *two* years."
    button = message["blocks"][3]["elements"][0]
    assert button["text"]["text"] == "Share"
    assert button["url"] == f"https://portevoix.example/share/{content.pk}/"


def test_a_post_with_an_image_shows_it_from_a_public_address(personas):
    from django.core.files.base import ContentFile

    content = ContentFactory(organization=personas.organization, title="Pictured")
    content.image.save("pic.png", ContentFile(_png()), save=True)
    composed = composer.compose_content(content)
    assert composed.image_url.startswith("https://portevoix.example/")
    blocks = composer.slack_message(composed)["blocks"]
    assert blocks[2]["type"] == "image" and blocks[2]["alt_text"] == "Pictured"
    card = composer.adaptive_card(composed)
    assert card["body"][2]["type"] == "Image"


def _png() -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), "#336699").save(buffer, "PNG")
    return buffer.getvalue()


def test_a_post_as_an_adaptive_card_in_the_workflows_envelope(personas):
    content = ContentFactory(organization=personas.organization, title="Our new lab")
    payload = composer.teams_message(composer.compose_content(content))
    assert payload["type"] == "message"
    (attachment,) = payload["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert card["type"] == "AdaptiveCard" and card["version"] == "1.4"
    assert card["$schema"] == "http://adaptivecards.io/schemas/adaptive-card.json"
    assert [block["text"] for block in card["body"][:2]] == ["New to share", "Our new lab"]
    assert card["actions"] == [
        {
            "type": "Action.OpenUrl",
            "title": "Share",
            "url": f"https://portevoix.example/share/{content.pk}/",
        }
    ]


def test_challenge_launch_and_winners(personas):
    organization = personas.organization
    challenge = make_challenge(
        organization,
        title="Spring sprint",
        prize="A day off",
        status=ChallengeStatus.ENDED,
        starts_at=datetime(2026, 3, 2, 9, tzinfo=ZoneInfo("Europe/Paris")),
        ends_at=datetime(2026, 3, 16, 18, tzinfo=ZoneInfo("Europe/Paris")),
    )
    launch = composer.compose_challenge_launch(challenge)
    assert launch.kicker == "New challenge"
    assert launch.lines == ["From 2 March 2026 to 16 March 2026", "Prize: A day off"]
    assert launch.button_url == f"https://portevoix.example/challenges/{challenge.pk}/"
    winner = UserFactory(organization=organization, first_name="Ada", last_name="Lovelace")
    hidden = UserFactory(organization=organization, first_name="Hidden", last_name="Person")
    ChallengeResult.objects.create(
        challenge=challenge, user=winner, value=12, rank=1, is_winner=True
    )
    ChallengeResult.objects.create(
        challenge=challenge, user=hidden, value=20, rank=1, is_winner=False, hidden=True
    )
    results = composer.compose_challenge_results(challenge)
    assert results.lines == ["1. Ada L. — 12"]
    assert "Hidden" not in str(composer.slack_message(results))


def test_names_and_titles_cannot_become_links_or_mentions(personas):
    composed = composer.Composed(
        kicker="New to share", title="<!channel> [prize](https://evil.example)", lines=[
            "1. [Ada](https://evil.example) — 3"
        ],
    )  # fmt: skip
    slack = composer.slack_message(composed)
    assert "<!channel>" not in slack["text"] and "&lt;!channel&gt;" in slack["text"]
    texts = [block.get("text", "") for block in composer.adaptive_card(composed)["body"]]
    assert not any("](" in text for text in texts)
    assert any("Ada" in text for text in texts)


def test_team_challenge_winners_by_team_name(personas):
    challenge = make_challenge(
        personas.organization, mode=ChallengeMode.TEAM, status=ChallengeStatus.ENDED
    )
    ChallengeResult.objects.create(
        challenge=challenge, team=personas.team, value=40, rank=1, is_winner=True, members=2
    )
    assert composer.compose_challenge_results(challenge).lines == ["1. Communication — 40"]


def test_messages_speak_the_organisations_language(personas, connected):
    organization = personas.organization
    organization.default_language = "fr"
    organization.save()
    slack_destination(personas)
    challenge = make_challenge(organization, title="Sprint")
    with translation.override("en"):
        assert (
            channels_post_challenge(challenge_id=challenge.pk, event=EventKind.CHALLENGE_LAUNCHED)
            == 1
        )
    message = ChannelMessage.objects.get()
    assert message.payload["text"].startswith("Nouveau défi")
    assert message.title.startswith("Nouveau défi")


# --- events --------------------------------------------------------------------------------


def test_an_announced_post_is_posted_once(
    personas, connected, fake_slack, eager_tasks, django_capture_on_commit_callbacks
):
    slack_destination(personas)
    content = ContentFactory(organization=personas.organization)
    with django_capture_on_commit_callbacks(execute=True):
        assert content_announce(content_id=content.pk) >= 1
    with django_capture_on_commit_callbacks(execute=True):
        content_announce(content_id=content.pk)  # nobody new: nothing is heard again
    message = ChannelMessage.objects.get()
    assert message.event == EventKind.CONTENT_PUBLISHED
    assert message.status == MessageStatus.SENT
    assert len(fake_slack.posted) == 1
    assert fake_slack.posted[0].blocks[-1]["elements"][0]["url"].endswith(f"/share/{content.pk}/")


def test_a_post_withdrawn_or_paused_before_its_message_leaves_is_not_announced(
    personas, connected, fake_slack
):
    """The message waits (a 429, the queue): by the time it leaves, the post was withdrawn,
    or sharing paused in a crisis; a Share button must not go out."""
    from advocacy.models import SharingPause
    from content.models import ContentStatus
    from messaging.outbox import message_send

    slack_destination(personas)
    withdrawn = ContentFactory(organization=personas.organization)
    assert channels_post_content(content_id=withdrawn.pk) == 1  # queued, not sent yet
    message = ChannelMessage.objects.get()
    withdrawn.status = ContentStatus.WITHDRAWN
    withdrawn.save(update_fields=["status"])
    message_send(message_id=message.pk)
    message.refresh_from_db()
    assert (message.status, message.failure) == (MessageStatus.FAILED, "content_unavailable")

    paused = ContentFactory(organization=personas.organization)
    assert channels_post_content(content_id=paused.pk) == 1
    later = ChannelMessage.objects.exclude(pk=message.pk).get()
    SharingPause.objects.update_or_create(
        organization=personas.organization, defaults={"paused_at": timezone.now()}
    )
    message_send(message_id=later.pk)
    later.refresh_from_db()
    assert (later.status, later.failure) == (MessageStatus.FAILED, "sharing_paused")
    assert fake_slack.posted == []


def test_a_post_for_another_team_does_not_reach_a_team_channel(
    personas, connected, fake_slack, eager_tasks, django_capture_on_commit_callbacks
):
    other = TeamFactory(organization=personas.organization, name="Elsewhere")
    UserFactory(organization=personas.organization, teams=[other])
    slack_destination(personas, teams=[personas.team])
    content = ContentFactory(organization=personas.organization, audience_teams=[other])
    with django_capture_on_commit_callbacks(execute=True):
        content_announce(content_id=content.pk)
    assert ChannelMessage.objects.count() == 0
    assert fake_slack.posted == []


def test_organisations_without_destinations_cost_no_task(
    personas, eager_tasks, django_capture_on_commit_callbacks, django_assert_max_num_queries
):
    content = ContentFactory(organization=personas.organization)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        content_announce(content_id=content.pk)
    with django_assert_max_num_queries(1):
        for callback in callbacks:
            callback()
    assert ChannelMessage.objects.count() == 0


def test_a_challenge_launch_and_its_results_are_posted(
    personas, connected, fake_slack, eager_tasks, django_capture_on_commit_callbacks
):
    slack_destination(personas)
    challenge = make_challenge(personas.organization, title="Spring sprint")
    with django_capture_on_commit_callbacks(execute=True):
        assert challenge_announce_launch(challenge_id=challenge.pk)
    with django_capture_on_commit_callbacks(execute=True):
        assert not challenge_announce_launch(challenge_id=challenge.pk)  # once
    challenge.status = ChallengeStatus.ENDED
    challenge.save()
    ChallengeResult.objects.create(
        challenge=challenge, user=personas.teammate, value=5, rank=1, is_winner=True
    )
    with django_capture_on_commit_callbacks(execute=True):
        challenge_results_pay(challenge_id=challenge.pk)
    with django_capture_on_commit_callbacks(execute=True):
        challenge_results_pay(challenge_id=challenge.pk)
    events = list(ChannelMessage.objects.order_by("pk").values_list("event", "status"))
    assert events == [
        (EventKind.CHALLENGE_LAUNCHED, MessageStatus.SENT),
        (EventKind.CHALLENGE_RESULTS, MessageStatus.SENT),
    ]
    assert fake_slack.posted[0].text.startswith("New challenge: Spring sprint")
    assert fake_slack.posted[1].text.startswith("Challenge results: Spring sprint")


def test_the_weekly_leaderboard_waits_for_the_organisations_monday_morning(
    personas, connected, time_machine
):
    """Beat asks hourly: the week that ended at midnight goes out from 09:00 on Monday in
    the organisation's zone (Honolulu's is 20:00 in Paris), once."""
    organization = personas.organization
    organization.time_zone = "Pacific/Honolulu"
    organization.save(update_fields=["time_zone"])
    slack_destination(personas, events=[EventKind.LEADERBOARD_WEEKLY])
    honolulu = ZoneInfo("Pacific/Honolulu")
    time_machine.move_to(datetime(2026, 11, 30, 8, 59, tzinfo=honolulu), tick=False)
    assert channels_post_leaderboards() == 0  # Monday, but before 09:00 there
    time_machine.move_to(datetime(2026, 11, 30, 9, 0, tzinfo=honolulu), tick=False)
    assert channels_post_leaderboards() == 1
    time_machine.move_to(datetime(2026, 12, 2, 15, 0, tzinfo=honolulu), tick=False)
    assert channels_post_leaderboards() == 0  # once a week
    message = ChannelMessage.objects.get()
    assert message.idempotency_key.startswith("leaderboard.weekly:2026-11-23:")


def test_the_weekly_leaderboard_once_a_week(personas, connected, time_machine):
    paris = ZoneInfo("Europe/Paris")
    time_machine.move_to(datetime(2026, 11, 30, 9, 0, tzinfo=paris), tick=False)  # a Monday
    organization = personas.organization
    slack_destination(personas, events=[EventKind.LEADERBOARD_WEEKLY])
    slack_destination(personas, label="posts only", events=[EventKind.CONTENT_PUBLISHED])
    ada = UserFactory(organization=organization, first_name="Ada", last_name="Lovelace")
    bob = UserFactory(organization=organization, first_name="Bob", last_name="Martin")
    shy = UserFactory(organization=organization, first_name="Shy", last_name="One")
    last_week = timezone.now() - timedelta(days=3)
    give_points(ada, 120, at=last_week)
    give_points(bob, 80, at=last_week)
    give_points(shy, 500, at=last_week)
    give_points(bob, 999, at=timezone.now() - timedelta(days=10))  # the week before
    Score.objects.filter(user=shy).update(hidden_from_rankings=True)
    assert channels_post_leaderboards() == 1
    assert channels_post_leaderboards() == 0  # same week: nothing twice
    message = ChannelMessage.objects.get()
    assert message.idempotency_key.startswith("leaderboard.weekly:2026-11-23:")
    section = message.payload["blocks"][2]["text"]["text"]
    assert section == "1. Ada L. — 120 points\n2. Bob M. — 80 points"
    assert message.payload["blocks"][1]["text"]["text"] == "Week of 23 November 2026"
