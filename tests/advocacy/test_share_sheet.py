"""The share sheet over the feed: scoping, the charter gate, the pause, locked captions,
share links opened in a new tab then confirmed, posting through a connected account now
or in the next slot (the choice remembered)."""

from __future__ import annotations

import re
from datetime import datetime
from html import unescape
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from advocacy.models import (
    PostWhen,
    Share,
    ShareMode,
    ShareStatus,
    SharingPause,
    SharingPreference,
)
from content.models import CharterAcceptance
from tests.advocacy.conftest import connect, make_content
from tests.conftest import client_for
from tests.content.factories import GuidelineFactory

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_CURRENT_URL": "http://testserver/feed/?topic=news"}


@pytest.fixture(autouse=True)
def _no_broker():
    with mock.patch("advocacy.services.dispatch._enqueue") as enqueue:
        yield enqueue


def sheet(client, content):
    return client.get(reverse("share_content_sheet", args=[content.pk]), **HTMX)


def test_the_sheet_offers_the_caption_and_one_button_per_network(personas):
    content = make_content(personas.organization)
    connect(personas.teammate)
    response = sheet(client_for(personas.teammate), content)
    assert response.status_code == 200
    body = response.content.decode()
    assert ">Proud of our teams.</textarea>" in body  # the connected network's caption
    assert "Post on LinkedIn" in body
    assert "Share on X" in body and "Share on Facebook" in body
    assert "Share on LinkedIn" not in body
    # One-click alternatives: every caption written for the content.
    assert body.count('data-fill-target="#sheet-caption"') == 3
    assert 'formtarget="_blank"' in body


def test_without_an_account_the_sheet_offers_share_links_only(personas):
    content = make_content(personas.organization)
    body = sheet(client_for(personas.teammate), content).content.decode()
    assert "Post on" not in body
    assert "Share on LinkedIn" in body
    assert 'name="when"' not in body


def test_a_plain_visit_gets_the_full_share_page(personas):
    content = make_content(personas.organization)
    response = client_for(personas.teammate).get(reverse("share_content_sheet", args=[content.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("share_content", args=[content.pk])


def test_another_organisations_content_is_404_everywhere(personas):
    content = make_content(personas.organization)
    outsider = client_for(personas.outsider)
    assert sheet(outsider, content).status_code == 404
    assert (
        outsider.post(
            reverse("share_content_sheet", args=[content.pk]), {"network": "linkedin"}, **HTMX
        ).status_code
        == 404
    )
    assert (
        outsider.post(
            reverse("share_sheet_link", args=[content.pk]), {"network": "facebook"}
        ).status_code
        == 404
    )
    assert (
        outsider.get(
            reverse("share_sheet_pending", args=[content.pk]) + "?network=facebook"
        ).status_code
        == 404
    )
    assert not Share.objects.exists()


def test_the_charter_comes_first(personas):
    charter = GuidelineFactory(organization=personas.organization, title="Our charter")
    content = make_content(personas.organization)
    client = client_for(personas.teammate)
    body = sheet(client, content).content.decode()
    assert "Before your first share, read and accept “Our charter”." in body
    assert "/guidelines/charter/?next=%2Ffeed%2F%3Ftopic%3Dnews" in body
    assert "Share on" not in body
    response = client.post(reverse("share_sheet_link", args=[content.pk]), {"network": "facebook"})
    assert response.status_code == 409
    assert "Accept the social media charter" in response.content.decode()
    assert not Share.objects.exists()
    CharterAcceptance.objects.create(
        user=personas.teammate, guideline=charter, version=charter.version
    )
    assert "Share on Facebook" in sheet(client, content).content.decode()


def test_the_pause_refuses_with_its_reason(personas):
    SharingPause.objects.create(
        organization=personas.organization,
        paused_at="2025-01-06T09:00:00Z",
        paused_by=personas.owner,
        reason="Crisis: hold every post",
    )
    content = make_content(personas.organization)
    connect(personas.teammate)
    client = client_for(personas.teammate)
    body = sheet(client, content).content.decode()
    assert "Sharing is paused by your organisation." in body
    assert "Crisis: hold every post" in body
    assert "Post on LinkedIn" not in body and "Share on" not in body
    posted = client.post(
        reverse("share_content_sheet", args=[content.pk]),
        {"network": "linkedin", "when": "now", "caption": "Proud of our teams."},
        **HTMX,
    )
    assert "Crisis: hold every post" in posted.content.decode()
    link = client.post(reverse("share_sheet_link", args=[content.pk]), {"network": "x"})
    assert link.status_code == 409
    assert not Share.objects.exists()


def test_a_share_link_opens_the_network_and_is_confirmed_from_the_sheet(personas):
    content = make_content(personas.organization)
    client = client_for(personas.teammate)
    pending = reverse("share_sheet_pending", args=[content.pk]) + "?network=facebook"
    assert client.get(pending).status_code == 204
    response = client.post(
        reverse("share_sheet_link", args=[content.pk]),
        {"network": "facebook", "caption": "Proud of our teams on Facebook."},
    )
    assert response.status_code == 200
    share = Share.objects.get()
    assert share.mode == ShareMode.LINK and share.status == ShareStatus.AWAITING_CONFIRMATION
    assert share.text == "Proud of our teams on Facebook."
    refresh = re.search(r'http-equiv="refresh" content="0; url=([^"]+)"', response.content.decode())
    target = unescape(refresh.group(1))
    assert target.startswith("https://www.facebook.com/sharer/sharer.php?u=")
    assert f"%2Fs%2F{share.tracked_link.code}" in target
    # Opening it again reopens the same share: no second row, no error.
    again = client.post(reverse("share_sheet_link", args=[content.pk]), {"network": "facebook"})
    assert again.status_code == 200 and Share.objects.count() == 1

    prompt = client.get(pending)
    assert prompt.status_code == 200
    assert "Did you post it?" in prompt.content.decode()
    done = client.post(reverse("share_action", args=[share.pk, "confirm"]), {"sheet": "1"}, **HTMX)
    assert done.status_code == 200
    assert "Thank you! Your share counts." in done.content.decode()
    share.refresh_from_db()
    assert share.status == ShareStatus.PUBLISHED
    # Answered: nothing waits any more.
    assert client.get(pending).status_code == 204
    # A second "yes" (another tab) says why it cannot, in the sheet.
    twice = client.post(reverse("share_action", args=[share.pk, "confirm"]), {"sheet": "1"}, **HTMX)
    assert "cannot be done now" in twice.content.decode()


def test_a_locked_caption_follows_the_network_and_cannot_be_rewritten(personas):
    content = make_content(personas.organization, caption_locked=True)
    client = client_for(personas.teammate)
    body = sheet(client, content).content.decode()
    assert re.search(r'<textarea id="sheet-caption" name="caption" rows="5" readonly', body)
    # The LinkedIn suggestion sent for Facebook: Facebook's own suggestion is shared.
    client.post(
        reverse("share_sheet_link", args=[content.pk]),
        {"network": "facebook", "caption": "Proud of our teams."},
    )
    assert Share.objects.get().text == "Proud of our teams on Facebook."
    rewritten = client.post(
        reverse("share_sheet_link", args=[content.pk]),
        {"network": "x", "caption": "My own words"},
    )
    assert rewritten.status_code == 409
    assert "captions are locked" in rewritten.content.decode()
    assert Share.objects.count() == 1


def test_posting_through_the_account_now(personas, _no_broker):
    content = make_content(personas.organization)
    connect(personas.teammate)
    client = client_for(personas.teammate)
    response = client.post(
        reverse("share_content_sheet", args=[content.pk]),
        {"network": "linkedin", "when": "now", "caption": "Proud of our teams."},
        **HTMX,
    )
    assert response.status_code == 200
    assert "We are posting it on LinkedIn now." in response.content.decode()
    share = Share.objects.get()
    assert share.mode == ShareMode.API and share.status == ShareStatus.SCHEDULED
    assert share.text == "Proud of our teams."


def test_posting_in_the_next_slot_is_remembered(personas):
    paris = ZoneInfo("Europe/Paris")
    # A Monday, 07:00 in Paris: the next default slot is 08:30 the same day.
    with time_machine.travel(datetime(2025, 1, 6, 7, 0, tzinfo=paris), tick=False):
        content = make_content(personas.organization)
        other = make_content(personas.organization)
        connect(personas.teammate)
        client = client_for(personas.teammate)
        response = client.post(
            reverse("share_content_sheet", args=[content.pk]),
            {"network": "linkedin", "when": "queue", "caption": "Proud of our teams."},
            **HTMX,
        )
    assert "in your next posting slot" in response.content.decode()
    share = Share.objects.get()
    local = share.scheduled_at.astimezone(paris)
    assert (local.date().isoformat(), local.hour, local.minute) == ("2025-01-06", 8, 30)
    assert SharingPreference.objects.get(user=personas.teammate).post_when == PostWhen.QUEUE
    with time_machine.travel(datetime(2025, 1, 6, 7, 5, tzinfo=paris), tick=False):
        body = sheet(client, other).content.decode()
    assert 'value="queue" checked' in body and 'value="now" checked' not in body


def test_the_sheet_refuses_a_network_without_an_account_and_a_bad_choice(personas):
    content = make_content(personas.organization)
    client = client_for(personas.teammate)
    response = client.post(
        reverse("share_content_sheet", args=[content.pk]),
        {"network": "linkedin", "when": "now"},
        **HTMX,
    )
    assert "Connect this network first" in response.content.decode()
    connect(personas.teammate)
    response = client.post(
        reverse("share_content_sheet", args=[content.pk]),
        {"network": "linkedin", "when": "tomorrow"},
        **HTMX,
    )
    assert "Choose now or your next posting slot." in response.content.decode()
    bad = client.post(reverse("share_sheet_link", args=[content.pk]), {"network": "myspace"})
    assert bad.status_code == 409 and "Choose a network." in bad.content.decode()
    assert not Share.objects.exists()
    assert not SharingPreference.objects.exists()


def test_the_live_check_reads_the_one_caption_for_every_network(personas):
    content = make_content(personas.organization)
    response = client_for(personas.teammate).post(
        reverse("share_preview", args=[content.pk]),
        {"networks": ["linkedin", "x"], "caption": "word " * 70, "compact": "1"},
    )
    body = response.content.decode()
    assert "share-sheet-verdicts" in body
    assert "350 / 3000 characters" in body  # LinkedIn: fine
    assert re.search(r"3\d\d / 280 characters", body)  # X (the link counts too): too long
    assert body.count('class="has-problem"') == 1
