"""Edge cases of the pipeline: a disconnect while a share is in flight, a withdrawal after
a disconnect, a token refresh that times out, a pause that lands after the claim, the
recall safety net, images, locked captions, and bad input."""

from __future__ import annotations

import io
from datetime import timedelta
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from advocacy.models import Share, ShareMode, ShareStatus, SharingPause
from advocacy.networks.base import OutcomeUnknown
from advocacy.services.accounts import account_disconnect
from advocacy.services.pipeline import share_publish, shares_sweep
from advocacy.services.sharing import shares_recall
from content.models import ContentStatus, Network
from notifications.models import Notification
from tests.advocacy.conftest import connect, make_content, share_now
from tests.conftest import api_client_for, client_for

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_broker():
    with mock.patch("advocacy.services.dispatch._enqueue") as enqueue:
        yield enqueue


def _published(personas, fake_network):
    content = make_content(personas.organization)
    account = connect(personas.teammate)
    [share] = share_now(personas.teammate, content)
    assert share_publish(share_id=share.pk) == "published"
    share.refresh_from_db()
    return content, account, share


def test_a_share_abandoned_after_a_disconnect_is_cancelled_and_the_sweep_goes_on(
    personas, settings
):
    settings.SHARE_CLAIM_TIMEOUT_SECONDS = 1
    settings.SHARE_REDISPATCH_AFTER_SECONDS = 0
    content = make_content(personas.organization)
    account = connect(personas.teammate)
    [stuck] = share_now(personas.teammate, content)
    [due] = share_now(personas.teammate, make_content(personas.organization))
    Share.objects.filter(pk=stuck.pk).update(
        status=ShareStatus.PUBLISHING, claimed_at=timezone.now() - timedelta(minutes=10)
    )
    account_disconnect(user=personas.teammate, account=account)
    stuck.refresh_from_db()
    assert stuck.account_id is None
    counts = shares_sweep()
    stuck.refresh_from_db()
    assert stuck.status == ShareStatus.CANCELLED
    assert counts["recovered"] == 1
    due.refresh_from_db()
    assert due.status == ShareStatus.CANCELLED  # disconnect cancels what waited


def test_withdrawal_after_a_disconnect_asks_the_employee(personas, fake_network):
    content, account, share = _published(personas, fake_network)
    account_disconnect(user=personas.teammate, account=account)
    content.status = ContentStatus.WITHDRAWN
    content.withdrawn_reason = "Recall"
    content.save()
    shares_recall(content=content)
    share.refresh_from_db()
    assert share.status == ShareStatus.RECALL_ASKED
    assert Notification.objects.filter(recipient=personas.teammate, kind="advocacy.recall").exists()


def test_a_refresh_that_times_out_is_retried_not_unknown(personas, fake_network):
    content = make_content(personas.organization)
    account = connect(personas.teammate)
    account.expires_at = timezone.now() - timedelta(minutes=1)
    account.save()
    [share] = share_now(personas.teammate, content)
    with mock.patch(
        "advocacy.networks.sandbox.SandboxAdapter.refresh_credentials",
        side_effect=OutcomeUnknown("The network did not answer in time."),
    ):
        assert share_publish(share_id=share.pk) == "retry"
    share.refresh_from_db()
    assert share.status == ShareStatus.SCHEDULED and share.request_sent_at is None
    assert fake_network.post_requests() == []


def test_a_pause_after_the_claim_keeps_the_post_back(personas, fake_network):
    from advocacy.services import accounts

    content = make_content(personas.organization)
    connect(personas.teammate)
    [share] = share_now(personas.teammate, content)
    real = accounts.account_credentials

    def pause_then_answer(**kwargs):
        SharingPause.objects.create(organization=personas.organization, paused_at=timezone.now())
        return real(**kwargs)

    with mock.patch(
        "advocacy.services.pipeline.account_credentials", side_effect=pause_then_answer
    ):
        assert share_publish(share_id=share.pk) == "paused"
    share.refresh_from_db()
    assert share.status == ShareStatus.SCHEDULED and share.attempt_count == 0
    assert fake_network.post_requests() == []


def test_deletions_go_out_during_a_pause_and_the_sweeper_catches_missed_recalls(
    personas, fake_network, settings, _no_broker, django_capture_on_commit_callbacks
):
    settings.SHARE_REDISPATCH_AFTER_SECONDS = 0
    content, _account, share = _published(personas, fake_network)
    SharingPause.objects.create(organization=personas.organization, paused_at=timezone.now())
    # Withdrawn while the post was in flight: the receiver did not see it published.
    Content = type(content)
    Content.objects.filter(pk=content.pk).update(status=ContentStatus.WITHDRAWN)
    _no_broker.reset_mock()
    with django_capture_on_commit_callbacks(execute=True):
        counts = shares_sweep()
    assert counts["recalled"] == 1
    share.refresh_from_db()
    assert share.status == ShareStatus.RECALL_PENDING
    # Dispatched despite the pause: a crisis recall must not wait for the resume.
    assert any(call.args[:2] == ("delete_share", share.pk) for call in _no_broker.call_args_list)


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), "navy").save(buffer, "PNG")
    return buffer.getvalue()


def test_an_image_post_uploads_its_image_first(personas, fake_network, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    content = make_content(personas.organization, link="")
    content.image = SimpleUploadedFile("photo.png", _png(), content_type="image/png")
    content.save()
    connect(personas.teammate)
    [share] = share_now(personas.teammate, content)
    assert share_publish(share_id=share.pk) == "published"
    [post] = fake_network.live_posts()
    assert post.media_id and fake_network.state.media[post.media_id] > 0


def test_locked_content_offers_another_networks_caption(personas):
    content = make_content(personas.organization)
    content.captions.exclude(network=Network.LINKEDIN).delete()
    content.caption_locked = True
    content.save()
    linkedin = content.captions.get().text
    [share] = share_now(personas.teammate, content, networks=("facebook",))
    assert share.text.startswith(linkedin)
    response = client_for(personas.teammate).get(reverse("share_content", args=[content.pk]))
    assert response.content.decode().count(linkedin) >= 3  # every network's textarea


def test_a_nul_byte_in_a_caption_is_a_clear_error(personas):
    content = make_content(personas.organization)
    response = client_for(personas.teammate).post(
        reverse("share_content", args=[content.pk]),
        {"networks": ["facebook"], "when": "now", "caption_facebook": "bad\x00caption"},
    )
    assert response.status_code == 200
    assert "cannot be stored" in response.content.decode()
    assert not Share.objects.exists()


def test_api_reads_a_time_without_offset_in_the_organisations_zone(personas):
    content = make_content(personas.organization)
    connect(personas.teammate)
    at = (timezone.now() + timedelta(days=2)).astimezone(ZoneInfo(personas.organization.time_zone))
    naive = at.replace(tzinfo=None, second=0, microsecond=0).isoformat()
    response = api_client_for(personas.teammate).post(
        "/api/v1/shares/",
        {
            "content": content.pk,
            "networks": ["linkedin"],
            "when": "schedule",
            "scheduled_at": naive,
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    share = Share.objects.get()
    assert share.mode == ShareMode.API
    assert share.scheduled_at == at.replace(second=0, microsecond=0)


def test_api_hides_whether_an_unknown_content_exists(personas):
    other = make_content(personas.other_organization)
    client = api_client_for(personas.teammate)
    for content_id in (other.pk, 999_999):
        response = client.post(
            "/api/v1/shares/", {"content": content_id, "networks": ["x"]}, format="json"
        )
        assert response.status_code == 404
