"""The identity provider's addresses the admin gives (and those its discovery document
lists) are held to the link previews' address rules, and an IdP that misbehaves (a broken
body, a stalled answer, down at sign-in) is a clear message, never a 500."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from html import unescape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.test import Client

from organizations.models import AuditLogEntry
from sso import services
from sso.adapter import oidc_app
from sso.idp_config import IdpConfigError, url_check
from sso.models import SsoConnection
from tests.sso.conftest import followed_text
from tests.sso.idps import OIDC_CLIENT_ID, OIDC_CLIENT_SECRET

pytestmark = pytest.mark.django_db
URL = "/admin/sso/"


@dataclass
class FakeIdp:
    """A small HTTP server on loopback whose answers each test sets: path -> (headers,
    body, stall). A stalled answer sends its headers and part of its body, then waits
    until the server stops."""

    routes: dict[str, tuple[dict[str, str], bytes, bool]] = field(default_factory=dict)
    stop: threading.Event = field(default_factory=threading.Event)
    base_url: str = ""


@pytest.fixture
def fake_idp() -> Iterator[FakeIdp]:
    idp = FakeIdp()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            headers, body, stall = idp.routes.get(self.path, ({}, b"", False))
            if not headers and not body:
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(200)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body) * (2 if stall else 1)))
            self.end_headers()
            self.wfile.write(body)
            self.wfile.flush()
            if stall:
                idp.stop.wait(10)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    idp.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield idp
    idp.stop.set()
    server.shutdown()
    server.server_close()
    thread.join(5)


def _discovery(base: str, **overrides: str) -> bytes:
    document = {
        "issuer": base,
        "authorization_endpoint": f"{base}/auth",
        "token_endpoint": f"{base}/token",
        "userinfo_endpoint": f"{base}/me",
        "jwks_uri": f"{base}/jwks",
        "response_types_supported": ["code"],
    }
    document.update(overrides)
    return json.dumps(document).encode()


def _admin_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _save_oidc(acme, issuer: str):
    return services.connection_save_oidc(
        actor=acme.admin, issuer=issuer, client_id="c", client_secret="s"
    )


# --- Address rules ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "https://10.0.0.8/",
        "https://192.168.1.1/metadata",
        "https://169.254.169.254/latest/meta-data/",
        "https://localhost/",
        "https://[fd00::1]/",
        "http://0x7f000001/",
    ],
)
def test_private_and_metadata_addresses_are_refused(url):
    with pytest.raises(IdpConfigError, match=r"private or reserved|not a valid web address"):
        url_check(url, field="oidc_issuer")


def test_loopback_only_while_insecure_urls_are_allowed(settings):
    settings.SSO_ALLOW_INSECURE_URLS = True
    assert url_check("http://127.0.0.1:8080/", field="f") == "http://127.0.0.1:8080/"
    settings.SSO_ALLOW_INSECURE_URLS = False
    with pytest.raises(IdpConfigError, match="private or reserved"):
        url_check("https://127.0.0.1:8443/", field="f")
    settings.SSO_ALLOW_INSECURE_URLS = True
    with pytest.raises(IdpConfigError, match="private or reserved"):
        url_check("http://10.1.2.3/", field="f")  # loopback only, not the private network


@pytest.mark.parametrize(
    "key", ["authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri"]
)
def test_every_endpoint_of_the_discovery_document_is_checked(acme, fake_idp, key):
    fake_idp.routes["/.well-known/openid-configuration"] = (
        {"Content-Type": "application/json"},
        _discovery(fake_idp.base_url, **{key: "http://169.254.169.254/latest/meta-data/"}),
        False,
    )
    with pytest.raises(IdpConfigError, match="private or reserved"):
        _save_oidc(acme, fake_idp.base_url)
    assert not SsoConnection.objects.filter(organization=acme.organization).exists()


def test_the_checked_endpoints_are_given_to_allauth(acme, fake_idp):
    fake_idp.routes["/.well-known/openid-configuration"] = (
        {"Content-Type": "application/json"},
        _discovery(fake_idp.base_url),
        False,
    )
    connection = _save_oidc(acme, fake_idp.base_url)
    overrides = oidc_app(connection).settings["openid_configuration_overrides"]
    assert overrides == {
        "issuer": fake_idp.base_url,
        "authorization_endpoint": f"{fake_idp.base_url}/auth",
        "token_endpoint": f"{fake_idp.base_url}/token",
        "userinfo_endpoint": f"{fake_idp.base_url}/me",
        "jwks_uri": f"{fake_idp.base_url}/jwks",
    }


# --- Misbehaving IdPs: a message, never a 500 ----------------------------------------------------


def test_a_broken_gzip_body_is_a_clear_error(acme, fake_idp):
    fake_idp.routes["/metadata"] = (
        {"Content-Type": "application/xml", "Content-Encoding": "gzip"},
        b"this is not gzip at all",
        False,
    )
    response = _admin_client(acme.admin).post(
        URL, {"action": "saml", "saml_metadata_url": f"{fake_idp.base_url}/metadata"}
    )
    assert response.status_code == 200
    assert "could not be reached" in unescape(response.content.decode())
    assert not SsoConnection.objects.filter(organization=acme.organization).exists()


def test_a_stalled_answer_is_a_clear_error(acme, fake_idp, settings):
    settings.NETWORK_READ_TIMEOUT = 1
    fake_idp.routes["/.well-known/openid-configuration"] = (
        {"Content-Type": "application/json"},
        b'{"issuer": ',
        True,
    )
    response = _admin_client(acme.admin).post(
        URL,
        {
            "action": "oidc",
            "oidc_issuer": fake_idp.base_url,
            "oidc_client_id": OIDC_CLIENT_ID,
            "oidc_client_secret": OIDC_CLIENT_SECRET,
        },
    )
    assert response.status_code == 200
    assert "could not be reached" in unescape(response.content.decode())


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_an_idp_down_at_sign_in_is_a_message_on_the_login_page(acme_oidc):
    SsoConnection.objects.filter(organization=acme_oidc.organization).update(
        oidc_issuer=f"http://127.0.0.1:{_closed_port()}"
    )
    client = Client()
    response = client.post("/accounts/sso/discover/", {"email": "claire@acme.test"})
    assert response.status_code == 302 and response["Location"] == "/accounts/login/"
    assert "cannot be reached right now" in followed_text(client, response)
    entry = AuditLogEntry.objects.get(action="sso.sign_in_refused")
    assert entry.details["reason"] == "idp_unavailable"
    start = client.get("/accounts/sso/acme/start/")
    assert start.status_code == 302 and start["Location"] == "/accounts/login/"


def test_a_connection_saved_without_checked_endpoints_gets_them_at_sign_in(acme_oidc, oidc_idp):
    SsoConnection.objects.filter(organization=acme_oidc.organization).update(oidc_endpoints={})
    response = Client().post("/accounts/sso/discover/", {"email": "claire@acme.test"})
    assert response.status_code == 200 and response.context["idp_url"].startswith(oidc_idp.issuer)
    connection = SsoConnection.objects.get(organization=acme_oidc.organization)
    assert connection.oidc_endpoints["token_endpoint"].startswith(oidc_idp.issuer)


def test_a_connection_whose_discovery_no_longer_passes_is_refused_at_sign_in(acme, fake_idp):
    fake_idp.routes["/.well-known/openid-configuration"] = (
        {"Content-Type": "application/json"},
        _discovery(fake_idp.base_url),
        False,
    )
    _save_oidc(acme, fake_idp.base_url)
    # Saved before endpoints were kept; the document now sends tokens to the metadata address.
    SsoConnection.objects.filter(organization=acme.organization).update(oidc_endpoints={})
    fake_idp.routes["/.well-known/openid-configuration"] = (
        {"Content-Type": "application/json"},
        _discovery(fake_idp.base_url, token_endpoint="http://169.254.169.254/token"),
        False,
    )
    client = Client()
    response = client.get("/accounts/sso/acme/start/")
    assert response.status_code == 302 and response["Location"] == "/accounts/login/"
    assert "not set up correctly" in followed_text(client, response)
    entry = AuditLogEntry.objects.get(action="sso.sign_in_refused")
    assert entry.details["reason"] == "idp_misconfigured"
    assert SsoConnection.objects.get(organization=acme.organization).oidc_endpoints == {}
