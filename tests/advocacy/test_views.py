"""The sharing pages: share flow in both modes, My shares and its actions, networks and
slots, the admin's pause; scoping (owner, teammate, outsider) and query counts."""

from __future__ import annotations

from unittest import mock

import pytest
from django.urls import reverse

from advocacy.models import Share, ShareMode, ShareStatus, SharingPause
from tests.advocacy.conftest import connect, make_content, share_now
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_broker():
    # These tests look at pages; the pipeline has its own tests.
    with mock.patch("advocacy.services.dispatch._enqueue") as enqueue:
        yield enqueue


def test_share_page_offers_post_for_me_and_share_links(personas):
    content = make_content(personas.organization)
    connect(personas.teammate)
    response = client_for(personas.teammate).get(reverse("share_content", args=[content.pk]))
    assert response.status_code == 200
    body = response.content.decode()
    assert 'name="mode_linkedin"' in body  # connected: post for me or link
    assert 'name="mode_facebook"' not in body  # never connectable
    assert "Proud of our teams." in body


def test_share_from_the_page_creates_one_share_per_network(
    personas, django_capture_on_commit_callbacks
):
    content = make_content(personas.organization)
    connect(personas.teammate)
    client = client_for(personas.teammate)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("share_content", args=[content.pk]),
            {
                "networks": ["linkedin", "facebook"],
                "when": "now",
                "mode_linkedin": "api",
                "caption_linkedin": "Proud of our teams.",
                "caption_facebook": "Proud of our teams on Facebook.",
            },
        )
    assert response.status_code == 302
    shares = {s.network: s for s in Share.objects.filter(user=personas.teammate)}
    assert (
        shares["linkedin"].mode == ShareMode.API
        and shares["linkedin"].status == ShareStatus.SCHEDULED
    )
    assert shares["facebook"].mode == ShareMode.LINK
    assert shares["facebook"].status == ShareStatus.AWAITING_CONFIRMATION
    page = client.get(reverse("my_shares")).content.decode()
    assert "facebook.com/sharer/sharer.php?u=" in page
    assert "I posted it" in page


def test_a_blocked_term_keeps_the_form_and_writes_nothing(personas):
    from content.models import ComplianceRule, RuleKind

    ComplianceRule.objects.create(
        organization=personas.organization, kind=RuleKind.BLOCKED_TERM, value="miracle"
    )
    content = make_content(personas.organization)
    response = client_for(personas.teammate).post(
        reverse("share_content", args=[content.pk]),
        {"networks": ["facebook"], "when": "now", "caption_facebook": "A miracle cure"},
    )
    assert response.status_code == 200
    assert "miracle" in response.content.decode()
    assert not Share.objects.exists()


def test_outsider_gets_404_everywhere(personas):
    content = make_content(personas.organization)
    [share] = share_now(personas.teammate, content, networks=("facebook",))
    outsider = client_for(personas.outsider)
    assert outsider.get(reverse("share_content", args=[content.pk])).status_code == 404
    assert outsider.get(reverse("share_detail", args=[share.pk])).status_code == 404
    assert outsider.post(reverse("share_action", args=[share.pk, "confirm"])).status_code == 404
    assert content.title not in outsider.get(reverse("my_shares")).content.decode()
    # A colleague does not see someone else's share either; the org admin may.
    other = make_content(personas.organization)
    [mine] = share_now(personas.owner, other, networks=("facebook",))
    assert (
        client_for(personas.teammate).get(reverse("share_detail", args=[mine.pk])).status_code
        == 404
    )
    assert (
        client_for(personas.owner).get(reverse("share_detail", args=[share.pk])).status_code == 200
    )


def test_confirm_and_cancel_from_my_shares(personas):
    content = make_content(personas.organization)
    [share] = share_now(personas.teammate, content, networks=("facebook",))
    client = client_for(personas.teammate)
    response = client.post(reverse("share_action", args=[share.pk, "confirm"]))
    assert response.status_code == 302
    share.refresh_from_db()
    assert share.status == ShareStatus.PUBLISHED
    response = client.post(reverse("share_action", args=[share.pk, "cancel"]), follow=True)
    assert "cannot be done now" in response.content.decode()


def test_my_shares_query_count_is_bounded(personas, django_assert_max_num_queries):
    for _ in range(15):
        share_now(personas.teammate, make_content(personas.organization), networks=("facebook",))
    client = client_for(personas.teammate)
    with django_assert_max_num_queries(16):
        response = client.get(reverse("my_shares"))
    assert response.status_code == 200


def test_networks_page_connects_and_manages_slots(personas):
    client = client_for(personas.teammate)
    response = client.post(reverse("networks"), {"form": "connect", "network": "linkedin"})
    assert response.status_code == 302
    assert personas.teammate.social_accounts.get().network == "linkedin"
    assert (
        client.post(
            reverse("networks"), {"form": "connect", "network": "facebook"}, follow=True
        ).status_code
        == 200
    )
    assert personas.teammate.social_accounts.count() == 1
    client.post(reverse("networks"), {"form": "slot", "weekday": "2", "time": "09:15"})
    assert [
        (s.weekday, s.time.strftime("%H:%M")) for s in personas.teammate.posting_slots.all()
    ] == [(2, "09:15")]
    page = client.get(reverse("networks")).content.decode()
    assert "09:15" in page


def test_admin_pauses_and_resumes(personas):
    admin = client_for(personas.owner)
    assert client_for(personas.teammate).get(reverse("sharing_admin")).status_code == 404
    admin.post(reverse("sharing_admin"), {"reason": "Crisis"})
    assert SharingPause.objects.get(organization=personas.organization).paused_at is not None
    content = make_content(personas.organization)
    response = client_for(personas.teammate).post(
        reverse("share_content", args=[content.pk]),
        {"networks": ["facebook"], "when": "now"},
    )
    assert "paused" in response.content.decode()
    admin.post(reverse("sharing_admin"), {"action": "resume"})
    assert SharingPause.objects.get(organization=personas.organization).paused_at is None


def test_feed_card_and_detail_offer_share(personas):
    content = make_content(personas.organization)
    client = client_for(personas.teammate)
    url = reverse("share_content", args=[content.pk])
    assert url in client.get(reverse("feed")).content.decode()
    assert url in client.get(reverse("content_detail", args=[content.pk])).content.decode()
