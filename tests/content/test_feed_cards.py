"""The feed's cards: an image or a branded placeholder, the points a share earns and the
running challenge it counts for (from challenges, through content's card-extras
registry, in a fixed number of queries per page), one Share button that opens the sheet,
disabled with the reason while sharing is paused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from advocacy.models import SharingPause
from challenges.models import ChallengeMetric, ChallengeStatus, ScoringEvent, ScoringRule
from content.models import Network
from tests.challenges.challenge_factories import make_challenge
from tests.conftest import client_for
from tests.content.factories import CaptionFactory, ContentFactory, TopicFactory
from tests.factories import TeamFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _anchored_clock(time_machine):
    # Not today's date: the same moment on every day the suite runs.
    time_machine.move_to(datetime(2026, 3, 11, 10, 0, tzinfo=UTC), tick=True)


def post(organization, title: str, **values):
    content = ContentFactory(organization=organization, title=title, **values)
    CaptionFactory(content=content, network=Network.LINKEDIN, text=f"{title}!")
    return content


def card(body: str, title: str) -> str:
    start = body.index(f">{title}</a></h3>")
    opening = body.rindex("<article", 0, start)
    return body[opening : body.index("</article>", start)]


def test_points_and_the_running_challenge_are_on_the_card(personas):
    topic = TopicFactory(organization=personas.organization, name="Recruiting")
    hiring = post(personas.organization, "We are hiring")
    hiring.topics.set([topic])
    post(personas.organization, "Quarterly results")
    make_challenge(
        personas.organization, title="Hiring sprint", topics=[topic], metric=ChallengeMetric.SHARES
    )
    # Not counted: ended, suggestions only, another audience, another organisation.
    make_challenge(personas.organization, title="Old sprint", status=ChallengeStatus.ENDED)
    make_challenge(personas.organization, title="Ideas month", metric=ChallengeMetric.SUGGESTIONS)
    make_challenge(
        personas.organization,
        title="Other team's race",
        teams=[TeamFactory(organization=personas.organization, name="Far away")],
    )
    make_challenge(personas.other_organization, title="Secret challenge")
    ScoringRule.objects.create(
        organization=personas.organization, event=ScoringEvent.SHARE_PUBLISHED, points=12
    )
    body = client_for(personas.teammate).get(reverse("feed")).content.decode()
    hiring_card = card(body, "We are hiring")
    assert "Earns 8–12 points" in hiring_card  # share link 8 (default), posted for me 12
    assert "Counts for “Hiring sprint”" in hiring_card
    other_card = card(body, "Quarterly results")
    assert "Earns 8–12 points" in other_card
    assert "Hiring sprint" not in other_card
    for absent in ("Old sprint", "Ideas month", "Other team's race", "Secret challenge"):
        assert absent not in body


def test_switched_off_points_are_not_promised(personas):
    post(personas.organization, "Quarterly results")
    for event in (ScoringEvent.SHARE_PUBLISHED, ScoringEvent.SHARE_LINK_CONFIRMED):
        ScoringRule.objects.create(
            organization=personas.organization, event=event, points=5, is_active=False
        )
    body = client_for(personas.teammate).get(reverse("feed")).content.decode()
    assert "Earns" not in card(body, "Quarterly results")


def test_a_card_without_an_image_gets_the_branded_placeholder(personas):
    topic = TopicFactory(organization=personas.organization, name="Culture")
    content = post(personas.organization, "Team day")
    content.topics.set([topic])
    post(personas.organization, "With a preview", preview_image_url="https://cdn.example.org/a.jpg")
    body = client_for(personas.teammate).get(reverse("feed")).content.decode()
    placeholder = card(body, "Team day")
    assert 'class="card-placeholder" aria-hidden="true"><span>Culture</span>' in placeholder
    assert 'src="https://cdn.example.org/a.jpg"' in card(body, "With a preview")


def test_share_opens_the_sheet_and_falls_back_to_the_page(personas):
    content = post(personas.organization, "Team day")
    body = client_for(personas.teammate).get(reverse("feed")).content.decode()
    share = card(body, "Team day")
    assert f'href="{reverse("share_content", args=[content.pk])}"' in share
    assert f'data-sheet-url="{reverse("share_content_sheet", args=[content.pk])}"' in share
    assert '<dialog id="share-sheet"' in body


def test_the_pause_disables_every_share_button_with_its_reason(personas):
    post(personas.organization, "Team day")
    post(personas.organization, "Quarterly results")
    SharingPause.objects.create(
        organization=personas.organization,
        paused_at=timezone.now(),
        paused_by=personas.owner,
        reason="Crisis: hold every post",
    )
    body = client_for(personas.teammate).get(reverse("feed")).content.decode()
    assert "data-sheet-url" not in body
    assert body.count('disabled aria-disabled="true"') == 2
    assert body.count("Sharing is paused: Crisis: hold every post") == 2


def test_a_kept_card_follows_edits_the_pause_and_the_language(personas):
    content = post(personas.organization, "Team day")
    client = client_for(personas.teammate)
    assert "data-sheet-url" in card(client.get(reverse("feed")).content.decode(), "Team day")
    content.title = "Team day, moved to Friday"
    content.save()
    body = client.get(reverse("feed")).content.decode()
    assert ">Team day</a>" not in body
    share = card(body, "Team day, moved to Friday")
    pause = SharingPause.objects.create(
        organization=personas.organization,
        paused_at=timezone.now(),
        paused_by=personas.owner,
        reason="Crisis",
    )
    paused = card(client.get(reverse("feed")).content.decode(), "Team day, moved to Friday")
    assert "Sharing is paused: Crisis" in paused and "data-sheet-url" not in paused
    pause.delete()
    again = card(client.get(reverse("feed")).content.decode(), "Team day, moved to Friday")
    assert again == share
    personas.teammate.language = "fr" if personas.teammate.language == "en" else "en"
    personas.teammate.save()
    other = card(client.get(reverse("feed")).content.decode(), "Team day, moved to Friday")
    assert other != share  # the button and the date in the other language


def _feed_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("feed"))
    assert response.status_code == 200
    return len(queries)


def test_the_feed_with_extras_does_not_query_per_card(personas):
    topic = TopicFactory(organization=personas.organization)
    make_challenge(personas.organization, title="Sprint", topics=[topic])
    make_challenge(personas.organization, title="Tagged", hashtag="#launch")
    client = client_for(personas.teammate)

    def fill(count: int, start: int) -> None:
        for n in range(start, start + count):
            content = post(
                personas.organization,
                f"Post {n}",
                hashtags=["#launch"],
                publish_at=timezone.now() - timedelta(minutes=n + 1),
            )
            content.topics.set([topic])

    fill(3, 0)
    client.get(reverse("feed"))  # the first visit writes the visit record
    three = _feed_queries(client)
    fill(9, 3)
    client.get(reverse("feed"))  # which items the page holds is read, then kept
    twelve = _feed_queries(client)
    assert twelve == three
    body = client.get(reverse("feed")).content.decode()
    assert body.count("Counts for “") == 12
    assert body.count("and 1 more") == 12
