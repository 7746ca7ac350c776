"""Single sign-on in Chromium: a person types their work email on the login page, signs
in at their organisation's real IdP (node-oidc-provider, pysaml2) and lands in Portevoix;
and the admin's SSO page at 390 and 1280 px, in English and French."""

from __future__ import annotations

import pytest
import requests
from playwright.sync_api import expect

from organizations.models import Role, User
from sso import services
from tests.e2e.conftest import browser, page, screenshot  # noqa: F401  (fixtures)
from tests.factories import PASSWORD, OrganizationFactory, UserFactory
from tests.sso.idps import OIDC_CLIENT_ID, OIDC_CLIENT_SECRET, oidc_idp_start

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _acme(language: str = "en") -> tuple:
    organization = OrganizationFactory(name="Acme Santé", slug="acme", default_language=language)
    admin = UserFactory(
        organization=organization, role=Role.ORG_ADMIN, email="ada@acme.test", language=language
    )
    domain = services.domain_claim(actor=admin, domain="acme.test")
    services.domain_verify_by_operator(claimed=domain)
    return organization, admin


@pytest.fixture
def oidc_idp_live(live_server):
    idp = oidc_idp_start([f"{live_server.url}/accounts/oidc/sso-acme/login/callback/"])
    yield idp
    idp.stop()


def _continue_with_sso(page, email: str) -> None:  # noqa: F811
    page.goto("/accounts/login/")
    page.fill("#sso-email", email)
    page.locator("form[action$='/accounts/sso/discover/'] button[type=submit]").click()


def test_oidc_sign_in_in_the_browser(page, live_server, oidc_idp_live):  # noqa: F811
    _organization, admin = _acme()
    services.connection_save_oidc(
        actor=admin,
        issuer=oidc_idp_live.issuer,
        client_id=OIDC_CLIENT_ID,
        client_secret=OIDC_CLIENT_SECRET,
    )
    _continue_with_sso(page, "claire.martin@acme.test")
    # oidc-provider's own sign-in form.
    # (oidc-provider's page asks fonts of the Internet: do not wait for "load".)
    page.wait_for_url(f"{oidc_idp_live.issuer}/**", wait_until="domcontentloaded")
    page.fill("input[name=login]", "claire")
    page.fill("input[name=password]", "any")
    page.locator("button[type=submit]").click()
    page.wait_for_url(f"{live_server.url}/feed/")
    claire = User.objects.get(email="claire.martin@acme.test")
    assert claire.organization.slug == "acme"
    expect(page.locator("body")).not_to_contain_text("Sign in with your password")
    screenshot(page, "sso-oidc-signed-in")


def test_saml_sign_in_in_the_browser(page, live_server, saml_idp):  # noqa: F811
    _organization, admin = _acme()
    services.connection_save_saml(actor=admin, metadata_url=f"{saml_idp.base_url}/metadata")
    metadata = requests.get(f"{live_server.url}/accounts/saml/acme/metadata/", timeout=10)
    assert metadata.status_code == 200
    saml_idp.trust_sp(metadata.text)

    _continue_with_sso(page, "claire.martin@acme.test")
    page.wait_for_url(f"{saml_idp.base_url}/sso/redirect**", wait_until="domcontentloaded")
    page.select_option("select[name=login]", "claire")
    page.locator("button[type=submit]").click()
    page.wait_for_url(f"{live_server.url}/feed/")
    claire = User.objects.get(email="claire.martin@acme.test")
    assert (claire.first_name, claire.last_name) == ("Claire", "Martin")


def test_password_refused_in_the_browser_when_sso_is_required(page, live_server, saml_idp):  # noqa: F811
    organization, admin = _acme()
    services.connection_save_saml(actor=admin, metadata_url=f"{saml_idp.base_url}/metadata")
    services.enforcement_set(actor=admin, require_sso=True, break_glass_admin=None)
    UserFactory(organization=organization, email="eve@acme.test")
    page.goto("/accounts/login/")
    page.fill("input[name=login]", "eve@acme.test")
    page.fill("input[name=password]", PASSWORD)
    page.locator("form[action$='/accounts/login/'] button[type=submit]").click()
    expect(page.locator("body")).to_contain_text("Acme Santé signs in with single sign-on")
    page.set_viewport_size({"width": 390, "height": 900})
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(page, "sso-login-password-refused-390")


@pytest.mark.parametrize("language", ["en", "fr"])
def test_the_admin_page_at_both_widths(page, live_server, saml_idp, language):  # noqa: F811
    _organization, admin = _acme(language)
    services.connection_save_saml(actor=admin, metadata_url=f"{saml_idp.base_url}/metadata")
    services.domain_claim(actor=admin, domain="acme-sante.test")
    page.goto("/accounts/login/")
    page.fill("input[name=login]", admin.email)
    page.fill("input[name=password]", PASSWORD)
    page.locator("form[action$='/accounts/login/'] button[type=submit]").click()
    page.wait_for_load_state()
    for width in (390, 1280):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto("/admin/sso/")
        expect(page.locator("[data-sso-acs-url]")).to_have_text(
            f"{live_server.url}/accounts/saml/acme/acs/"
        )
        expect(page.locator("[data-sso-domain='acme-sante.test']")).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        screenshot(page, f"sso-admin-{language}-{width}")
    # A bad upload: a clear message, nothing changed.
    page.set_input_files(
        "input[name=saml_metadata_file]",
        files=[{"name": "idp.xml", "mimeType": "text/xml", "buffer": b"not xml"}],
    )
    page.locator("button[value=saml]").click()
    expect(page.locator("#saml [data-error-summary]")).to_contain_text(
        "not readable SAML metadata" if language == "en" else "SAML"
    )
    screenshot(page, f"sso-admin-error-{language}")
