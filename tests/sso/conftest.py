"""Fixtures of the SSO tests: the organisation Acme Santé (slug acme) with its verified
domain acme.test, and the real identity providers on loopback (tests/sso/idps.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client

from organizations.models import Organization, Role, User
from sso import services
from sso.models import ClaimedDomain
from tests.factories import OrganizationFactory, UserFactory
from tests.sso.idps import (
    OIDC_CLIENT_ID,
    OIDC_CLIENT_SECRET,
    OidcIdp,
    oidc_idp_sign_in,
    oidc_idp_start,
)

OIDC_CALLBACK = "/accounts/oidc/sso-acme/login/callback/"


@pytest.fixture(scope="session")
def oidc_idp():
    idp = oidc_idp_start([f"http://testserver{OIDC_CALLBACK}"])
    yield idp
    idp.stop()


@dataclass
class Acme:
    organization: Organization
    admin: User
    domain: ClaimedDomain


@pytest.fixture
def acme(db) -> Acme:
    organization = OrganizationFactory(name="Acme Santé", slug="acme", default_language="fr")
    admin = UserFactory(organization=organization, role=Role.ORG_ADMIN, email="ada@acme.test")
    domain = services.domain_claim(actor=admin, domain="acme.test")
    services.domain_verify_by_operator(claimed=domain)
    return Acme(organization, admin, domain)


@pytest.fixture
def acme_oidc(acme: Acme, oidc_idp: OidcIdp) -> Acme:
    services.connection_save_oidc(
        actor=acme.admin,
        issuer=oidc_idp.issuer,
        client_id=OIDC_CLIENT_ID,
        client_secret=OIDC_CLIENT_SECRET,
    )
    return acme


def browser() -> Client:
    """A test client that sends a Host header, as every browser does (python3-saml reads
    it; Django's test client leaves it out by default)."""
    return Client(HTTP_HOST="testserver")


def signed_in_user_id(client: Client) -> int | None:
    value = client.session.get("_auth_user_id")
    return int(value) if value else None


def followed_text(client: Client, response) -> str:
    """The text of the page a response redirects to (where its messages are shown)."""
    assert response.status_code == 302, response.content[:500]
    return unescape(client.get(response["Location"]).content.decode())


def idp_url(response) -> str:
    """Where the "continue" page sends the browser (a link and a meta refresh)."""
    assert response.status_code == 200, response.content[:500]
    return response.context["idp_url"]


def oidc_start(client: Client, email: str) -> str:
    """The login page's work email: returns the authorisation URL at the IdP."""
    return idp_url(client.post("/accounts/sso/discover/", {"email": email}))


def oidc_sign_in(client: Client, email: str, login: str, *, tamper=None, tamper_back=None):
    """The whole OpenID sign-in, as a browser does it. `tamper` changes the authorisation
    URL on its way to the IdP, `tamper_back` the callback URL on its way back."""
    authorize = oidc_start(client, email)
    if tamper:
        authorize = tamper(authorize)
    back = oidc_idp_sign_in(authorize, login, stop_at="http://testserver/")
    if tamper_back:
        back = tamper_back(back)
    parts = urlsplit(back)
    return client.get(f"{parts.path}?{parts.query}")


# --- SAML -----------------------------------------------------------------------------------

SAML_NOW = datetime(2026, 12, 8, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="session")
def saml_idp(tmp_path_factory):
    from tests.sso.saml_idp import SamlIdp

    idp = SamlIdp(tmp_path_factory.mktemp("saml-idp")).start()
    yield idp
    idp.stop()


@pytest.fixture
def saml_clock(time_machine):
    time_machine.move_to(SAML_NOW, tick=False)
    return time_machine


@pytest.fixture
def acme_saml(acme: Acme, saml_idp, saml_clock) -> Acme:
    services.connection_save_saml(actor=acme.admin, metadata_url=f"{saml_idp.base_url}/metadata")
    metadata = browser().get("/accounts/saml/acme/metadata/")
    assert metadata.status_code == 200, metadata.content[:500]
    saml_idp.trust_sp(metadata.content.decode())
    return acme


@dataclass
class SamlRequest:
    """An AuthnRequest on its way to the IdP, and what the IdP needs to answer it."""

    args: dict
    relay_state: str


def saml_start(client: Client, idp, email: str) -> SamlRequest:
    location = idp_url(client.post("/accounts/sso/discover/", {"email": email}))
    assert location.startswith(f"{idp.base_url}/sso/redirect?"), location
    query = parse_qs(urlsplit(location).query)
    return SamlRequest(
        args=idp.request_info(query["SAMLRequest"][0]),
        relay_state=query.get("RelayState", [""])[0],
    )


def saml_post(client: Client, acs: str, saml_response: str, relay_state: str = ""):
    """The browser posting the IdP's answer to our ACS, then following to the finish."""
    posted = client.post(
        urlsplit(acs).path, {"SAMLResponse": saml_response, "RelayState": relay_state}
    )
    assert posted.status_code == 302, posted.content[:500]
    return client.get(posted["Location"])


@pytest.fixture(autouse=True)
def _english_for_visitors(settings):
    """The assertions read the English messages: visitors (the login page, the token
    endpoint) get the site's default language, French, unless told otherwise."""
    settings.LANGUAGE_CODE = "en"
