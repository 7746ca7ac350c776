"""A security key enrolled and used in a real Chromium: the key is a virtual authenticator
(CTAP2, USB, with resident keys and user verification) added through Chromium's DevTools
protocol, so the browser runs the whole WebAuthn ceremony against the live server."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from allauth.mfa.models import Authenticator

from organizations.models import AuditLogEntry, Role
from tests.e2e.conftest import ROOT, browser  # noqa: F401 (the session's Chromium)
from tests.factories import PASSWORD, OrganizationFactory, UserFactory
from twofactor.models import TwoFactorPolicy

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SHOTS = Path(os.environ.get("TWOFACTOR_SCREENSHOTS") or ROOT / "test-artifacts" / "screenshots")


def _sign_in(page, email: str) -> None:
    page.goto("/accounts/login/")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", PASSWORD)
    page.locator("form[action$='/accounts/login/'] button[type=submit]").click()


def _virtual_key(page) -> tuple[object, str]:
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable", {"enableUI": False})
    added = cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "usb",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )
    return cdp, added["authenticatorId"]


@pytest.mark.parametrize("width", [390, 1280])
def test_enrol_a_security_key_then_sign_in_with_it(browser, live_server, width):  # noqa: F811
    organization = OrganizationFactory(name="Acme Santé", slug="acme")
    editor = UserFactory(organization=organization, role=Role.EDITOR, email="editor@acme.test")
    TwoFactorPolicy.objects.create(organization=organization, require_editors=True)
    # WebAuthn wants a host name (never an IP address) as the relying party: "localhost".
    context = browser.new_context(
        base_url=live_server.url.replace("127.0.0.1", "localhost"),
        viewport={"width": width, "height": 900},
        locale="en-GB",
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        cdp, authenticator_id = _virtual_key(page)
        _sign_in(page, editor.email)
        page.wait_for_url("**/two-factor/required/")
        page.locator("main a[href='/accounts/2fa/webauthn/add/']").click()
        # Changing one's factors asks for the password again.
        page.wait_for_url(re.compile(r"/accounts/reauthenticate/"))
        page.fill("input[name=password]", PASSWORD)
        page.locator("main button[type=submit]").click()
        page.wait_for_url("**/accounts/2fa/webauthn/add/")
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"twofactor-webauthn-add-{width}.png"), full_page=True)
        page.fill("input[name=name]", "Blue USB key")
        page.click("#mfa_webauthn_add")
        # The first factor brings recovery codes, shown at once.
        page.wait_for_url("**/accounts/2fa/recovery-codes/")
        assert page.locator("[data-recovery-codes] li").count() == 10
        assert page.evaluate("document.documentElement.scrollWidth") <= width + 1
        page.screenshot(path=str(SHOTS / f"twofactor-recovery-codes-{width}.png"), full_page=True)
        key = Authenticator.objects.get(user=editor, type=Authenticator.Type.WEBAUTHN)
        assert str(key) == "Blue USB key"
        credentials = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator_id})
        assert len(credentials["credentials"]) == 1
        assert AuditLogEntry.objects.filter(action="twofactor.added", actor=editor).exists()
        page.goto("/feed/")
        assert page.url.endswith("/feed/")  # no longer held

        # Signed out, then in again: the password, then the key.
        context.clear_cookies()
        _sign_in(page, editor.email)
        page.wait_for_url("**/accounts/2fa/authenticate/")
        page.screenshot(path=str(SHOTS / f"twofactor-authenticate-{width}.png"), full_page=True)
        page.click("#mfa_webauthn_authenticate")
        page.wait_for_url("**/feed/")
        credentials = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator_id})
        assert credentials["credentials"][0]["signCount"] >= 1
        key.refresh_from_db()
        assert key.last_used_at is not None
    finally:
        context.close()


def test_a_passkey_signs_in_from_the_login_page_without_the_password(browser, live_server):  # noqa: F811
    organization = OrganizationFactory(name="Acme Santé", slug="acme")
    person = UserFactory(organization=organization, role=Role.EMPLOYEE, email="ines@acme.test")
    context = browser.new_context(
        base_url=live_server.url.replace("127.0.0.1", "localhost"),
        viewport={"width": 390, "height": 900},
        locale="fr-FR",
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        cdp, authenticator_id = _virtual_key(page)
        _sign_in(page, person.email)
        page.wait_for_url("**/feed/")
        page.goto("/accounts/2fa/webauthn/add/")
        page.wait_for_url(re.compile(r"/accounts/reauthenticate/"))
        page.fill("input[name=password]", PASSWORD)
        page.locator("main button[type=submit]").click()
        page.wait_for_url("**/accounts/2fa/webauthn/add/")
        page.fill("input[name=name]", "Téléphone")
        page.check("input[name=passwordless]")
        page.click("#mfa_webauthn_add")
        page.wait_for_url("**/accounts/2fa/recovery-codes/")
        credentials = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator_id})
        assert credentials["credentials"][0]["isResidentCredential"] is True

        context.clear_cookies()
        page.goto("/accounts/login/")
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "login-passkey-390-fr.png"), full_page=True)
        page.click("#passkey_login")
        page.wait_for_url("**/feed/")
        assert AuditLogEntry.objects.filter(action="auth.login", actor=person).count() == 2
    finally:
        context.close()
