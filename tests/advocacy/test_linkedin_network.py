"""LinkedIn for real: the REST client (posts, images, deletion, metrics, every error
mapping), connecting through allauth's OpenID Connect flow, the 60-day token reminders and
disconnecting, all over HTTP against the loopback fake of LinkedIn (tests/fakes/linkedin_api.py).
Nothing here patches the adapter or the fake: faults come from the fake's own switches."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, quote, urlsplit

import pytest
import requests
import time_machine
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from advocacy.models import (
    AccountStatus,
    NetworkApp,
    Share,
    ShareMode,
    ShareStatus,
    SocialAccount,
)
from advocacy.networks import adapter_for
from advocacy.networks.base import Credentials, MetricsUnavailable
from advocacy.services.accounts import accounts_remind_expiry
from advocacy.services.pipeline import share_publish
from advocacy.services.sharing import ShareRequest, share_create
from advocacy.token_vault import token_decrypt
from analytics.models import MetricSnapshot, PollStatus
from analytics.services.polling import metric_poll_create, metric_poll_run
from content.models import ContentKind, Network
from content.services import content_withdraw
from notifications.models import Notification
from organizations.models import AuditLogEntry
from tests.advocacy import workers
from tests.advocacy.conftest import (
    LINKEDIN_CLIENT,
    connect_real,
    make_content,
    network_app,
    share_now,
)
from tests.conftest import client_for
from tests.content.factories import CaptionFactory, ContentFactory

pytestmark = pytest.mark.django_db(transaction=True)

dispatched = workers.dispatched  # a fixture

CALLBACK_PATH = reverse("openid_connect_callback", kwargs={"provider_id": "linkedin"})
RECONNECT_URL = "/networks/linkedin/reconnect/"
URN = re.compile(r"urn:li:share:\d{19}")


@pytest.fixture
def eager_tasks():
    """Celery tasks (the notification emails) run in-process when their transaction commits."""
    from config.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous


# --- helpers --------------------------------------------------------------------------------


def _query(url: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}


def _connected(personas, fake, **token_kwargs) -> SocialAccount:
    network_app(personas.organization, "linkedin")
    return connect_real(personas.teammate, fake, "linkedin", **token_kwargs)


def _publish_at_due_times(share: Share, *, limit: int = 10) -> list[str]:
    return workers.publish_at_due_times(share, limit=limit)


def _shown_as_linkedin_shows_it(commentary: str) -> str:
    """What a reader sees of a little-text commentary: hashtag templates as #word, escaped
    characters as themselves."""
    text = re.sub(r"\{hashtag\|\\#\|([^{}|]+)\}", r"#\1", commentary)
    return re.sub(r"\\(.)", r"\1", text)


def _png(size=(1200, 627)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (20, 90, 160)).save(buffer, format="PNG")
    return buffer.getvalue()


def _app_problem(personas) -> str:
    return NetworkApp.objects.get(organization=personas.organization, adapter="linkedin").problem


def _admin_card(personas) -> str:
    page = client_for(personas.owner).get("/admin/networks/").content.decode()
    return page.split('data-network="linkedin"', 1)[1].split("</article>", 1)[0]


def _rest_calls(fake) -> list:
    return [r for r in fake.requests_log if r.path.startswith("/rest/")]


def _networks_card(client) -> str:
    page = client.get("/networks/").content.decode()
    return page.split('data-network="linkedin"', 1)[1].split("</article>", 1)[0]


def _messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


# --- 1. posting -----------------------------------------------------------------------------


def test_text_post_carries_the_version_headers_and_takes_its_urn_from_x_restli_id(
    personas, fake_linkedin, dispatched, settings
):
    account = _connected(personas, fake_linkedin)
    content = make_content(personas.organization, link="", author=personas.owner)
    [share] = share_now(personas.teammate, content)
    assert share.mode == ShareMode.API
    assert dispatched.run() == ["published"]

    share.refresh_from_db()
    [post] = fake_linkedin.live_posts()
    assert share.status == ShareStatus.PUBLISHED
    assert URN.fullmatch(post.urn)
    assert share.external_id == post.urn
    assert share.external_url == f"https://www.linkedin.com/feed/update/{post.urn}/"
    assert post.author == f"urn:li:person:{account.external_id}"
    assert post.content is None
    assert post.commentary == post.sent_commentary  # nothing cut
    assert _shown_as_linkedin_shows_it(post.commentary) == share.text
    [attempt] = share.attempts.all()
    assert attempt.status_code == 201

    [call] = _rest_calls(fake_linkedin)
    assert (call.method, call.path, call.status) == ("POST", "/rest/posts", 201)
    assert call.linkedin_version == settings.LINKEDIN_API_VERSION
    assert call.restli_protocol_version == "2.0.0"


def test_article_post_carries_the_tracked_link_with_the_contents_title_and_description(
    personas, fake_linkedin, dispatched, settings
):
    _connected(personas, fake_linkedin)
    content = make_content(
        personas.organization,
        author=personas.owner,
        preview_title="Our new Lyon site opens",
        preview_description="Two hundred jobs by the river.",
    )
    [share] = share_now(personas.teammate, content)
    assert dispatched.run() == ["published"]

    share.refresh_from_db()
    [post] = fake_linkedin.live_posts()
    assert share.external_id == post.urn
    assert post.content == {
        "article": {
            "source": f"{settings.SITE_URL}/s/{share.tracked_link.code}",
            "title": "Our new Lyon site opens",
            "description": "Two hundred jobs by the river.",
        }
    }
    for call in _rest_calls(fake_linkedin):
        assert call.linkedin_version == settings.LINKEDIN_API_VERSION
        assert call.restli_protocol_version == "2.0.0"


def test_image_post_uploads_the_image_then_posts_its_urn(
    personas, fake_linkedin, dispatched, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    _connected(personas, fake_linkedin)
    content = ContentFactory(
        organization=personas.organization,
        author=personas.owner,
        kind=ContentKind.IMAGE,
        image=SimpleUploadedFile("launch.png", _png(), content_type="image/png"),
    )
    CaptionFactory(content=content, network=Network.LINKEDIN, text="Launch day in Lyon.")
    [share] = share_now(personas.teammate, content)
    assert dispatched.run() == ["published"]

    share.refresh_from_db()
    assert share.status == ShareStatus.PUBLISHED
    [post] = fake_linkedin.live_posts()
    image_urn = post.content["media"]["id"]
    assert re.fullmatch(r"urn:li:image:\w+", image_urn)
    image = fake_linkedin.state.images[image_urn]
    assert image.status == "AVAILABLE" and image.size > 0
    assert image.owner == post.author

    calls = [(r.method, r.path, r.query, r.status) for r in fake_linkedin.requests_log]
    initialize, upload, create = calls
    assert initialize == ("POST", "/rest/images", "action=initializeUpload", 200)
    assert upload[0] == "PUT" and upload[1].startswith("/dms-uploads/") and upload[3] == 201
    assert create[:2] == ("POST", "/rest/posts") and create[3] == 201
    # Every Rest.li call is versioned (the PUT goes to the upload URL LinkedIn handed out).
    for call in _rest_calls(fake_linkedin):
        assert call.linkedin_version == settings.LINKEDIN_API_VERSION
        assert call.restli_protocol_version == "2.0.0"


def test_article_thumbnail_is_the_contents_image_uploaded_first(
    personas, fake_linkedin, dispatched, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    _connected(personas, fake_linkedin)
    content = make_content(
        personas.organization,
        author=personas.owner,
        image=SimpleUploadedFile("lyon.png", _png(), content_type="image/png"),
    )
    [share] = share_now(personas.teammate, content)
    assert dispatched.run() == ["published"]

    share.refresh_from_db()
    [post] = fake_linkedin.live_posts()
    article = post.content["article"]
    assert article["source"] == f"{settings.SITE_URL}/s/{share.tracked_link.code}"
    assert fake_linkedin.state.images[article["thumbnail"]].status == "AVAILABLE"
    assert [(r.method, r.path.split("/")[1]) for r in fake_linkedin.requests_log] == [
        ("POST", "rest"),
        ("PUT", "dms-uploads"),
        ("POST", "rest"),
    ]


def test_reserved_characters_and_hashtags_arrive_intact(personas, fake_linkedin, dispatched):
    _connected(personas, fake_linkedin)
    content = make_content(personas.organization, link="", author=personas.owner)
    caption = (
        "Our results (Q3) are in! #GreenTech thanks to @ana_lopez and the R_D team "
        "[draft] {v2} <3 | ~50% * \\o/"
    )
    [share] = share_create(
        user=personas.teammate,
        data=ShareRequest(
            content_id=content.pk, networks=["linkedin"], captions={"linkedin": caption}
        ),
    )
    assert dispatched.run() == ["published"]

    [post] = fake_linkedin.live_posts()
    # LinkedIn kept everything it was sent (an unescaped reserved character would cut it)...
    assert post.commentary == post.sent_commentary
    assert "{hashtag|\\#|GreenTech}" in post.commentary
    # ...and shows the employee's words as they wrote them.
    assert caption in share.text
    assert _shown_as_linkedin_shows_it(post.commentary) == share.text


# --- 2. deletion ----------------------------------------------------------------------------


def test_recall_deletes_the_post(personas, fake_linkedin, dispatched, settings):
    _connected(personas, fake_linkedin)
    content = make_content(personas.organization, author=personas.owner)
    [share] = share_now(personas.teammate, content)
    assert dispatched.run() == ["published"]
    share.refresh_from_db()

    content_withdraw(content=content, actor=personas.owner, reason="Crisis")
    assert dispatched.run() == ["deleted"]
    share.refresh_from_db()
    assert share.status == ShareStatus.RECALLED
    assert fake_linkedin.live_posts() == []
    assert fake_linkedin.post(share.external_id).deleted_at is not None
    [delete] = [r for r in fake_linkedin.requests_log if r.method == "DELETE"]
    assert delete.path == f"/rest/posts/{quote(share.external_id, safe='')}"
    assert delete.status == 204
    assert delete.linkedin_version == settings.LINKEDIN_API_VERSION
    assert delete.restli_protocol_version == "2.0.0"


def test_a_post_the_employee_already_deleted_counts_as_deleted(
    personas, fake_linkedin, dispatched, settings
):
    account = _connected(personas, fake_linkedin)
    content = make_content(personas.organization, author=personas.owner)
    [share] = share_now(personas.teammate, content)
    assert dispatched.run() == ["published"]
    share.refresh_from_db()
    # The employee deletes it on LinkedIn first.
    gone = requests.delete(
        f"{fake_linkedin.url}/rest/posts/{quote(share.external_id, safe='')}",
        headers={
            "Authorization": f"Bearer {token_decrypt(account.access_token)}",
            "LinkedIn-Version": settings.LINKEDIN_API_VERSION,
            "X-Restli-Protocol-Version": "2.0.0",
        },
        timeout=5,
    )
    assert gone.status_code == 204

    content_withdraw(content=content, actor=personas.owner, reason="Crisis")
    assert dispatched.run() == ["deleted"]
    share.refresh_from_db()
    assert share.status == ShareStatus.RECALLED
    assert [r.status for r in fake_linkedin.requests_log if r.method == "DELETE"] == [204, 404]


# --- 3. errors ------------------------------------------------------------------------------


def test_401_needs_reconnect_and_the_notification_reconnects_in_one_click(
    personas, fake_linkedin, dispatched
):
    account = _connected(personas, fake_linkedin)
    fake_linkedin.revoke(token_decrypt(account.access_token))  # the member removed the app
    [share] = share_now(
        personas.teammate, make_content(personas.organization, author=personas.owner)
    )
    assert dispatched.run() == ["needs-reconnect"]

    share.refresh_from_db()
    account.refresh_from_db()
    assert share.status == ShareStatus.NEEDS_RECONNECT
    assert account.status == AccountStatus.NEEDS_RECONNECT
    assert share.attempts.get().status_code == 401
    assert fake_linkedin.live_posts() == []
    [notification] = Notification.objects.filter(
        recipient=personas.teammate, kind="advocacy.reconnect"
    )
    assert notification.url == RECONNECT_URL
    # One click: straight to LinkedIn's consent page.
    response = client_for(personas.teammate).get(notification.url)
    assert response.status_code == 302
    assert response["Location"].startswith(f"{fake_linkedin.oauth_url}/v2/authorization?")
    assert _query(response["Location"])["state"]


def test_403_fails_the_share_and_tells_the_admin_which_scope_is_missing(
    personas, fake_linkedin, dispatched
):
    # A token without w_member_social: LinkedIn answers 403 ACCESS_DENIED.
    _connected(personas, fake_linkedin, scopes=("openid", "profile", "email"))
    [share] = share_now(
        personas.teammate, make_content(personas.organization, author=personas.owner)
    )
    assert dispatched.run() == ["failed"]

    share.refresh_from_db()
    assert share.status == ShareStatus.FAILED
    assert "w_member_social" in share.last_error
    assert share.attempts.get().status_code == 403
    app = NetworkApp.objects.get(organization=personas.organization, adapter="linkedin")
    assert app.problem == "missing_permission"
    assert "w_member_social" in app.problem_detail
    assert app.problem_at is not None

    card = _admin_card(personas)
    assert 'role="alert"' in card
    assert "LinkedIn refused a post for lack of permission." in card
    assert "openid, profile, email, w_member_social" in card


def test_422_duplicate_fails_the_share_and_names_the_existing_post(
    personas, fake_linkedin, dispatched
):
    _connected(personas, fake_linkedin)
    first, second = (
        make_content(personas.organization, link="", author=personas.owner) for _ in range(2)
    )
    [earlier] = share_now(personas.teammate, first)
    assert dispatched.run() == ["published"]
    earlier.refresh_from_db()
    # The same words again the same day: LinkedIn refuses the duplicate.
    [share] = share_now(personas.teammate, second)
    assert dispatched.run() == ["failed"]

    share.refresh_from_db()
    assert share.status == ShareStatus.FAILED
    assert earlier.external_id in share.last_error
    attempt = share.attempts.get()
    assert attempt.status_code == 422
    assert "Duplicate post is detected" in attempt.body
    assert len(fake_linkedin.live_posts()) == 1
    assert Notification.objects.filter(
        recipient=personas.teammate, kind="advocacy.share_problem"
    ).exists()


@pytest.mark.parametrize("how", ["scripted", "inactive_version"])
def test_426_version_expired_holds_the_share_an_hour_and_alerts_the_admin(
    personas, fake_linkedin, dispatched, settings, how
):
    _connected(personas, fake_linkedin)
    if how == "scripted":
        fake_linkedin.script({"status": 426})
    else:
        settings.LINKEDIN_API_VERSION = "202401"  # sunset long ago
    [share] = share_now(
        personas.teammate, make_content(personas.organization, author=personas.owner)
    )
    before = timezone.now()
    assert dispatched.run() == ["retry"]
    after = timezone.now()

    share.refresh_from_db()
    assert share.status == ShareStatus.SCHEDULED
    assert before + timedelta(minutes=59) <= share.next_attempt_at <= after + timedelta(minutes=61)
    assert share.attempts.get().status_code == 426
    assert "LINKEDIN_API_VERSION" in share.last_error
    assert dispatched.calls == []  # too long for the broker: the sweeper sends it
    assert fake_linkedin.live_posts() == []
    assert _app_problem(personas) == "version_expired"

    alert = re.search(r'<div[^>]*role="alert"[^>]*>(.*?)</div>', _admin_card(personas), re.S)
    assert alert is not None
    assert "LinkedIn no longer accepts our API version." in alert.group(1)
    assert "LINKEDIN_API_VERSION" in alert.group(1)


def test_the_version_alert_goes_once_the_operator_updates_the_version(
    personas, fake_linkedin, dispatched, settings
):
    _connected(personas, fake_linkedin)
    pinned = settings.LINKEDIN_API_VERSION
    settings.LINKEDIN_API_VERSION = "202401"
    [share] = share_now(
        personas.teammate, make_content(personas.organization, author=personas.owner)
    )
    assert dispatched.run() == ["retry"]
    assert _app_problem(personas) == "version_expired"

    # The operator deploys a served version; the share goes out at its next attempt.
    settings.LINKEDIN_API_VERSION = pinned
    assert _publish_at_due_times(share) == ["published"]
    assert len(fake_linkedin.live_posts()) == 1
    card = _admin_card(personas)
    assert 'role="alert"' not in card
    assert _app_problem(personas) == ""


def test_a_share_keeps_waiting_while_the_version_is_expired(
    personas, fake_linkedin, dispatched, settings
):
    _connected(personas, fake_linkedin)
    settings.LINKEDIN_API_VERSION = "202401"
    [share] = share_now(
        personas.teammate, make_content(personas.organization, author=personas.owner)
    )
    tries = settings.SHARE_MAX_ATTEMPTS + 2
    results = dispatched.run() + _publish_at_due_times(share, limit=tries - 1)
    assert results == ["retry"] * tries
    share.refresh_from_db()
    assert share.status == ShareStatus.SCHEDULED
    # Still an hour between tries, not a backoff grown to days.
    assert share.next_attempt_at - share.attempts.last().started_at < timedelta(minutes=61)
    assert not Notification.objects.filter(kind="advocacy.share_problem").exists()


def test_429_waits_then_posts_once(personas, fake_linkedin, dispatched):
    _connected(personas, fake_linkedin)
    fake_linkedin.script({"status": 429})
    [share] = share_now(
        personas.teammate, make_content(personas.organization, author=personas.owner)
    )
    before = timezone.now()
    assert dispatched.run() == ["retry"]
    share.refresh_from_db()
    assert share.status == ShareStatus.SCHEDULED
    # LinkedIn sends no Retry-After: a minute by default.
    assert share.next_attempt_at >= before + timedelta(seconds=59)
    assert _publish_at_due_times(share) == ["published"]
    assert len(fake_linkedin.live_posts()) == 1
    assert [a.status_code for a in share.attempts.all()] == [429, 201]


def test_5xx_is_retried_then_published_exactly_once(personas, fake_linkedin, dispatched):
    _connected(personas, fake_linkedin)
    fake_linkedin.script({"status": 500}, {"status": 503})
    [share] = share_now(
        personas.teammate, make_content(personas.organization, author=personas.owner)
    )
    assert dispatched.run() == ["retry"]
    assert _publish_at_due_times(share) == ["retry", "published"]
    share.refresh_from_db()
    assert share.status == ShareStatus.PUBLISHED
    [post] = fake_linkedin.live_posts()
    assert share.external_id == post.urn
    assert [a.status_code for a in share.attempts.all()] == [500, 503, 201]
    assert [r.status for r in fake_linkedin.requests_log if r.path == "/rest/posts"] == [
        500,
        503,
        201,
    ]


# --- 4. metrics -----------------------------------------------------------------------------


def _published(personas, fake, dispatched) -> Share:
    [share] = share_now(
        personas.teammate, make_content(personas.organization, author=personas.owner)
    )
    assert dispatched.run() == ["published"]
    share.refresh_from_db()
    return share


def test_without_community_management_there_are_no_metrics(personas, fake_linkedin, dispatched):
    account = _connected(personas, fake_linkedin)
    share = _published(personas, fake_linkedin, dispatched)
    adapter = adapter_for("linkedin", organization_id=personas.organization.pk)
    credentials = Credentials(
        external_id=account.external_id, access_token=token_decrypt(account.access_token)
    )
    with pytest.raises(MetricsUnavailable) as refused:
        adapter.fetch_metrics(credentials, share.external_id)
    assert refused.value.reason == "no_permission"

    # The analytics polling stops with a note: tracked clicks are the measure.
    poll = metric_poll_create(share=share)
    assert poll is not None
    assert metric_poll_run(poll_id=poll.pk, now=poll.next_poll_at).name == "no-permission"
    poll.refresh_from_db()
    assert poll.status == PollStatus.NO_PERMISSION
    assert poll.next_poll_at is None
    assert "tracked clicks" in poll.note
    assert not MetricSnapshot.objects.exists()
    assert not [r for r in fake_linkedin.requests_log if "Analytics" in r.path]


def test_with_community_management_the_counts_are_mapped(personas, fake_linkedin, dispatched):
    network_app(personas.organization, "linkedin", community_management=True)
    account = connect_real(personas.teammate, fake_linkedin, "linkedin")
    fake_linkedin.community_management = True
    share = _published(personas, fake_linkedin, dispatched)
    post = fake_linkedin.post(share.external_id)
    # Five hours later, on LinkedIn's clock too.
    later = post.created_at + 5 * 3600
    fake_linkedin.clock = lambda: later
    expected = {
        "impressions": fake_linkedin.analytics_count(post, "IMPRESSION"),
        "reactions": fake_linkedin.analytics_count(post, "REACTION"),
        "comments": fake_linkedin.analytics_count(post, "COMMENT"),
        "reshares": fake_linkedin.analytics_count(post, "RESHARE"),
    }
    assert expected["impressions"] > 0

    adapter = adapter_for("linkedin", organization_id=personas.organization.pk)
    credentials = Credentials(
        external_id=account.external_id, access_token=token_decrypt(account.access_token)
    )
    assert adapter.fetch_metrics(credentials, share.external_id) == expected
    asked = [r for r in fake_linkedin.requests_log if r.path == "/rest/memberCreatorPostAnalytics"]
    assert sorted(_query(f"?{r.query}")["queryType"] for r in asked) == [
        "COMMENT",
        "IMPRESSION",
        "REACTION",
        "RESHARE",
    ]
    assert all(r.status == 200 and r.restli_protocol_version == "2.0.0" for r in asked)
    assert {_query(f"?{r.query}")["entity"] for r in asked} == {f"(share:{share.external_id})"}

    poll = metric_poll_create(share=share)
    assert metric_poll_run(poll_id=poll.pk, now=poll.next_poll_at).name == "polled"
    snapshot = MetricSnapshot.objects.get(share=share)
    assert (snapshot.impressions, snapshot.reactions, snapshot.comments, snapshot.reshares) == (
        expected["impressions"],
        expected["reactions"],
        expected["comments"],
        expected["reshares"],
    )
    assert snapshot.clicks is None  # LinkedIn gives no clicks: tracked links count them


# --- 5. connecting through allauth's OpenID Connect flow ----------------------------------


def _start_connect(client, fake) -> dict[str, str]:
    response = client.post("/networks/", {"form": "connect", "network": "linkedin"})
    assert response.status_code == 302
    location = response["Location"]
    assert location.startswith(f"{fake.oauth_url}/v2/authorization?")
    return _query(location)


def _consent(fake, params: dict[str, str], *, action: str = "allow", name: str) -> str:
    page = requests.get(f"{fake.oauth_url}/v2/authorization", params=params, timeout=5)
    assert page.status_code == 200, page.text
    assert "w_member_social" in page.text
    answer = requests.post(
        f"{fake.oauth_url}/v2/authorization",
        data={**params, "name": name, "action": action},
        allow_redirects=False,
        timeout=5,
    )
    assert answer.status_code == 302
    return answer.headers["Location"]


def _back_home(client, location: str):
    """Follow LinkedIn's redirect to our callback, with the employee's browser session."""
    parts = urlsplit(location)
    assert parts.path == CALLBACK_PATH
    return client.get(f"{parts.path}?{parts.query}")


@pytest.mark.django_db
def test_connecting_linkedin_through_openid_connect(personas, fake_linkedin):
    from allauth.socialaccount.models import SocialToken

    network_app(personas.organization, "linkedin")
    client = client_for(personas.teammate)
    params = _start_connect(client, fake_linkedin)
    assert params["client_id"] == LINKEDIN_CLIENT[0]
    assert params["response_type"] == "code"
    assert params["state"]
    assert sorted(params["scope"].split()) == ["email", "openid", "profile", "w_member_social"]
    assert params["redirect_uri"] == f"http://testserver{CALLBACK_PATH}"

    location = _consent(fake_linkedin, params, name="Camille Martin")
    assert _query(location)["state"] == params["state"]
    response = _back_home(client, location)
    assert response.status_code == 302
    assert response["Location"] == "/networks/"

    member = fake_linkedin.member_named("Camille Martin")
    account = SocialAccount.objects.get(user=personas.teammate, network=Network.LINKEDIN)
    assert (account.adapter, account.external_id) == ("linkedin", member.sub)
    assert account.display_name == "Camille Martin"
    assert account.status == AccountStatus.ACTIVE
    # Encrypted at rest; the clear token is the one LinkedIn issued for this member.
    clear = token_decrypt(account.access_token)
    assert clear and clear not in account.access_token
    assert fake_linkedin.state.tokens[clear].sub == member.sub
    assert account.refresh_token == ""  # LinkedIn gives most apps none
    assert abs(account.expires_at - (timezone.now() + timedelta(days=60))) < timedelta(minutes=2)
    assert not SocialToken.objects.exists()  # allauth keeps no clear copy
    token_calls = [r for r in fake_linkedin.requests_log if r.path == "/oauth/v2/accessToken"]
    assert [r.status for r in token_calls] == [200]

    page = client.get("/networks/")
    assert _messages(page) == [
        "LinkedIn is connected: your shares to it can now be posted for you."
    ]
    card = page.content.decode().split('data-network="linkedin"', 1)[1].split("</article>", 1)[0]
    assert "Connected" in card and "Camille Martin" in card


@pytest.mark.django_db
def test_a_forged_state_is_refused(personas, fake_linkedin):
    network_app(personas.organization, "linkedin")
    client = client_for(personas.teammate)
    params = _start_connect(client, fake_linkedin)
    # An attacker's own authorisation, sent to the employee's browser with another state.
    location = _consent(fake_linkedin, {**params, "state": "forged-state"}, name="Mallory")
    response = _back_home(client, location)
    assert response.status_code == 302
    assert response["Location"] == "/networks/"
    assert not SocialAccount.objects.exists()
    # The code was never even exchanged.
    assert not [r for r in fake_linkedin.requests_log if r.path == "/oauth/v2/accessToken"]
    page = client.get("/networks/")
    assert "The connection with LinkedIn did not complete. Please try again." in _messages(page)


@pytest.mark.django_db
def test_cancelling_on_the_consent_page_changes_nothing(personas, fake_linkedin):
    account = _connected(personas, fake_linkedin)
    client = client_for(personas.teammate)
    params = _start_connect(client, fake_linkedin)  # "Reconnect"
    location = _consent(fake_linkedin, params, action="cancel", name="Someone Else")
    assert _query(location)["error"] == "user_cancelled_authorize"
    response = _back_home(client, location)
    assert response.status_code == 302
    assert response["Location"] == "/networks/"
    page = client.get("/networks/")
    assert "Connection cancelled: nothing was changed." in _messages(page)
    [kept] = SocialAccount.objects.all()
    assert (kept.pk, kept.external_id, kept.access_token, kept.status) == (
        account.pk,
        account.external_id,
        account.access_token,
        AccountStatus.ACTIVE,
    )


# --- 6. the 60-day token ---------------------------------------------------------------------

ANCHOR = datetime(2026, 3, 10, 8, 0, tzinfo=UTC)


def test_expiry_reminders_go_once_each_and_reconnecting_sends_the_waiting_shares(
    personas, fake_linkedin, dispatched, eager_tasks
):
    network_app(personas.organization, "linkedin")
    name = personas.teammate.email.split("@")[0]
    with time_machine.travel(ANCHOR, tick=False):
        account = connect_real(personas.teammate, fake_linkedin, "linkedin", expires_in=6 * 86400)
        content = make_content(personas.organization, author=personas.owner)
        [share] = share_now(
            personas.teammate,
            content,
            when="schedule",
            scheduled_at=ANCHOR + timedelta(days=6, hours=2),
        )
        assert dispatched.take() == []  # not due yet
        mail.outbox.clear()

        # Six days before the end: one "ends on" notice, in the app and by email.
        assert accounts_remind_expiry() == {"warned": 1, "expired": 0}
        assert accounts_remind_expiry() == {"warned": 0, "expired": 0}
    [warning] = Notification.objects.filter(
        recipient=personas.teammate, kind="advocacy.token_expiring"
    )
    assert warning.title == "Your LinkedIn connection ends on 16 March 2026"
    assert warning.url == RECONNECT_URL
    assert [m.subject for m in mail.outbox] == [warning.title]
    assert mail.outbox[0].to == [personas.teammate.email]
    assert RECONNECT_URL in mail.outbox[0].body

    # At the end: the account needs reconnecting, one "has ended" notice.
    with time_machine.travel(ANCHOR + timedelta(days=6, minutes=1), tick=False):
        assert accounts_remind_expiry() == {"warned": 0, "expired": 1}
        assert accounts_remind_expiry() == {"warned": 0, "expired": 0}
    account.refresh_from_db()
    assert account.status == AccountStatus.NEEDS_RECONNECT
    [ended] = Notification.objects.filter(
        recipient=personas.teammate, kind="advocacy.token_expired"
    )
    assert "has ended" in ended.title and ended.url == RECONNECT_URL
    assert [m.subject for m in mail.outbox] == [warning.title, ended.title]

    # The scheduled share comes due and waits for the employee.
    due = ANCHOR + timedelta(days=6, hours=2)
    with time_machine.travel(due, tick=False):
        assert share_publish(share_id=share.pk) == "needs-reconnect"
    share.refresh_from_db()
    assert share.status == ShareStatus.NEEDS_RECONNECT
    assert fake_linkedin.live_posts() == []

    # One click from the notification: LinkedIn's consent, back home, the share goes out.
    with time_machine.travel(due + timedelta(minutes=5), tick=False):
        client = client_for(personas.teammate)
        response = client.get(ended.url)
        assert response.status_code == 302
        location = _consent(fake_linkedin, _query(response["Location"]), name=name)
        assert _back_home(client, location)["Location"] == "/networks/"
        account.refresh_from_db()
        assert account.status == AccountStatus.ACTIVE
        assert account.expiry_warned_at is None and account.expired_notified_at is None
        assert account.expires_at == timezone.now() + timedelta(days=60)
        assert dispatched.run() == ["published"]
        # The new connection is remembered as new: no reminder now.
        assert accounts_remind_expiry() == {"warned": 0, "expired": 0}
    share.refresh_from_db()
    assert share.status == ShareStatus.PUBLISHED
    [post] = fake_linkedin.live_posts()
    assert post.author == f"urn:li:person:{account.external_id}"
    assert share.external_id == post.urn


# --- 7. disconnecting -------------------------------------------------------------------------


@pytest.mark.django_db  # no task to hand over: the faster, rolled-back kind
def test_disconnecting_says_linkedin_cannot_revoke_and_deletes_the_token(personas, fake_linkedin):
    from allauth.socialaccount.models import SocialAccount as AllauthAccount

    network_app(personas.organization, "linkedin")
    client = client_for(personas.teammate)
    location = _consent(fake_linkedin, _start_connect(client, fake_linkedin), name="Ana Lopez")
    _back_home(client, location)
    account = SocialAccount.objects.get(user=personas.teammate)
    clear = token_decrypt(account.access_token)
    assert AllauthAccount.objects.filter(user=personas.teammate, provider="linkedin").exists()
    calls_before = len(fake_linkedin.requests_log)

    response = client.post("/networks/", {"form": "disconnect", "network": "linkedin"}, follow=True)
    assert response.status_code == 200
    assert _messages(response) == [
        "LinkedIn is connected: your shares to it can now be posted for you.",
        "Disconnected: we deleted your token. LinkedIn cannot withdraw it for us; remove "
        "Portevoix from your LinkedIn settings if you wish.",
    ]
    assert not SocialAccount.objects.filter(pk=account.pk).exists()
    assert not AllauthAccount.objects.filter(user=personas.teammate).exists()
    # Nothing was asked of LinkedIn: it has no revoke endpoint; the token lives on there.
    assert len(fake_linkedin.requests_log) == calls_before
    assert not fake_linkedin.state.tokens[clear].revoked
    entry = AuditLogEntry.objects.get(action="social_account.disconnected")
    assert entry.details == {"network": "linkedin", "revoked": False}
    card = _networks_card(client)
    assert "Connect LinkedIn" in card

    # Connecting again later works as the first time.
    location = _consent(fake_linkedin, _start_connect(client, fake_linkedin), name="Ana Lopez")
    assert _back_home(client, location)["Location"] == "/networks/"
    again = SocialAccount.objects.get(user=personas.teammate)
    assert again.external_id == account.external_id
    assert token_decrypt(again.access_token) != clear
