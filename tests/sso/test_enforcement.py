"""Requiring SSO: password sign-in refused for the organisation's verified domains, on the
login page and the API, except the break-glass administrator on the login page, loudly
audited; and the login page's work email sends people to their IdP."""

from __future__ import annotations

from html import unescape

import pytest
from django.test import Client
from rest_framework.test import APIClient

from organizations.errors import DomainError
from organizations.models import AuditLogEntry, Role
from sso import services
from tests.factories import PASSWORD, OrganizationFactory, UserFactory
from tests.sso.conftest import followed_text, idp_url, signed_in_user_id

pytestmark = pytest.mark.django_db


def _password_login(client: Client, email: str):
    return client.post("/accounts/login/", {"login": email, "password": PASSWORD})


@pytest.fixture
def enforced(acme_oidc):
    employee = UserFactory(organization=acme_oidc.organization, email="eve@acme.test")
    services.enforcement_set(
        actor=acme_oidc.admin, require_sso=True, break_glass_admin=acme_oidc.admin
    )
    acme_oidc.employee = employee
    return acme_oidc


def test_password_sign_in_is_refused_where_sso_is_required(enforced):
    client = Client()
    response = _password_login(client, "eve@acme.test")
    assert response.status_code == 200
    assert signed_in_user_id(client) is None
    assert "signs in with single sign-on" in unescape(response.content.decode())
    assert AuditLogEntry.objects.filter(action="sso.password_refused").exists()


def test_the_api_refuses_a_password_too_even_the_break_glass_admin(enforced):
    for email in ("eve@acme.test", "ada@acme.test"):
        response = APIClient().post(
            "/api/v1/auth/token/", {"email": email, "password": PASSWORD}, format="json"
        )
        assert response.status_code == 400, response.content


def test_the_break_glass_admin_signs_in_and_it_is_loudly_audited(enforced):
    client = Client()
    response = _password_login(client, "ada@acme.test")
    assert response.status_code == 302
    assert signed_in_user_id(client) == enforced.admin.pk
    entry = AuditLogEntry.objects.get(action="sso.break_glass_sign_in")
    assert entry.actor == enforced.admin and entry.details == {"severity": "high"}
    page = client.get("/admin/sso/")
    assert "data-sso-break-glass" in page.content.decode()


def test_other_organisations_keep_their_passwords(enforced):
    other = OrganizationFactory(slug="other")
    someone = UserFactory(organization=other, email="someone@other.test")
    client = Client()
    assert _password_login(client, someone.email).status_code == 302
    assert signed_in_user_id(client) == someone.pk


def test_an_unverified_domain_is_never_enforced(acme_oidc):
    employee = UserFactory(organization=acme_oidc.organization, email="eve@acme.test")
    services.enforcement_set(actor=acme_oidc.admin, require_sso=True, break_glass_admin=None)
    acme_oidc.domain.verified_at = None
    acme_oidc.domain.save()
    client = Client()
    assert _password_login(client, employee.email).status_code == 302


def test_requiring_sso_needs_a_connection_and_a_verified_domain(acme):
    with pytest.raises(DomainError, match="Set up your identity provider"):
        services.enforcement_set(actor=acme.admin, require_sso=True, break_glass_admin=None)


def test_the_break_glass_admin_must_be_an_admin_of_the_organisation(enforced):
    with pytest.raises(DomainError, match="break-glass"):
        services.enforcement_set(
            actor=enforced.admin, require_sso=True, break_glass_admin=enforced.employee
        )
    outsider = UserFactory(organization=OrganizationFactory(slug="other"), role=Role.ORG_ADMIN)
    with pytest.raises(DomainError, match="break-glass"):
        services.enforcement_set(actor=enforced.admin, require_sso=True, break_glass_admin=outsider)


def test_disabling_sso_ends_enforcement(enforced):
    services.connection_disable(actor=enforced.admin)
    client = Client()
    assert _password_login(client, "eve@acme.test").status_code == 302


# --- Discovery on the login page -----------------------------------------------------------


def test_the_login_page_offers_the_work_email_and_the_password(db):
    page = Client().get("/accounts/login/").content.decode()
    assert 'action="/accounts/sso/discover/"' in page
    assert 'name="password"' in page


def test_a_domain_without_sso_goes_back_to_the_password(acme):
    client = Client()
    response = client.post("/accounts/sso/discover/", {"email": "someone@acme.test"})
    assert response["Location"] == "/accounts/login/"
    assert "No single sign-on for acme.test" in followed_text(client, response)


def test_a_claimed_but_unverified_domain_is_not_routed(acme_oidc):
    acme_oidc.domain.verified_at = None
    acme_oidc.domain.save()
    response = Client().post("/accounts/sso/discover/", {"email": "claire@acme.test"})
    assert response["Location"] == "/accounts/login/"


def test_a_verified_domain_goes_to_the_idp(acme_oidc, oidc_idp):
    response = Client().post("/accounts/sso/discover/", {"email": "Claire@ACME.test"})
    assert idp_url(response).startswith(oidc_idp.issuer)
    page = response.content.decode()
    assert 'http-equiv="refresh"' in page and "data-sso-idp-link" in page


def test_a_bad_email_is_a_clear_message(db):
    client = Client()
    response = client.post("/accounts/sso/discover/", {"email": "not an email"})
    assert "Enter your work email address" in followed_text(client, response)


def test_next_is_kept_only_when_it_is_local(acme):
    client = Client()
    response = client.post(
        "/accounts/sso/discover/", {"email": "x@nowhere.test", "next": "https://evil.test/"}
    )
    assert response["Location"] == "/accounts/login/"
    response = client.post("/accounts/sso/discover/", {"email": "x@nowhere.test", "next": "/feed/"})
    assert response["Location"] == "/accounts/login/?next=%2Ffeed%2F"


def test_the_organisations_stable_sign_in_link(acme_oidc, oidc_idp):
    response = Client().get("/accounts/sso/acme/start/")
    assert idp_url(response).startswith(oidc_idp.issuer)
    assert Client().get("/accounts/sso/nobody/start/").status_code == 404


# --- Every way of signing in, not only the password ----------------------------------------


def _request_with_session():
    """A request as allauth's views get it: with a session and messages."""
    from django.contrib.auth.models import AnonymousUser
    from django.contrib.messages.storage.fallback import FallbackStorage
    from django.contrib.sessions.backends.db import SessionStore
    from django.test import RequestFactory

    request = RequestFactory().post("/accounts/login/")
    request.session = SessionStore()
    request.user = AnonymousUser()
    request._messages = FallbackStorage(request)
    return request


def _passkey_login(user):
    """allauth's passkey sign-in (what its login view runs once the browser's assertion
    is verified): it never calls authenticate(), only pre_login()."""
    from allauth.account.models import Login
    from allauth.core.context import request_context
    from allauth.mfa.models import Authenticator
    from allauth.mfa.webauthn.internal.flows import perform_passwordless_login

    authenticator = Authenticator.objects.create(
        user=user, type=Authenticator.Type.WEBAUTHN, data={"name": "key", "credential": {}}
    )
    request = _request_with_session()
    with request_context(request):
        response = perform_passwordless_login(request, authenticator, Login(user=user))
    return request, response


def _messages_of(request) -> str:
    return " ".join(str(m) for m in request._messages)


def test_a_passkey_does_not_get_round_sso(enforced):
    request, response = _passkey_login(enforced.employee)
    assert response.status_code == 302 and response["Location"] == "/accounts/login/"
    assert "_auth_user_id" not in request.session
    assert "signs in with single sign-on" in _messages_of(request)
    entry = AuditLogEntry.objects.get(action="sso.password_refused", target_id=enforced.employee.pk)
    assert entry.details["method"] == "mfa"


def test_a_passkey_does_not_get_round_sso_for_the_break_glass_admin_either(enforced):
    request, response = _passkey_login(enforced.admin)
    assert response["Location"] == "/accounts/login/"
    assert "_auth_user_id" not in request.session
    assert not AuditLogEntry.objects.filter(action="sso.break_glass_sign_in").exists()


def test_a_passkey_still_signs_in_where_sso_is_not_required(acme_oidc):
    employee = UserFactory(organization=acme_oidc.organization, email="eve@acme.test")
    request, response = _passkey_login(employee)
    assert response.status_code == 302 and response["Location"] != "/accounts/login/"
    assert request.session["_auth_user_id"] == str(employee.pk)


def test_sso_of_the_organisation_still_signs_in_under_enforcement(enforced, oidc_idp):
    from tests.sso.conftest import oidc_sign_in

    dora = UserFactory(organization=enforced.organization, email="dora@acme.test")
    client = Client(HTTP_HOST="testserver")
    oidc_sign_in(client, "dora@acme.test", "dora")
    assert signed_in_user_id(client) == dora.pk


def test_the_break_glass_admin_with_a_second_factor_is_audited(enforced, time_machine):
    from allauth.mfa.totp.internal.auth import TOTP

    from tests.twofactor.conftest import NOW, totp_code

    time_machine.move_to(NOW, tick=False)
    secret = "JBSWY3DPEHPK3PXP"
    TOTP.activate(enforced.admin, secret)
    client = Client()
    response = _password_login(client, "ada@acme.test")
    assert response.status_code == 302 and "/2fa/authenticate/" in response["Location"]
    assert signed_in_user_id(client) is None
    # Audited when the password is accepted, before the second factor.
    entry = AuditLogEntry.objects.get(action="sso.break_glass_sign_in")
    assert entry.actor == enforced.admin and entry.details == {"severity": "high"}
    done = client.post(response["Location"], {"code": totp_code(secret)})
    assert done.status_code == 302, done.content[:500]
    assert signed_in_user_id(client) == enforced.admin.pk
    assert AuditLogEntry.objects.filter(action="sso.break_glass_sign_in").count() == 1


@pytest.mark.parametrize(
    "change",
    [
        {"is_active": False},
        {"role": Role.EDITOR},
    ],
)
def test_a_break_glass_admin_who_is_no_longer_an_active_admin_is_refused(enforced, change):
    admin = enforced.admin
    for name, value in change.items():
        setattr(admin, name, value)
    admin.save()
    enforced.organization.sso_connection.refresh_from_db()
    assert enforced.organization.sso_connection.break_glass_admin is None
    client = Client()
    assert _password_login(client, "ada@acme.test").status_code == 200
    assert signed_in_user_id(client) is None
    assert not AuditLogEntry.objects.filter(action="sso.break_glass_sign_in").exists()


def test_a_demoted_break_glass_admin_is_refused_even_if_still_named(enforced):
    """Checked at sign-in, not only when the role changes (a change written without
    save(), an update() for instance, sends no signal)."""
    from organizations.models import User

    User.objects.filter(pk=enforced.admin.pk).update(role=Role.EDITOR)
    client = Client()
    assert _password_login(client, "ada@acme.test").status_code == 200
    assert signed_in_user_id(client) is None


def test_accepting_an_invitation_does_not_sign_in_with_a_password_under_enforcement(enforced):
    from tests.factories import InvitationFactory

    invitation = InvitationFactory(
        organization=enforced.organization, email="new.person@acme.test", invited_by=enforced.admin
    )
    client = Client()
    response = client.post(
        f"/invitations/{invitation.token}/",
        {
            "first_name": "Nina",
            "last_name": "Nouvelle",
            "password": "Un-mot-de-passe-2026",
            "password_confirm": "Un-mot-de-passe-2026",
        },
    )
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert signed_in_user_id(client) is None
    page = unescape(client.get(response["Location"]).content.decode())
    assert "signs in with single sign-on" in page
    assert enforced.organization.members.filter(email="new.person@acme.test").exists()


def test_accepting_an_invitation_signs_in_where_sso_is_not_required(acme):
    from tests.factories import InvitationFactory

    invitation = InvitationFactory(
        organization=acme.organization, email="new.person@acme.test", invited_by=acme.admin
    )
    client = Client()
    response = client.post(
        f"/invitations/{invitation.token}/",
        {
            "first_name": "Nina",
            "last_name": "Nouvelle",
            "password": "Un-mot-de-passe-2026",
            "password_confirm": "Un-mot-de-passe-2026",
        },
    )
    assert response.status_code == 302
    assert signed_in_user_id(client) is not None
