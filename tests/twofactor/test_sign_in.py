"""Enrolling an authenticator app and signing in with it, through the real pages, with TOTP
codes computed here from the secret the page shows; then signing in with a recovery code.
The clock is stopped (conftest.NOW): allauth reads the same clock."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from allauth.mfa.models import Authenticator
from django.test import Client

from organizations.models import AuditLogEntry
from tests.factories import PASSWORD
from tests.twofactor.conftest import NOW, totp_code
from twofactor.models import TwoFactorPolicy

pytestmark = pytest.mark.django_db


def _sign_in(client: Client, email: str):
    return client.post("/accounts/login/", {"login": email, "password": PASSWORD})


def _enrol_totp(client: Client) -> str:
    # Changing one's factors asks for the password again, even just after signing in.
    assert client.get("/accounts/2fa/totp/activate/")["Location"].startswith(
        "/accounts/reauthenticate/"
    )
    assert client.post("/accounts/reauthenticate/", {"password": PASSWORD}).status_code == 302
    page = client.get("/accounts/2fa/totp/activate/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'src="data:image/svg+xml;base64,' in html  # the QR code, inline (CSP allows data:)
    secret = re.search(r"data-totp-secret>([A-Z2-7]+)<", html).group(1)
    wrong = client.post("/accounts/2fa/totp/activate/", {"code": "000000"})
    assert wrong.status_code == 200 and not Authenticator.objects.exists()
    done = client.post("/accounts/2fa/totp/activate/", {"code": totp_code(secret)})
    assert done.status_code == 302
    return secret


def test_enrol_an_authenticator_app_then_sign_in_with_it(
    tenant, clock, django_capture_on_commit_callbacks
):
    TwoFactorPolicy.objects.create(organization=tenant.organization, require_editors=True)
    client = Client()
    assert _sign_in(client, tenant.editor.email).status_code == 302
    assert client.get("/feed/")["Location"] == "/two-factor/required/"
    with django_capture_on_commit_callbacks(execute=True):
        secret = _enrol_totp(client)
    kinds = set(Authenticator.objects.filter(user=tenant.editor).values_list("type", flat=True))
    assert kinds == {"totp", "recovery_codes"}  # recovery codes come with the first factor
    assert client.get("/feed/").status_code == 200  # no longer held
    added = AuditLogEntry.objects.filter(action="twofactor.added", actor=tenant.editor)
    assert sorted(added.values_list("details__type", flat=True)) == ["recovery_codes", "totp"]
    profile = client.get("/me/").content.decode()
    assert 'data-two-factor-status="on"' in profile

    client.post("/accounts/logout/")
    answer = _sign_in(client, tenant.editor.email)
    assert answer.status_code == 302 and answer["Location"] == "/accounts/2fa/authenticate/"
    assert client.get("/feed/").status_code == 302  # the password alone does not sign in
    stage = client.get("/accounts/2fa/authenticate/")
    assert stage.status_code == 200
    assert b"mfa_webauthn_authenticate" not in stage.content  # no key: no key button
    # A wrong code, then the code of the next period (the one just used cannot serve twice).
    assert client.post("/accounts/2fa/authenticate/", {"code": "123456"}).status_code == 200
    clock.move_to(NOW + timedelta(seconds=30), tick=False)
    signed = client.post(
        "/accounts/2fa/authenticate/", {"code": totp_code(secret, NOW + timedelta(seconds=30))}
    )
    assert signed.status_code == 302
    assert client.get("/feed/").status_code == 200


def test_sign_in_with_a_recovery_code_once_and_audited(
    tenant, clock, django_capture_on_commit_callbacks
):
    client = Client()
    _sign_in(client, tenant.editor.email)
    with django_capture_on_commit_callbacks(execute=True):
        _enrol_totp(client)
    html = client.get("/accounts/2fa/recovery-codes/").content.decode()
    codes = re.findall(r"<li>(\d{8})</li>", html.split("data-recovery-codes")[1])
    assert len(codes) == 10
    client.post("/accounts/logout/")

    _sign_in(client, tenant.editor.email)
    assert client.post("/accounts/2fa/authenticate/", {"code": codes[0]}).status_code == 302
    assert client.get("/feed/").status_code == 200
    entry = AuditLogEntry.objects.get(action="twofactor.recovery_code_used")
    assert entry.actor == tenant.editor and entry.details == {"unused": 9}
    client.post("/accounts/logout/")

    # The same code does not work twice.
    _sign_in(client, tenant.editor.email)
    again = client.post("/accounts/2fa/authenticate/", {"code": codes[0]})
    assert again.status_code == 200 and client.get("/feed/").status_code == 302
    assert client.post("/accounts/2fa/authenticate/", {"code": codes[1]}).status_code == 302


def test_removing_the_last_factor_is_audited_and_held_again(
    tenant, clock, django_capture_on_commit_callbacks
):
    TwoFactorPolicy.objects.create(organization=tenant.organization, require_editors=True)
    client = Client()
    _sign_in(client, tenant.editor.email)
    with django_capture_on_commit_callbacks(execute=True):
        _enrol_totp(client)
    assert client.get("/feed/").status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post("/accounts/2fa/totp/deactivate/").status_code == 302
    assert not Authenticator.objects.filter(user=tenant.editor).exists()
    removed = AuditLogEntry.objects.filter(action="twofactor.removed", actor=tenant.editor)
    assert set(removed.values_list("details__type", flat=True)) == {"totp", "recovery_codes"}
    assert client.get("/feed/")["Location"] == "/two-factor/required/"
