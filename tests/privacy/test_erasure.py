"""Erasing a person: no personal field left anywhere in the database (searched column by
column), totals and leaderboards unchanged, the audit log pseudonymised, accounts
disconnected, files deleted; refused to non-admins, for oneself, for the last admin, on a
wrong confirmation, across organisations."""

from __future__ import annotations

import pytest
from django.contrib.sessions.models import Session
from django.core.files.storage import default_storage
from django.db import connection
from django.db.models import Sum
from django.test import Client
from django.utils import translation
from knox.models import AuthToken

from advocacy.models import Click, Share, ShareStatus, SocialAccount
from archive.models import ArchiveExport
from challenges.models import PointEntry, Score
from challenges.services import leaderboards
from notifications.models import Notification
from organizations.models import AuditLogEntry, Invitation, Role, User
from privacy.services.erasure import _sessions_end, person_erase
from provisioning.models import ScimPerson
from tests.challenges.conftest import _forget_leaderboards
from tests.conftest import api_client_for, client_for
from tests.factories import UserFactory
from tests.privacy.conftest import EMAIL, EXTERNAL_ID, FIRST, LAST, where_found

pytestmark = pytest.mark.django_db


def _board(organization) -> list[tuple[int, int]]:
    board = leaderboards.people_board(
        organization_id=organization.pk, period="all", time_zone=organization.time_zone
    )
    return board.slice(0, 100)[0]


def test_erasure_leaves_no_personal_field_anywhere(rich, personas):
    user = rich.user
    before = where_found(EMAIL, FIRST, LAST)
    # The search sees the person where they are (a sample of the places).
    for place in (
        "organizations_user.email",
        "organizations_auditlogentry.actor_email",
        "organizations_invitation.email",
        "notifications_notification.title",
        "advocacy_socialaccount.display_name",
        "account_emailaddress.email",
    ):
        assert any(found.startswith(place) for found in before), place
    assert any(found.startswith("organizations_user.external_id") for found in before) is False
    assert where_found(EXTERNAL_ID) == ["organizations_user.external_id (EMP-ZQ-4711)"]
    assert any(found.startswith("archive_archiveexport.requested_by_email") for found in before)
    pseudonym = person_erase(actor=personas.owner, user=user, confirm_email=EMAIL.upper())
    assert where_found(EMAIL, FIRST, LAST, EXTERNAL_ID) == []
    user.refresh_from_db()
    assert user.email == f"{pseudonym}@erased.invalid"
    assert (user.first_name, user.last_name, user.job_title, user.time_zone) == ("", "", "", "")
    assert not user.avatar and not user.is_active and not user.has_usable_password()
    assert (user.external_id, user.last_login) == ("", None)
    # SCIM: the identity provider no longer sees (nor updates) the erased account.
    scim = ScimPerson.objects.get(user=user)
    assert scim.removed_at is not None and scim.preferred_language == ""
    # The archive export they asked for stays, without naming them.
    export = ArchiveExport.objects.get(organization=personas.organization)
    assert (export.requested_by_id, export.requested_by_email) == (None, "")


def test_erasure_keeps_totals_and_leaderboards_consistent(
    rich, personas, django_capture_on_commit_callbacks
):
    organization = personas.organization
    user = rich.user
    ledger_before = PointEntry.objects.filter(organization=organization).aggregate(Sum("points"))
    score_before = Score.objects.get(user=user).lifetime_points
    clicks_before = Click.objects.filter(organization=organization).count()
    assert (user.pk, score_before) in _board(organization)

    with django_capture_on_commit_callbacks(execute=True):
        person_erase(actor=personas.owner, user=user, confirm_email=EMAIL)

    assert (
        PointEntry.objects.filter(organization=organization).aggregate(Sum("points"))
        == ledger_before
    )
    assert Score.objects.get(user=user).lifetime_points == score_before
    assert Click.objects.filter(organization=organization).count() == clicks_before
    # The Redis sets agree with a rebuild from the ledger, and the closed account is off
    # them, as a deactivated one is.
    redis_board = _board(organization)
    _forget_leaderboards()
    assert _board(organization) == redis_board
    assert user.pk not in {user_id for user_id, _points in redis_board}
    page = client_for(personas.teammate).get("/leaderboard/")
    assert page.status_code == 200
    html = page.content.decode()
    assert FIRST not in html and LAST not in html


def test_erasure_disconnects_ends_sessions_and_deletes_what_is_only_theirs(
    rich, personas, django_capture_on_commit_callbacks
):
    user = rich.user
    with django_capture_on_commit_callbacks(execute=True):
        person_erase(actor=personas.owner, user=user, confirm_email=EMAIL)
    assert not SocialAccount.objects.filter(user=user).exists()
    assert not AuthToken.objects.filter(user=user).exists()
    assert not Notification.objects.filter(recipient=user).exists()
    assert not Invitation.objects.filter(email__iexact=EMAIL).exists()
    assert not [
        s for s in Session.objects.all() if s.get_decoded().get("_auth_user_id") == str(user.pk)
    ]
    assert not default_storage.exists(rich.avatar)
    assert not personas.team.managers.filter(pk=user.pk).exists()
    assert personas.team.members.filter(pk=user.pk).exists()  # team totals stay right
    assert Share.objects.get(pk=rich.scheduled.pk).status == ShareStatus.CANCELLED
    assert Share.objects.get(pk=rich.published.pk).status == ShareStatus.PUBLISHED
    # Another person's notification keeps its sense, without the name.
    note = Notification.objects.get(recipient=personas.owner, title__endswith="joined Portevoix")
    assert note.title.startswith("erased-")


def test_the_audit_log_is_pseudonymised_and_still_append_only(rich, personas):
    user = rich.user
    about = AuditLogEntry.objects.filter(target_type="organizations.user", target_id=str(user.pk))
    assert about.exists()
    pseudonym = person_erase(actor=personas.owner, user=user, confirm_email=EMAIL)
    by_them = AuditLogEntry.objects.filter(actor=user).exclude(action="privacy.person_erased")
    assert by_them.exists()
    assert set(by_them.values_list("actor_email", flat=True)) == {pseudonym}
    assert not by_them.exclude(ip_address=None).exists()
    erased = AuditLogEntry.objects.get(action="privacy.person_erased")
    assert erased.actor_email == personas.owner.email
    assert erased.details["pseudonym"] == pseudonym
    assert EMAIL not in str(erased.details) and FIRST not in str(erased.details)
    # The purge flag was for those rows only: the log is append-only again.
    with pytest.raises(Exception, match="append-only"), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE organizations_auditlogentry SET action = 'x' WHERE id = %s", [erased.pk]
        )


# --- who may erase whom ------------------------------------------------------------------


def test_only_an_admin_of_the_organisation_erases_and_confirms_by_typing_the_email(personas, clock):
    target = UserFactory(organization=personas.organization, email="target@example.test")
    url = f"/api/v1/users/{target.pk}/erase/"
    assert (
        api_client_for(personas.teammate).post(url, {"confirm_email": target.email}).status_code
        == 403
    )
    assert (
        api_client_for(personas.outsider).post(url, {"confirm_email": target.email}).status_code
        == 404
    )
    wrong = api_client_for(personas.owner).post(url, {"confirm_email": "nope@example.test"})
    assert wrong.status_code == 400
    assert wrong["Content-Type"].startswith("application/problem+json")
    assert wrong.json()["errors"][0]["field"] == "confirm_email"
    missing = api_client_for(personas.owner).post(url, {}, format="json")
    assert missing.status_code == 400
    target.refresh_from_db()
    assert target.email == "target@example.test" and target.is_active
    ok = api_client_for(personas.owner).post(url, {"confirm_email": target.email})
    assert ok.status_code == 200
    assert ok.json()["pseudonym"].startswith("erased-")
    again = api_client_for(personas.owner).post(
        url, {"confirm_email": User.objects.get(pk=target.pk).email}
    )
    assert again.status_code == 409


def test_never_oneself_and_never_the_last_admin(personas, clock):
    owner = personas.owner
    answer = api_client_for(owner).post(
        f"/api/v1/users/{owner.pk}/erase/", {"confirm_email": owner.email}
    )
    assert answer.status_code == 400
    other_admin = UserFactory(organization=personas.organization, role=Role.ORG_ADMIN)
    # Now the owner may be erased by the other admin, but then the other admin is the last.
    assert (
        api_client_for(other_admin)
        .post(f"/api/v1/users/{owner.pk}/erase/", {"confirm_email": owner.email})
        .status_code
        == 200
    )
    owner.refresh_from_db()
    assert owner.role == Role.EMPLOYEE and not owner.is_active
    lone = User.objects.get(pk=other_admin.pk)
    lone.language = "en"  # the refusal speaks the person's language
    with translation.override("en"), pytest.raises(Exception, match="last administrator"):
        person_erase(actor=lone, user=lone, confirm_email=lone.email, self_service=True)


def test_the_admin_page_explains_and_erases(rich, personas):
    client = client_for(personas.owner)
    edit = client.get(f"/admin/people/{rich.user.pk}/").content.decode()
    assert f"/admin/people/{rich.user.pk}/erase/" in edit
    page = client.get(f"/admin/people/{rich.user.pk}/erase/")
    html = page.content.decode()
    assert "This cannot be undone." in html
    assert "legal retention" in html
    wrong = client.post(f"/admin/people/{rich.user.pk}/erase/", {"confirm_email": "x@y.z"})
    assert "Type the person" in wrong.content.decode()
    assert User.objects.get(pk=rich.user.pk).email == EMAIL
    done = client.post(
        f"/admin/people/{rich.user.pk}/erase/", {"confirm_email": EMAIL}, follow=True
    )
    assert "The person&#x27;s data is erased" in done.content.decode()
    assert (
        client_for(personas.teammate).get(f"/admin/people/{rich.user.pk}/erase/").status_code == 404
    )
    assert (
        client_for(personas.outsider).get(f"/admin/people/{rich.user.pk}/erase/").status_code == 404
    )


def test_an_erased_person_cannot_sign_in(personas, clock, password):
    target = UserFactory(organization=personas.organization, email="gone@example.test")
    pseudonym = person_erase(actor=personas.owner, user=target, confirm_email=target.email)
    for email in ("gone@example.test", f"{pseudonym}@erased.invalid"):
        answer = Client().post(
            "/api/v1/auth/token/",
            {"email": email, "password": password},
            content_type="application/json",
        )
        assert answer.status_code in (400, 401, 403)


def test_the_admin_is_named_for_the_disconnection_of_the_erased_persons_accounts(
    rich, personas, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        pseudonym = person_erase(actor=personas.owner, user=rich.user, confirm_email=EMAIL)
    # account_disconnect (no actor parameter) records the owner as actor; erasure adds
    # an entry naming the admin who did it.
    entry = AuditLogEntry.objects.get(action="privacy.account_disconnected")
    assert (entry.actor_id, entry.actor_email) == (personas.owner.pk, personas.owner.email)
    assert entry.details["network"] == "linkedin" and entry.details["reason"] == "erasure"
    assert entry.target_id == str(rich.user.pk)
    assert EMAIL not in entry.target_repr and FIRST not in entry.target_repr
    assert entry.details["erased_as"] == pseudonym
    owner = User.objects.get(pk=personas.owner.pk)
    owner.language = "en"
    owner.save(update_fields=["language"])
    html = client_for(owner).get("/admin/audit/").content.decode()
    assert "disconnected a network account of a person whose data they erased" in html


def test_sessions_end_after_the_transaction_in_batches(personas, clock):
    from django.contrib.sessions.backends.db import SessionStore

    target = UserFactory(organization=personas.organization, email="s@example.test")
    keys = []
    for owner in (target, target, target, personas.teammate):
        session = SessionStore()
        session["_auth_user_id"] = str(owner.pk)
        session.create()
        keys.append(session.session_key)
    assert _sessions_end(target, batch=2) == 3
    assert list(Session.objects.filter(session_key__in=keys).values_list("pk", flat=True)) == [
        keys[3]
    ]
    person_erase(
        actor=personas.owner, user=personas.teammate, confirm_email=personas.teammate.email
    )
    assert not Session.objects.filter(session_key=keys[3]).exists()


def test_the_session_scan_runs_outside_the_erasure_transaction(personas, clock, monkeypatch):
    from django.db import connection as db

    from privacy.services import erasure

    target = UserFactory(organization=personas.organization, email="t@example.test")
    depths = []
    real = erasure._sessions_end

    def spy(user, **kwargs):
        depths.append(len(db.savepoint_ids))
        return real(user, **kwargs)

    monkeypatch.setattr(erasure, "_sessions_end", spy)
    person_erase(actor=personas.owner, user=target, confirm_email=target.email)
    # The test's own transaction is the outermost one: no savepoint of person_erase's
    # atomic block is open when the scan runs.
    assert depths == [0]
