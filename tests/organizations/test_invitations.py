"""Invitations: created by an admin, emailed with a link, accepted once, closed for good."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.core import mail
from django.test import Client
from django.utils import timezone

from notifications.models import Notification
from organizations.models import AuditLogEntry, Invitation, Role, User
from organizations.services import invitation_send
from tests.conftest import api_client_for, client_for
from tests.factories import InvitationFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a-long-and-unusual-passphrase-42"


@pytest.fixture
def eager_tasks():
    from config.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous


@pytest.fixture
def invitation(personas):
    site = TeamFactory(organization=personas.organization, name="Night shift")
    invitation = InvitationFactory(
        organization=personas.organization,
        email="newcomer@acme.test",
        first_name="Nora",
        last_name="Newcomer",
        role=Role.EDITOR,
        job_title="Editor",
        language="en",
        invited_by=personas.owner,
    )
    invitation.teams.set([personas.team, site])
    return invitation


def _accept(client, invitation, **overrides):
    data = {
        "first_name": "Nora",
        "last_name": "Newcomer",
        "password": NEW_PASSWORD,
        "password_confirm": NEW_PASSWORD,
        **overrides,
    }
    return client.post(f"/invitations/{invitation.token}/", data, HTTP_ACCEPT_LANGUAGE="en")


# --- Creating and sending ---------------------------------------------------------------


def test_api_create_then_send_emails_the_acceptance_link(personas):
    response = api_client_for(personas.owner).post(
        "/api/v1/invitations/",
        {
            "email": " Claire@Acme.test ",
            "role": "reviewer",
            "language": "en",
            "teams": [personas.team.pk],
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["email"] == "claire@acme.test"
    assert body["status"] == "pending"
    assert body["teams"] == [personas.team.pk]

    invitation = Invitation.objects.get(pk=body["id"])
    assert invitation.invited_by == personas.owner
    assert invitation.expires_at > timezone.now() + timedelta(
        days=settings.INVITATION_VALID_DAYS - 1
    )
    entry = AuditLogEntry.objects.get(action="invitation.created")
    assert entry.target_id == str(invitation.pk)
    assert entry.details == {"role": "reviewer"}

    assert invitation_send(invitation_id=invitation.pk) is True
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["claire@acme.test"]
    assert message.subject == "You are invited to join Acme Santé on Portevoix"
    link = f"{settings.SITE_URL}/invitations/{invitation.token}/"
    assert link in message.body
    invitation.refresh_from_db()
    assert invitation.sent_at is not None
    assert invitation.status == "sent"


def test_html_create_sends_on_commit(personas, eager_tasks, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(personas.owner).post(
            "/admin/invitations/",
            {
                "email": "paul@acme.test",
                "role": "employee",
                "language": "fr",
                "teams": [personas.team.pk],
            },
        )
    assert response.status_code == 302
    invitation = Invitation.objects.get(email="paul@acme.test")
    assert list(invitation.teams.all()) == [personas.team]
    assert len(mail.outbox) == 1
    assert invitation.token in mail.outbox[0].body
    # Sent in the invitee's language.
    assert "Portevoix" in mail.outbox[0].subject
    assert "You are invited" not in mail.outbox[0].subject


def test_send_skips_a_closed_invitation(invitation):
    invitation.revoked_at = timezone.now()
    invitation.save()
    assert invitation_send(invitation_id=invitation.pk) is False
    assert invitation_send(invitation_id=999_999) is False
    assert mail.outbox == []


def test_duplicate_open_invitation_is_409_problem(personas, invitation):
    response = api_client_for(personas.owner).post(
        "/api/v1/invitations/", {"email": "NEWCOMER@acme.test"}, format="json"
    )
    assert response.status_code == 409
    assert response["Content-Type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == 409
    assert body["errors"][0]["field"] == "email"
    assert Invitation.objects.filter(email="newcomer@acme.test").count() == 1


def test_duplicate_open_invitation_on_html_form(personas, invitation):
    response = client_for(personas.owner).post(
        "/admin/invitations/",
        {"email": "newcomer@acme.test", "role": "employee", "language": "en"},
    )
    assert response.status_code == 200
    assert "is already waiting" in " ".join(response.context["form"].errors["email"])
    assert Invitation.objects.filter(email="newcomer@acme.test").count() == 1


def test_inviting_an_existing_member_is_refused(personas):
    response = api_client_for(personas.owner).post(
        "/api/v1/invitations/",
        {"email": personas.teammate.email},
        format="json",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 409
    body = response.json()
    assert body["errors"][0]["field"] == "email"
    assert "already a member" in body["detail"]
    assert not Invitation.objects.exists()


def test_inviting_someone_from_another_organisation_invites_them_as_a_member(personas):
    # A person of another organisation is invited like anyone: accepting, signed in with
    # their own account, makes them a member here too (tests/organizations/test_memberships).
    response = api_client_for(personas.owner).post(
        "/api/v1/invitations/",
        {"email": personas.outsider.email.upper()},
        format="json",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 201
    assert Invitation.objects.get().email == personas.outsider.email


def test_inviting_a_member_again_is_refused(personas):
    response = api_client_for(personas.owner).post(
        "/api/v1/invitations/",
        {"email": personas.teammate.email.upper()},
        format="json",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 409
    assert "already a member" in response.json()["detail"]
    assert not Invitation.objects.exists()


def test_invalid_email_and_role_are_400_naming_the_field(personas):
    api = api_client_for(personas.owner)
    response = api.post("/api/v1/invitations/", {"email": "nope"}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "email"
    response = api.post(
        "/api/v1/invitations/", {"email": "ok@acme.test", "role": "king"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "role"
    assert not Invitation.objects.exists()


# --- Accepting ----------------------------------------------------------------------------


def test_accept_page_shows_the_form(invitation):
    response = Client().get(f"/invitations/{invitation.token}/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert "newcomer@acme.test" in response.content.decode()
    assert response.context["form"].initial["first_name"] == "Nora"


def test_unknown_token_is_404(db):
    assert Client().get("/invitations/not-a-token/").status_code == 404


def test_accept_creates_the_account_and_logs_in(
    personas, invitation, eager_tasks, django_capture_on_commit_callbacks
):
    client = Client()
    with django_capture_on_commit_callbacks(execute=True):
        response = _accept(client, invitation, first_name="Nora ", last_name=" Newcomer")
    assert response.status_code == 302
    assert response["Location"] == "/"

    user = User.objects.get(email="newcomer@acme.test")
    assert user.organization == personas.organization
    assert user.role == Role.EDITOR
    assert user.job_title == "Editor"
    assert user.language == "en"
    assert (user.first_name, user.last_name) == ("Nora", "Newcomer")
    assert {t.name for t in user.teams.all()} == {"Communication", "Night shift"}
    assert user.check_password(NEW_PASSWORD)

    # Logged in: the session belongs to the new user.
    assert client.session["_auth_user_id"] == str(user.pk)
    assert client.get("/me/").status_code == 200

    invitation.refresh_from_db()
    assert invitation.accepted_at is not None
    assert invitation.status == "accepted"
    entry = AuditLogEntry.objects.get(action="invitation.accepted")
    assert entry.actor == user
    assert entry.organization == personas.organization
    assert entry.target_id == str(invitation.pk)

    # The inviter hears about it in the app (this kind is not emailed by default).
    notification = Notification.objects.get(recipient=personas.owner)
    assert notification.kind == "account.invitation_accepted"
    assert mail.outbox == []


def test_accepted_link_cannot_be_used_twice(invitation):
    assert _accept(Client(), invitation).status_code == 302
    response = _accept(
        Client(),
        invitation,
        password="another-long-passphrase-77",
        password_confirm="another-long-passphrase-77",
    )
    assert response.status_code == 410
    assert User.objects.filter(email="newcomer@acme.test").count() == 1
    user = User.objects.get(email="newcomer@acme.test")
    assert user.check_password(NEW_PASSWORD)


def test_expired_invitation_is_410(invitation):
    invitation.expires_at = timezone.now() - timedelta(minutes=1)
    invitation.save()
    client = Client()
    response = client.get(f"/invitations/{invitation.token}/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 410
    assert "no longer valid" in response.content.decode()
    assert _accept(client, invitation).status_code == 410
    assert not User.objects.filter(email="newcomer@acme.test").exists()


def test_revoked_invitation_is_410(personas, invitation):
    response = api_client_for(personas.owner).post(f"/api/v1/invitations/{invitation.pk}/revoke/")
    assert response.status_code == 204
    assert AuditLogEntry.objects.filter(action="invitation.revoked").count() == 1
    assert _accept(Client(), invitation).status_code == 410
    assert not User.objects.filter(email="newcomer@acme.test").exists()
    # Revoking twice is a conflict, not a second audit entry.
    again = api_client_for(personas.owner).post(f"/api/v1/invitations/{invitation.pk}/revoke/")
    assert again.status_code == 409
    assert AuditLogEntry.objects.filter(action="invitation.revoked").count() == 1


def test_signed_in_visitor_is_redirected_not_given_an_account(personas, invitation):
    response = client_for(personas.teammate).get(f"/invitations/{invitation.token}/")
    assert response.status_code == 302
    assert not User.objects.filter(email="newcomer@acme.test").exists()


@pytest.mark.parametrize(
    ("password", "expected"),
    [
        ("short", "too short"),
        ("12345678901234", "entirely numeric"),
        ("password123", "too common"),
        ("newcomer@acme", "too similar"),
    ],
)
def test_weak_password_is_shown_on_the_form(invitation, password, expected):
    response = _accept(Client(), invitation, password=password, password_confirm=password)
    assert response.status_code == 200
    errors = " ".join(response.context["form"].errors["password"])
    assert expected in errors
    assert expected in response.content.decode()
    assert not User.objects.filter(email="newcomer@acme.test").exists()
    invitation.refresh_from_db()
    assert invitation.accepted_at is None


def test_password_confirmation_must_match(invitation):
    response = _accept(Client(), invitation, password_confirm="something-else-entirely-9")
    assert response.status_code == 200
    assert "password_confirm" in response.context["form"].errors
    assert not User.objects.filter(email="newcomer@acme.test").exists()


def test_accept_when_the_address_got_an_account_meanwhile(personas, invitation):
    UserFactory(organization=personas.other_organization, email="newcomer@acme.test")
    response = _accept(Client(), invitation)
    # No second account: the person is asked to sign in with the one they have.
    assert response.status_code == 200
    assert "Sign in to accept" in response.content.decode()
    invitation.refresh_from_db()
    assert invitation.accepted_at is None


# --- Resend and revoke from the admin page -----------------------------------------------


def test_resend_expired_invitation_reopens_it(
    personas, invitation, eager_tasks, django_capture_on_commit_callbacks
):
    invitation.expires_at = timezone.now() - timedelta(days=1)
    invitation.save()
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(personas.owner).post(f"/admin/invitations/{invitation.pk}/resend/")
    assert response.status_code == 302
    invitation.refresh_from_db()
    assert invitation.is_open
    assert invitation.sent_at is not None
    assert [m.to for m in mail.outbox] == [["newcomer@acme.test"]]
    assert AuditLogEntry.objects.filter(action="invitation.resent").count() == 1


def test_unknown_invitation_verb_is_404(personas, invitation):
    response = client_for(personas.owner).post(f"/admin/invitations/{invitation.pk}/explode/")
    assert response.status_code == 404


def test_revoke_from_admin_page(personas, invitation):
    response = client_for(personas.owner).post(
        f"/admin/invitations/{invitation.pk}/revoke/", follow=True
    )
    assert response.status_code == 200
    assert "Invitation revoked." in response.content.decode()
    invitation.refresh_from_db()
    assert invitation.status == "revoked"
    # A new invitation for the same address is now possible.
    response = api_client_for(personas.owner).post(
        "/api/v1/invitations/", {"email": "newcomer@acme.test"}, format="json"
    )
    assert response.status_code == 201
