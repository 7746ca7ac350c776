"""The policy held: a person whose role it covers and who has no second factor reaches
only the set-up pages until they have one."""

from __future__ import annotations

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from knox.models import AuthToken

from tests.conftest import client_for
from tests.factories import PASSWORD
from twofactor.models import TwoFactorPolicy

pytestmark = pytest.mark.django_db


@pytest.fixture
def policy(tenant):
    return TwoFactorPolicy.objects.create(
        organization=tenant.organization, require_editors=True, require_admins=True
    )


def test_without_a_policy_nobody_is_held(tenant):
    assert client_for(tenant.editor).get("/feed/").status_code == 200


def test_a_covered_person_without_a_factor_is_sent_to_the_explanation(tenant, policy):
    client = client_for(tenant.editor)
    answer = client.get("/feed/")
    assert answer.status_code == 302 and answer["Location"] == "/two-factor/required/"
    page = client.get("/two-factor/required/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "requires two-factor sign-in for your role (Editor)" in html
    assert 'href="/accounts/2fa/totp/activate/"' in html
    assert 'href="/accounts/2fa/webauthn/add/"' in html
    # htmx requests are told where to go.
    htmx = client.get("/feed/", headers={"HX-Request": "true"})
    assert htmx["HX-Redirect"] == "/two-factor/required/"


def test_the_allowlist_stays_reachable(tenant, policy):
    client = client_for(tenant.editor)
    for path in ("/accounts/2fa/", "/accounts/reauthenticate/", "/healthz"):
        answer = client.get(path)
        assert answer.status_code == 200, path
    # The set-up pages first ask for the password again, then open.
    for path in ("/accounts/2fa/totp/activate/", "/accounts/2fa/webauthn/add/"):
        assert client.get(path)["Location"].startswith("/accounts/reauthenticate/")
    client.post("/accounts/reauthenticate/", {"password": PASSWORD})
    for path in ("/accounts/2fa/totp/activate/", "/accounts/2fa/webauthn/add/"):
        assert client.get(path).status_code == 200, path
    assert client.post("/language/", {"language": "fr"}).status_code in (200, 302)
    assert client.post("/accounts/logout/").status_code == 302


def test_roles_not_covered_and_other_organisations_are_not_held(tenant, policy):
    assert client_for(tenant.reviewer).get("/feed/").status_code == 200  # reviewers off
    assert client_for(tenant.employee).get("/feed/").status_code == 200
    assert client_for(tenant.outsider_editor).get("/feed/").status_code == 200


def test_a_person_with_a_factor_goes_on(tenant, policy):
    Authenticator.objects.create(
        user=tenant.editor, type=Authenticator.Type.TOTP, data={"secret": "JBSWY3DPEHPK3PXP"}
    )
    client = client_for(tenant.editor)
    assert client.get("/feed/").status_code == 200
    # Recovery codes alone are not a factor.
    Authenticator.objects.filter(user=tenant.employee).delete()
    RecoveryCodes.activate(tenant.admin)
    assert client_for(tenant.admin).get("/feed/").status_code == 302


def test_the_policy_applies_to_sessions_already_open(tenant):
    client = client_for(tenant.editor)
    assert client.get("/feed/").status_code == 200
    client_for(tenant.admin).post("/admin/two-factor/", {"require_editors": "on"})
    assert client.get("/feed/").status_code == 302


def test_api_with_a_token_is_untouched_but_a_session_is_refused(tenant, policy):
    _instance, token = AuthToken.objects.create(user=tenant.editor)
    from django.test import Client

    with_token = Client().get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {token}")
    assert with_token.status_code == 200
    with_session = client_for(tenant.editor).get("/api/v1/me/")
    assert with_session.status_code == 403
    assert with_session["Content-Type"] == "application/problem+json"


def test_a_new_api_token_needs_the_factor_set_up_first(tenant, policy, clock):
    """Existing tokens keep working (above), but a password alone no longer buys a new
    one: the covered editor is sent to the web app, then asked for a code."""
    from allauth.mfa.totp.internal.auth import TOTP
    from rest_framework.test import APIClient

    from tests.twofactor.conftest import totp_code

    def ask(**extra):
        return APIClient().post(
            "/api/v1/auth/token/",
            {"email": tenant.editor.email, "password": PASSWORD, **extra},
            format="json",
        )

    refused = ask()
    assert refused.status_code == 403 and "web app" in refused.json()["detail"]
    TOTP.activate(tenant.editor, "JBSWY3DPEHPK3PXP")
    assert ask().status_code == 400
    assert ask(code=totp_code("JBSWY3DPEHPK3PXP")).status_code == 200
