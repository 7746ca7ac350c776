"""The organisation's apps at the networks (/admin/networks/): who may see them, the callback
and scopes to register, the client secret stored encrypted and never logged, the connection
test against the fake LinkedIn over HTTP, removal, this month's API posts, isolation between
organisations; and what employees are offered when a network is share links only."""

from __future__ import annotations

import json
import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from advocacy.models import NetworkApp, ShareMode, ShareStatus
from advocacy.services.pipeline import share_publish
from advocacy.services.sharing import ShareRequest, share_confirm, share_create
from advocacy.token_vault import token_decrypt
from organizations.models import AuditLogEntry
from tests.advocacy.conftest import LINKEDIN_CLIENT, connect_real, make_content, network_app
from tests.conftest import client_for, free_port

pytestmark = pytest.mark.django_db

PAGE = "/admin/networks/"
SECRET = "li-secret-7f3a9c2e"


@pytest.fixture
def no_sandbox(settings):
    """As in production: no sandbox network to fall back on."""
    settings.SANDBOX_NETWORK_URL = ""


@pytest.fixture
def no_server_defaults(settings):
    settings.NETWORK_APP_DEFAULTS = {
        "x": {"client_id": "", "client_secret": ""},
        "linkedin": {"client_id": "", "client_secret": ""},
    }


def _card(html: str, name: str) -> str:
    """The card of one network on the admin page or on My networks."""
    return html.split(f'data-network="{name}"', 1)[1].split("</article>", 1)[0]


def _messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def _save(client: Client, **fields: str):
    data = {"adapter": "linkedin", "action": "save", "client_id": "", "client_secret": ""}
    data.update(fields)
    return client.post(PAGE, data)


def _app(organization) -> NetworkApp | None:
    return NetworkApp.objects.filter(organization=organization, adapter="linkedin").first()


# --- 8. the administration page ----------------------------------------------------------------


def test_only_org_admins_see_the_page(personas, no_server_defaults, settings):
    anonymous = Client().get(PAGE)
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith(f"{reverse('account_login')}?next=")
    # An employee is told nothing exists here (as every org-admin page does).
    assert client_for(personas.teammate).get(PAGE).status_code == 404

    page = client_for(personas.owner).get(PAGE)
    assert page.status_code == 200
    card = _card(page.content.decode(), "linkedin")
    callback = reverse("openid_connect_callback", kwargs={"provider_id": "linkedin"})
    assert f"<code>{settings.SITE_URL}{callback}</code>" in card
    assert "<code>openid profile email w_member_social</code>" in card
    assert "Not set up: share links only" in card
    assert "https://www.linkedin.com/developers/apps" in card
    # LinkedIn cannot revoke: the admin is told before anyone disconnects.
    assert "has no way for an app to withdraw a token" in card
    # Nothing to test or remove before it is set up.
    assert 'value="test"' not in card and 'value="delete"' not in card


def test_saving_keeps_the_secret_encrypted_and_out_of_the_audit_log(personas):
    client = client_for(personas.owner)
    response = _save(client, client_id="86abc", client_secret=SECRET, api_posting="on")
    assert response.status_code == 302
    app = _app(personas.organization)
    assert app.client_id == "86abc" and app.api_posting is True
    assert app.client_secret and SECRET not in app.client_secret
    assert token_decrypt(app.client_secret) == SECRET
    [entry] = AuditLogEntry.objects.filter(action="network_app.saved")
    assert entry.actor == personas.owner
    assert entry.details["secret_changed"] is True
    assert SECRET not in json.dumps(entry.details) and SECRET not in entry.target_repr

    page = client.get(PAGE)
    assert "Saved." in _messages(page)
    html = page.content.decode()
    assert SECRET not in html and app.client_secret not in html
    assert 'value="86abc"' in _card(html, "linkedin")

    # An empty secret keeps the stored one; the client id and the switch change.
    assert _save(client, client_id="86abd").status_code == 302
    app.refresh_from_db()
    assert app.client_id == "86abd" and app.api_posting is False
    assert token_decrypt(app.client_secret) == SECRET
    latest = AuditLogEntry.objects.filter(action="network_app.saved").latest("pk")
    assert latest.details["secret_changed"] is False


def test_bad_input_is_a_form_error_and_writes_nothing(personas):
    client = client_for(personas.owner)

    response = _save(client, client_id="", client_secret=SECRET)
    assert response.status_code == 200
    card = _card(response.content.decode(), "linkedin")
    assert 'aria-invalid="true"' in card and 'class="errorlist"' in card

    response = _save(client, client_id="86abc", client_secret="  ")
    assert response.status_code == 200
    assert "Enter the client secret the network gave you." in _messages(response)

    response = _save(client, adapter="facebook", client_id="86abc", client_secret=SECRET)
    assert response.status_code == 200
    assert "Unknown network." in _messages(response)

    assert not NetworkApp.objects.exists()
    assert not AuditLogEntry.objects.filter(action__startswith="network_app.").exists()


def test_the_connection_test_asks_linkedin(personas, fake_linkedin, settings):
    client = client_for(personas.owner)
    _save(client, client_id=LINKEDIN_CLIENT[0], client_secret=LINKEDIN_CLIENT[1], api_posting="on")
    response = client.post(PAGE, {"adapter": "linkedin", "action": "test"}, follow=True)
    assert "The network knows this app: employees can connect their accounts." in _messages(
        response
    )

    _save(client, client_id=LINKEDIN_CLIENT[0], client_secret="not-the-secret", api_posting="on")
    response = client.post(PAGE, {"adapter": "linkedin", "action": "test"})
    assert response.status_code == 200
    assert "The network refused this client id or secret." in _messages(response)
    asked = [r for r in fake_linkedin.requests_log if r.path == "/oauth/v2/accessToken"]
    assert [r.status for r in asked] == [401, 401]  # code not found / invalid_client

    # LinkedIn out of reach: said so, not mistaken for a wrong secret.
    settings.LINKEDIN_OAUTH_BASE_URL = f"http://127.0.0.1:{free_port()}/oauth"
    response = client.post(PAGE, {"adapter": "linkedin", "action": "test"})
    [message] = _messages(response)
    assert message.startswith("The network could not be reached")


def test_removing_the_app_leaves_share_links_only(personas, fake_linkedin, no_sandbox):
    network_app(personas.organization, "linkedin")
    connect_real(personas.teammate, fake_linkedin, "linkedin")
    client = client_for(personas.owner)
    response = client.post(PAGE, {"adapter": "linkedin", "action": "delete"}, follow=True)
    assert "Removed: this network is share links only now." in _messages(response)
    assert _app(personas.organization) is None
    assert "Not set up: share links only" in _card(response.content.decode(), "linkedin")
    assert AuditLogEntry.objects.filter(action="network_app.deleted").count() == 1

    # The employee still has an account, but nothing is posted through it any more.
    content = make_content(personas.organization, author=personas.owner)
    [share] = share_create(
        user=personas.teammate,
        data=ShareRequest(content_id=content.pk, networks=["linkedin"], captions={}),
    )
    assert share.mode == ShareMode.LINK
    assert share.status == ShareStatus.AWAITING_CONFIRMATION
    assert fake_linkedin.live_posts() == []


def test_this_months_api_posts_are_counted(personas, fake_linkedin):
    paris = ZoneInfo("Europe/Paris")
    network_app(personas.organization, "linkedin")
    connect_real(personas.teammate, fake_linkedin, "linkedin")

    def post_for_real(at: datetime, caption: str) -> None:
        with time_machine.travel(at, tick=False):
            content = make_content(personas.organization, author=personas.owner)
            [share] = share_create(
                user=personas.teammate,
                data=ShareRequest(
                    content_id=content.pk, networks=["linkedin"], captions={"linkedin": caption}
                ),
            )
            assert share_publish(share_id=share.pk) == "published"

    post_for_real(datetime(2026, 4, 30, 23, 30, tzinfo=paris), "Last month.")
    post_for_real(datetime(2026, 5, 1, 0, 30, tzinfo=paris), "First of the month.")
    post_for_real(datetime(2026, 5, 19, 9, 0, tzinfo=paris), "Yesterday.")
    # A share link the employee posted themselves is no API post.
    with time_machine.travel(datetime(2026, 5, 19, 10, 0, tzinfo=paris), tick=False):
        content = make_content(personas.organization, author=personas.owner)
        [link] = share_create(
            user=personas.teammate,
            data=ShareRequest(
                content_id=content.pk,
                networks=["linkedin"],
                captions={},
                modes={"linkedin": "link"},
            ),
        )
        share_confirm(user=personas.teammate, share=link)
    assert len(fake_linkedin.live_posts()) == 3

    with time_machine.travel(datetime(2026, 5, 20, 12, 0, tzinfo=paris), tick=False):
        html = client_for(personas.owner).get(PAGE).content.decode()
    counted = re.compile(r"Posts made through the API this month</dt>\s*<dd>(\d+)</dd>")
    assert counted.search(_card(html, "linkedin")).group(1) == "2"
    assert counted.search(_card(html, "x")).group(1) == "0"


def test_another_organisations_app_is_out_of_reach(personas, fake_linkedin):
    ours = network_app(personas.organization, "linkedin")
    outsider = client_for(personas.outsider)

    html = outsider.get(PAGE).content.decode()
    assert LINKEDIN_CLIENT[0] not in html
    assert "Not set up: share links only" in _card(html, "linkedin")

    # Testing and removing act on the outsider's own organisation only.
    response = outsider.post(PAGE, {"adapter": "linkedin", "action": "test"})
    assert "Enter the client id and secret first." in _messages(response)
    outsider.post(PAGE, {"adapter": "linkedin", "action": "delete"})
    assert NetworkApp.objects.filter(pk=ours.pk).exists()
    # Saving creates their own app, never changes ours.
    _save(outsider, client_id="theirs", client_secret="their-secret", api_posting="on")
    ours.refresh_from_db()
    assert ours.client_id == LINKEDIN_CLIENT[0]
    assert token_decrypt(ours.client_secret) == LINKEDIN_CLIENT[1]
    theirs = _app(personas.other_organization)
    assert theirs.client_id == "theirs"
    assert LINKEDIN_CLIENT[0] not in outsider.get(PAGE).content.decode()
    assert "theirs" not in client_for(personas.owner).get(PAGE).content.decode()
    assert not [r for r in fake_linkedin.requests_log if r.path == "/oauth/v2/accessToken"]


# --- 9. share links only ----------------------------------------------------------------------


def test_api_posting_off_gives_employees_share_links_only(personas, fake_linkedin, no_sandbox):
    network_app(personas.organization, "linkedin", api_posting=False)
    connect_real(personas.teammate, fake_linkedin, "linkedin")
    content = make_content(personas.organization, author=personas.owner)
    employee = client_for(personas.teammate)

    share_page = employee.get(reverse("share_content", args=[content.pk])).content.decode()
    assert 'name="mode_linkedin"' not in share_page
    assert "Post for me" not in share_page

    networks = employee.get("/networks/").content.decode()
    assert "Connect LinkedIn" not in networks and "Reconnect" not in _card(networks, "linkedin")
    response = employee.post("/networks/", {"form": "connect", "network": "linkedin"})
    assert response.status_code == 200
    assert "This network offers share links only here." in _messages(response)

    [share] = share_create(
        user=personas.teammate,
        data=ShareRequest(content_id=content.pk, networks=["linkedin"], captions={}),
    )
    assert share.mode == ShareMode.LINK and share.account is None
    assert fake_linkedin.requests_log == []  # nothing was asked of LinkedIn

    admin_card = _card(client_for(personas.owner).get(PAGE).content.decode(), "linkedin")
    assert "Share links only" in admin_card


def test_without_an_app_or_a_server_default_linkedin_is_share_links_only(
    personas, no_sandbox, no_server_defaults
):
    employee = client_for(personas.teammate)
    card = _card(employee.get("/networks/").content.decode(), "linkedin")
    assert "Connect LinkedIn" not in card
    assert "Share links only on this server." in card
    response = employee.post("/networks/", {"form": "connect", "network": "linkedin"})
    assert response.status_code == 200
    assert "This network offers share links only here." in _messages(response)
    # The reminder's one-click link says so too, instead of failing.
    response = employee.get("/networks/linkedin/reconnect/", follow=True)
    assert response.redirect_chain == [("/networks/", 302)]
    assert "This network offers share links only here." in _messages(response)

    content = make_content(personas.organization, author=personas.owner)
    [share] = share_create(
        user=personas.teammate,
        data=ShareRequest(content_id=content.pk, networks=["linkedin"], captions={}),
    )
    assert share.mode == ShareMode.LINK
    assert share.status == ShareStatus.AWAITING_CONFIRMATION
    assert share.tracked_link is not None


def test_a_server_default_app_serves_organisations_without_their_own(
    personas, fake_linkedin, no_sandbox, settings
):
    settings.NETWORK_APP_DEFAULTS = {
        "x": {"client_id": "", "client_secret": ""},
        "linkedin": {"client_id": LINKEDIN_CLIENT[0], "client_secret": LINKEDIN_CLIENT[1]},
    }
    card = _card(client_for(personas.owner).get(PAGE).content.decode(), "linkedin")
    assert "Set up by the server" in card and 'value="test"' in card
    response = client_for(personas.owner).post(
        PAGE, {"adapter": "linkedin", "action": "test"}, follow=True
    )
    assert "The network knows this app: employees can connect their accounts." in _messages(
        response
    )
    employee = client_for(personas.teammate)
    assert "Connect LinkedIn" in _card(employee.get("/networks/").content.decode(), "linkedin")
    response = employee.post("/networks/", {"form": "connect", "network": "linkedin"})
    assert response.status_code == 302
    assert response["Location"].startswith(f"{fake_linkedin.oauth_url}/v2/authorization?")
    assert f"client_id={LINKEDIN_CLIENT[0]}" in response["Location"]
