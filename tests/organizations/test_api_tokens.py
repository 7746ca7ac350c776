"""API tokens (django-rest-knox): stored as a digest, expiring, listed and revoked by
their owner, and all revoked when the password changes or is reset, on deactivation and
on lockout."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

from organizations import services
from organizations.models import AuditLogEntry
from tests.conftest import client_for
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

TOKEN_URL = "/api/v1/auth/token/"
TOKENS_URL = "/api/v1/auth/tokens/"
NEW_PASSWORD = "a-Brand-new-passphrase-42"


def _issue(user, password: str = PASSWORD) -> dict:
    response = APIClient().post(
        TOKEN_URL, {"email": user.email, "password": password}, format="json"
    )
    assert response.status_code == 200, response.content
    return response.json()


def _with_token(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def _works(token: str) -> bool:
    status = _with_token(token).get("/api/v1/me/").status_code
    assert status in (200, 401), status
    return status == 200


# --- Storage and expiry ------------------------------------------------------------------


def test_token_is_stored_as_a_digest_only(personas):
    body = _issue(personas.teammate)
    token = body["token"]
    assert _works(token)
    row = AuthToken.objects.get(user=personas.teammate)
    assert row.digest != token
    assert body["prefix"] == row.token_key and len(row.token_key) < len(token) // 2
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {AuthToken._meta.db_table}")  # noqa: S608
        stored = " ".join(str(value) for row in cursor.fetchall() for value in row)
    assert token not in stored
    # The clear tokens of rest_framework.authtoken are gone with their table.
    assert "authtoken_token" not in connection.introspection.table_names()


def test_token_expires_after_the_configured_days(personas, settings, time_machine):
    assert settings.API_TOKEN_TTL_DAYS == 30
    time_machine.move_to(timezone.now(), tick=False)
    body = _issue(personas.teammate)
    expiry = timezone.now() + timedelta(days=30)
    assert AuthToken.objects.get(user=personas.teammate).expiry == expiry
    assert body["expiry"].startswith(timezone.localtime(expiry).strftime("%Y-%m-%dT%H:%M"))

    time_machine.move_to(expiry - timedelta(minutes=1), tick=False)
    assert _works(body["token"])
    time_machine.move_to(expiry + timedelta(seconds=1), tick=False)
    response = _with_token(body["token"]).get("/api/v1/me/")
    assert response.status_code == 401
    assert response["Content-Type"].startswith("application/problem+json")
    assert response["WWW-Authenticate"] == "Token"


def test_each_request_issues_a_new_token_and_both_work(personas):
    first = _issue(personas.teammate)["token"]
    second = _issue(personas.teammate)["token"]
    assert first != second
    assert _works(first) and _works(second)


def test_lockout_applies_to_the_token_endpoint_and_revokes_every_token(personas):
    token = _issue(personas.teammate)["token"]
    client = APIClient()
    for _attempt in range(5):
        client.post(
            TOKEN_URL,
            {"email": personas.teammate.email, "password": "wrong"},
            format="json",
            REMOTE_ADDR="203.0.113.9",
        )
    locked = client.post(
        TOKEN_URL,
        {"email": personas.teammate.email, "password": PASSWORD},
        format="json",
        REMOTE_ADDR="203.0.113.9",
    )
    assert locked.status_code == 429
    assert not _works(token)
    assert not AuthToken.objects.filter(user=personas.teammate).exists()
    entry = AuditLogEntry.objects.get(action="auth.tokens_revoked")
    assert entry.details == {"reason": "locked_out", "count": 1}


# --- Listing and revoking ------------------------------------------------------------------


def test_list_shows_only_the_callers_tokens_never_the_secret(
    personas, django_assert_max_num_queries
):
    mine = [_issue(personas.teammate), _issue(personas.teammate)]
    _issue(personas.owner)  # a colleague's
    _issue(personas.outsider)  # another organisation's
    client = _with_token(mine[1]["token"])
    with django_assert_max_num_queries(6):
        response = client.get(TOKENS_URL)
    assert response.status_code == 200
    results = response.json()["results"]
    assert {r["prefix"] for r in results} == {m["prefix"] for m in mine}
    assert [r["current"] for r in results] == [True, False]  # newest first
    assert set(results[0]) == {"prefix", "created", "expiry", "current"}
    assert mine[0]["token"] not in response.content.decode()
    assert mine[1]["token"] not in response.content.decode()

    # The same with a session (the web page's sign-in): the same list, none current.
    session = client_for(personas.teammate).get(TOKENS_URL).json()["results"]
    assert {r["prefix"] for r in session} == {m["prefix"] for m in mine}


def test_revoke_one_token(personas):
    keep, drop = _issue(personas.teammate), _issue(personas.teammate)
    client = _with_token(keep["token"])
    assert client.delete(f"{TOKENS_URL}{drop['prefix']}/").status_code == 204
    assert not _works(drop["token"])
    assert _works(keep["token"])
    assert AuditLogEntry.objects.filter(action="auth.token_revoked").count() == 1


def test_nobody_revokes_another_persons_token(personas):
    theirs = _issue(personas.outsider)
    colleague = _issue(personas.owner)
    client = _with_token(_issue(personas.teammate)["token"])
    assert client.delete(f"{TOKENS_URL}{theirs['prefix']}/").status_code == 404
    assert client.delete(f"{TOKENS_URL}{colleague['prefix']}/").status_code == 404
    assert client.delete(f"{TOKENS_URL}not-hex/").status_code == 404
    assert _works(theirs["token"]) and _works(colleague["token"])


def test_logout_all_revokes_every_token_of_the_caller_only(personas):
    first, second = _issue(personas.teammate), _issue(personas.teammate)
    colleague = _issue(personas.owner)
    assert _with_token(first["token"]).post("/api/v1/auth/logout-all/").status_code == 204
    assert not _works(first["token"]) and not _works(second["token"])
    assert _works(colleague["token"])


# --- Events that revoke every token ------------------------------------------------------


def test_password_change_through_allauth_revokes_every_token(personas):
    tokens = [_issue(personas.teammate)["token"], _issue(personas.teammate)["token"]]
    colleague = _issue(personas.owner)["token"]
    response = client_for(personas.teammate).post(
        "/accounts/password/change/",
        {"oldpassword": PASSWORD, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    assert response.status_code == 302, response.content
    assert not any(_works(token) for token in tokens)
    assert _works(colleague)
    assert _issue(personas.teammate, NEW_PASSWORD)["token"]


def test_password_reset_through_allauth_revokes_every_token(personas):
    token = _issue(personas.teammate)["token"]
    client = Client()
    client.post("/accounts/password/reset/", {"email": personas.teammate.email})
    link = re.search(r"https?://[^/\s]+(/accounts/password/reset/key/\S+/)", mail.outbox[-1].body)
    assert link is not None
    form = client.get(link.group(1), follow=True)
    assert form.status_code == 200
    done = client.post(
        form.redirect_chain[-1][0] if form.redirect_chain else link.group(1),
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    assert done.status_code == 302, done.content
    personas.teammate.refresh_from_db()
    assert personas.teammate.check_password(NEW_PASSWORD)
    assert not _works(token)


def test_set_password_anywhere_revokes_every_token(personas):
    token = _issue(personas.teammate)["token"]
    personas.teammate.set_password(NEW_PASSWORD)
    personas.teammate.save()
    assert not _works(token)


def test_other_saves_and_a_hash_upgrade_keep_tokens(personas):
    token = _issue(personas.teammate)["token"]
    personas.teammate.first_name = "Renamed"
    personas.teammate.save()
    # The hasher upgrade at sign-in saves a new hash of the same password.
    personas.teammate.check_password(PASSWORD)
    assert _works(token)


def test_deactivation_revokes_every_token(personas):
    token = _issue(personas.teammate)["token"]
    services.user_update_membership(
        actor=personas.owner, user=personas.teammate, teams=[], job_title="", is_active=False
    )
    assert not AuthToken.objects.filter(user=personas.teammate).exists()
    # Reactivating does not bring the old token back.
    services.user_update_membership(
        actor=personas.owner, user=personas.teammate, teams=[], job_title="", is_active=True
    )
    assert not _works(token)


# --- The profile page ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "heading", "button"),
    [("en", "API tokens", "Revoke"), ("fr", "Jetons d’API", "Révoquer")],
)
def test_profile_lists_and_revokes_tokens(personas, language, heading, button):
    personas.teammate.language = language
    personas.teammate.save(update_fields=["language"])
    keep, drop = _issue(personas.teammate), _issue(personas.teammate)
    theirs = _issue(personas.outsider)
    client = client_for(personas.teammate)
    page = client.get("/me/", HTTP_ACCEPT_LANGUAGE=language).content.decode()
    assert heading in page and f">{button}</button>" in page
    assert keep["prefix"] in page and drop["prefix"] in page
    assert theirs["prefix"] not in page
    assert keep["token"] not in page

    response = client.post(f"/me/api-tokens/{drop['prefix']}/revoke/")
    assert response.status_code == 302
    assert not _works(drop["token"]) and _works(keep["token"])
    # Another person's token is not found from here either.
    assert client.post(f"/me/api-tokens/{theirs['prefix']}/revoke/").status_code == 404
    assert _works(theirs["token"])

    assert client.post("/me/api-tokens/revoke-all/").status_code == 302
    assert not _works(keep["token"])
    page = client.get("/me/", HTTP_ACCEPT_LANGUAGE=language).content.decode()
    assert keep["prefix"] not in page
