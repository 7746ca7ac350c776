"""The API's token endpoint holds to two-factor sign-in: a password alone buys no token
for a person who has a second factor, and a person the policy covers must set one up in
the web app first."""

from __future__ import annotations

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP
from knox.models import AuthToken
from rest_framework.test import APIClient

from organizations.models import AuditLogEntry, Membership, Role
from tests.factories import PASSWORD
from tests.twofactor.conftest import totp_code
from twofactor.models import TwoFactorPolicy

pytestmark = pytest.mark.django_db

TOKEN_URL = "/api/v1/auth/token/"
SECRET = "JBSWY3DPEHPK3PXP"


def _ask(user, **extra):
    return APIClient().post(
        TOKEN_URL, {"email": user.email, "password": PASSWORD, **extra}, format="json"
    )


def test_a_person_with_an_app_gets_no_token_for_a_password_alone(tenant, clock):
    TOTP.activate(tenant.employee, SECRET)
    answer = _ask(tenant.employee)
    assert answer.status_code == 400
    assert answer["Content-Type"] == "application/problem+json"
    body = answer.json()
    assert "two-factor sign-in" in body["detail"] and "“code”" in body["detail"]
    assert body["errors"][0]["field"] == "code"
    wrong = _ask(tenant.employee, code="000000")
    assert wrong.status_code == 400 and "incorrect" in wrong.json()["detail"]
    assert not AuthToken.objects.filter(user=tenant.employee).exists()


def test_a_valid_app_code_gets_a_token_once(tenant, clock):
    TOTP.activate(tenant.employee, SECRET)
    code = totp_code(SECRET)
    answer = _ask(tenant.employee, code=code)
    assert answer.status_code == 200, answer.content
    token = answer.json()["token"]
    me = APIClient()
    me.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert me.get("/api/v1/me/").status_code == 200
    # The same code, seen once, cannot be replayed.
    replay = _ask(tenant.employee, code=code)
    assert replay.status_code == 400 and "already used" in replay.json()["detail"]
    assert AuthToken.objects.filter(user=tenant.employee).count() == 1


def test_a_recovery_code_works_once(tenant, clock):
    TOTP.activate(tenant.editor, SECRET)
    codes = RecoveryCodes.activate(tenant.editor).get_unused_codes()
    assert _ask(tenant.editor, code=codes[0]).status_code == 200
    assert _ask(tenant.editor, code=codes[0]).status_code == 400
    assert _ask(tenant.editor, code=codes[1]).status_code == 200
    assert AuditLogEntry.objects.filter(action="twofactor.recovery_code_used").count() == 2
    stored = Authenticator.objects.get(user=tenant.editor, type=Authenticator.Type.RECOVERY_CODES)
    assert len(stored.wrap().get_unused_codes()) == len(codes) - 2


def test_a_security_key_alone_needs_a_recovery_code(tenant, clock):
    Authenticator.objects.create(
        user=tenant.employee, type=Authenticator.Type.WEBAUTHN, data={"name": "Key"}
    )
    assert _ask(tenant.employee).status_code == 400
    assert _ask(tenant.employee, code="123456").status_code == 400


def test_a_covered_person_without_a_factor_is_sent_to_the_web_app(tenant, clock):
    TwoFactorPolicy.objects.create(organization=tenant.organization, require_editors=True)
    answer = _ask(tenant.editor)
    assert answer.status_code == 403
    assert answer["Content-Type"] == "application/problem+json"
    assert "set it up in the web app" in answer.json()["detail"]
    assert not AuthToken.objects.filter(user=tenant.editor).exists()
    # Not covered: the reviewer and the employee still get their token.
    assert _ask(tenant.reviewer).status_code == 200
    assert _ask(tenant.employee).status_code == 200


def test_a_guest_membership_with_a_covered_role_counts(tenant, clock):
    TwoFactorPolicy.objects.create(organization=tenant.other_organization, require_editors=True)
    assert _ask(tenant.employee).status_code == 200
    Membership.objects.create(
        user=tenant.employee, organization=tenant.other_organization, role=Role.EDITOR
    )
    assert _ask(tenant.employee).status_code == 403


def test_a_person_without_a_factor_and_not_covered_gets_a_token_as_before(tenant, clock):
    answer = _ask(tenant.editor)
    assert answer.status_code == 200
    assert set(answer.json()) == {"token", "expiry", "prefix"}


def test_the_schema_documents_the_code_field(tmp_path):
    from django.core.management import call_command

    target = tmp_path / "schema.yml"
    call_command("spectacular", "--file", str(target))
    assert "recovery codes (each works once)" in target.read_text()
