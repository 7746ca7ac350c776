"""Signing in: the allauth form, the lockout per account and address, the API token and
the caller's own profile."""

from __future__ import annotations

import pytest
from django.core.cache import caches
from django.test import Client
from rest_framework.test import APIClient

from organizations.models import AuditLogEntry
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

LOGIN_URL = "/accounts/login/"
TOKEN_URL = "/api/v1/auth/token/"
WRONG = "not-the-password"


def _login(client: Client, email: str, password: str, ip: str = "127.0.0.1"):
    return client.post(
        LOGIN_URL,
        {"login": email, "password": password},
        REMOTE_ADDR=ip,
        HTTP_ACCEPT_LANGUAGE="en",
    )


def _logged_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


# --- The sign-in form ---------------------------------------------------------------------


def test_login_page_renders(db):
    response = Client().get(LOGIN_URL)
    assert response.status_code == 200
    assert 'name="login"' in response.content.decode()


def test_login_succeeds_and_is_audited_with_ip(personas):
    client = Client()
    response = _login(client, personas.teammate.email.upper(), PASSWORD, ip="192.0.2.10")
    assert response.status_code == 302
    assert _logged_in(client)
    assert client.session["_auth_user_id"] == str(personas.teammate.pk)
    entry = AuditLogEntry.objects.get(action="auth.login")
    assert entry.actor == personas.teammate
    assert entry.actor_email == personas.teammate.email
    assert entry.organization == personas.organization
    assert entry.ip_address == "192.0.2.10"


def test_failed_login_is_audited(personas):
    client = Client()
    response = _login(client, personas.teammate.email, WRONG, ip="192.0.2.11")
    assert response.status_code == 200
    assert not _logged_in(client)
    assert response.context["form"].errors
    entry = AuditLogEntry.objects.get(action="auth.login_failed")
    assert entry.actor is None
    assert entry.actor_email == personas.teammate.email
    assert entry.organization == personas.organization
    assert entry.ip_address == "192.0.2.11"
    assert entry.details == {"known_account": True}
    assert not AuditLogEntry.objects.filter(action="auth.login").exists()


def test_failed_login_for_unknown_account_is_audited_without_organisation(db):
    _login(Client(), "ghost@nowhere.test", WRONG)
    entry = AuditLogEntry.objects.get(action="auth.login_failed")
    assert entry.organization is None
    assert entry.actor_email == "ghost@nowhere.test"
    assert entry.details == {"known_account": False}


def test_failed_login_never_stores_the_password(personas):
    _login(Client(), personas.teammate.email, "my-secret-attempt")
    entry = AuditLogEntry.objects.get(action="auth.login_failed")
    assert "my-secret-attempt" not in str(entry.details)
    assert "my-secret-attempt" not in entry.actor_email


def test_inactive_account_cannot_sign_in(personas):
    personas.teammate.is_active = False
    personas.teammate.save()
    client = Client()
    _login(client, personas.teammate.email, PASSWORD)
    assert not _logged_in(client)
    assert not AuditLogEntry.objects.filter(action="auth.login").exists()


def test_lockout_after_five_failures_for_account_and_ip(personas):
    victim = personas.teammate
    attacker = Client()
    for _ in range(5):
        _login(attacker, victim.email, WRONG, ip="198.51.100.7")
    assert AuditLogEntry.objects.filter(action="auth.login_failed").count() >= 5

    # The right password from the same address is now refused with the lockout page.
    response = _login(attacker, victim.email, PASSWORD, ip="198.51.100.7")
    assert response.status_code == 429
    assert "Too many failed sign-in attempts" in response.content.decode()
    assert not _logged_in(attacker)

    # The same account from another address still signs in.
    elsewhere = Client()
    response = _login(elsewhere, victim.email, PASSWORD, ip="203.0.113.9")
    assert response.status_code == 302
    assert _logged_in(elsewhere)

    # Another account from the locked address signs in too.
    neighbour = Client()
    response = _login(neighbour, personas.owner.email, PASSWORD, ip="198.51.100.7")
    assert response.status_code == 302
    assert _logged_in(neighbour)


def test_four_failures_do_not_lock_and_success_resets_the_count(personas):
    client = Client()
    for _ in range(4):
        _login(client, personas.teammate.email, WRONG)
    assert _login(client, personas.teammate.email, PASSWORD).status_code == 302
    client.logout()
    for _ in range(4):
        _login(client, personas.teammate.email, WRONG)
    assert _login(client, personas.teammate.email, PASSWORD).status_code == 302


def test_lockout_ignores_the_case_of_the_address(personas):
    client = Client()
    for index in range(5):
        email = personas.teammate.email.upper() if index % 2 else personas.teammate.email
        _login(client, email, WRONG, ip="198.51.100.8")
    assert _login(client, personas.teammate.email, PASSWORD, ip="198.51.100.8").status_code == 429


# --- API token -----------------------------------------------------------------------------


def test_token_for_good_credentials_and_me(personas):
    client = APIClient()
    response = client.post(
        TOKEN_URL, {"email": personas.teammate.email.upper(), "password": PASSWORD}, format="json"
    )
    assert response.status_code == 200
    token = response.json()["token"]
    assert len(token) == 64
    assert set(response.json()) == {"token", "expiry", "prefix"}

    me = APIClient().get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {token}")
    assert me.status_code == 200
    body = me.json()
    assert body["id"] == personas.teammate.pk
    assert body["email"] == personas.teammate.email
    assert body["role"] == "employee"
    assert body["organization"] == {
        "id": personas.organization.pk,
        "name": "Acme Santé",
        "slug": "acme",
        "default_language": personas.organization.default_language,
        "time_zone": personas.organization.time_zone,
        "brand_colour": personas.organization.brand_colour,
    }
    assert body["teams"] == [{"id": personas.team.pk, "name": "Communication"}]
    assert "password" not in body


def test_token_for_bad_password_is_problem_naming_password(personas):
    response = APIClient().post(
        TOKEN_URL, {"email": personas.teammate.email, "password": WRONG}, format="json"
    )
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == 400
    assert body["errors"][0]["field"] == "password"
    assert "token" not in body
    assert AuditLogEntry.objects.filter(action="auth.login_failed").count() == 1


def test_token_for_inactive_user_is_refused(personas):
    personas.teammate.is_active = False
    personas.teammate.save()
    response = APIClient().post(
        TOKEN_URL, {"email": personas.teammate.email, "password": PASSWORD}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "password"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"password": PASSWORD}, "email"),
        ({"email": "not-an-email", "password": PASSWORD}, "email"),
        ({"email": "someone@acme.test"}, "password"),
    ],
)
def test_token_validation_errors_name_the_field(db, payload, field):
    response = APIClient().post(TOKEN_URL, payload, format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["errors"][0]["field"] == field
    assert body["detail"].startswith(f"{field}: ")


def test_token_endpoint_is_throttled(db, settings):
    # A private cache: the Redis database may be cleared by another test run meanwhile.
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "throttle-test",
        }
    }
    assert type(caches["default"]).__name__ == "LocMemCache"
    client = APIClient()
    statuses = [
        client.post(
            TOKEN_URL, {"email": f"x{i}@acme.test", "password": WRONG}, format="json"
        ).status_code
        for i in range(11)
    ]
    assert statuses[:10] == [400] * 10
    assert statuses[10] == 429


def test_token_endpoint_shares_the_login_lockout(personas):
    client = APIClient()
    for _ in range(5):
        client.post(
            TOKEN_URL,
            {"email": personas.teammate.email, "password": WRONG},
            format="json",
            REMOTE_ADDR="198.51.100.20",
        )
    response = client.post(
        TOKEN_URL,
        {"email": personas.teammate.email, "password": PASSWORD},
        format="json",
        REMOTE_ADDR="198.51.100.20",
    )
    assert response.status_code == 429
    # Every API error is problem JSON, the lockout included (not the HTML sign-in page).
    assert response["Content-Type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == 429
    assert "token" not in body


@pytest.mark.parametrize("auth", [None, "Token not-a-real-token"])
def test_me_without_valid_credentials_is_problem(db, auth):
    headers = {"HTTP_AUTHORIZATION": auth} if auth else {}
    response = APIClient().get("/api/v1/me/", **headers)
    assert response.status_code in (401, 403)
    assert response["Content-Type"].startswith("application/problem+json")
    assert response.json()["status"] == response.status_code


def test_me_with_session_login(personas):
    from tests.conftest import client_for

    response = client_for(personas.owner).get("/api/v1/me/")
    assert response.status_code == 200
    assert response.json()["role"] == "org_admin"


def test_me_for_user_without_organisation(db):
    loner = UserFactory(organization=None)
    client = APIClient()
    client.force_authenticate(loner)
    response = client.get("/api/v1/me/")
    assert response.status_code == 200
    assert response.json()["organization"] is None
