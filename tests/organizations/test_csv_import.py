"""CSV import of people: the whole file is checked first, any problem rejects it with a
message per line, and nothing but the audit entry is written."""

from __future__ import annotations

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation

from organizations.models import AuditLogEntry, Invitation, Role, Team, TeamKind, User
from organizations.services import ImportRejected, users_import_csv
from tests.conftest import client_for
from tests.factories import InvitationFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def eager_tasks():
    from config.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous


@pytest.fixture(autouse=True)
def _english():
    # Services called directly run in the site's default language (French).
    with translation.override("en"):
        yield


def _snapshot(organization):
    """Everything an import could write, to prove a rejected file wrote none of it."""
    return {
        "teams": sorted(Team.objects.values_list("organization_id", "name", "parent_id")),
        "invitations": sorted(
            Invitation.objects.values_list("email", "role", "revoked_at", "accepted_at")
        ),
        "users": sorted(
            User.objects.values_list("email", "role", "first_name", "last_name", "job_title")
        ),
        "memberships": sorted(User.teams.through.objects.values_list("user_id", "team_id")),
    }


def _reject(actor, raw: bytes) -> ImportRejected:
    before = _snapshot(actor.organization)
    with pytest.raises(ImportRejected) as caught:
        users_import_csv(actor=actor, raw=raw)
    assert _snapshot(actor.organization) == before
    entry = AuditLogEntry.objects.get(action="import.rejected")
    assert entry.organization == actor.organization
    assert entry.actor == actor
    assert entry.details["errors"]
    assert not AuditLogEntry.objects.filter(action="import.completed").exists()
    return caught.value


def _all_messages(error: ImportRejected) -> str:
    return " | ".join([error.message, *error.errors])


# --- Valid files ------------------------------------------------------------------------


def test_comma_file_invites_new_people_and_builds_the_team_tree(personas):
    raw = (
        b"email,first_name,last_name,role,teams,job_title,language\n"
        b"claire@acme.test,Claire,Martin,editor,Sales > Lyon > Key accounts,Seller,fr\n"
        b"paul@acme.test,Paul,Durand,,Sales > Lyon > Key accounts | Tech,,\n"
    )
    result = users_import_csv(actor=personas.owner, raw=raw)

    assert (result.invited, result.updated, result.teams_created) == (2, 0, 4)
    assert result.errors == []
    sales = Team.objects.get(organization=personas.organization, name="Sales", parent=None)
    lyon = Team.objects.get(parent=sales, name="Lyon")
    key = Team.objects.get(parent=lyon, name="Key accounts")
    tech = Team.objects.get(organization=personas.organization, name="Tech", parent=None)
    assert (sales.kind, lyon.kind, key.kind, tech.kind) == (
        TeamKind.DEPARTMENT,
        TeamKind.SITE,
        TeamKind.TEAM,
        TeamKind.TEAM,
    )

    claire = Invitation.objects.get(email="claire@acme.test")
    assert claire.organization == personas.organization
    assert claire.invited_by == personas.owner
    assert (claire.first_name, claire.last_name, claire.role) == ("Claire", "Martin", "editor")
    assert (claire.job_title, claire.language) == ("Seller", "fr")
    assert list(claire.teams.all()) == [key]

    paul = Invitation.objects.get(email="paul@acme.test")
    assert paul.role == Role.EMPLOYEE
    assert paul.language == personas.organization.default_language
    assert set(paul.teams.all()) == {key, tech}

    entry = AuditLogEntry.objects.get(action="import.completed")
    assert entry.details == {"invited": 2, "updated": 0, "teams_created": 4}
    assert not AuditLogEntry.objects.filter(action="import.rejected").exists()


def test_semicolon_file_with_bom_and_crlf(personas):
    raw = (
        "\ufeffEmail;First_Name;teams;role\r\n"
        "elodie@acme.test;Élodie;Marketing > Paris;reviewer\r\n"
    ).encode()
    result = users_import_csv(actor=personas.owner, raw=raw)
    assert result.invited == 1
    invitation = Invitation.objects.get(email="elodie@acme.test")
    assert invitation.first_name == "Élodie"
    assert invitation.role == Role.REVIEWER
    paris = invitation.teams.get()
    assert paris.name == "Paris"
    assert paris.parent.name == "Marketing"


def test_existing_member_is_updated_not_invited(personas):
    raw = (
        f"email,first_name,job_title,role,teams\n"
        f"{personas.teammate.email.upper()},Renamed,Nurse,manager,Care > Night\n"
    ).encode()
    result = users_import_csv(actor=personas.owner, raw=raw)
    assert (result.invited, result.updated, result.teams_created) == (0, 1, 2)
    personas.teammate.refresh_from_db()
    assert personas.teammate.first_name == "Renamed"
    assert personas.teammate.job_title == "Nurse"
    assert personas.teammate.role == Role.MANAGER
    assert [t.name for t in personas.teammate.teams.all()] == ["Night"]
    assert not Invitation.objects.exists()
    role_entry = AuditLogEntry.objects.get(action="user.role_changed")
    assert role_entry.details == {"from": "employee", "to": "manager"}


def test_existing_member_with_capitals_in_stored_email_is_updated(personas):
    """Addresses are compared without case everywhere else (login, invitations); an
    account stored as "Mixed.Case@acme.test" (e.g. created in the Django admin) is the
    same person as "mixed.case@acme.test" in the file."""
    member = UserFactory(organization=personas.organization, email="Mixed.Case@acme.test")
    result = users_import_csv(
        actor=personas.owner, raw=b"email,job_title\nmixed.case@acme.test,Chef\n"
    )
    assert (result.invited, result.updated) == (0, 1)
    member.refresh_from_db()
    assert member.job_title == "Chef"


def test_existing_team_is_reused_case_insensitively(personas):
    raw = b"email,teams\nnew@acme.test,communication\n"
    result = users_import_csv(actor=personas.owner, raw=raw)
    assert result.teams_created == 0
    assert list(Invitation.objects.get(email="new@acme.test").teams.all()) == [personas.team]
    assert Team.objects.filter(organization=personas.organization).count() == 1


def test_import_replaces_a_pending_invitation(personas):
    stale = InvitationFactory(organization=personas.organization, email="again@acme.test")
    result = users_import_csv(actor=personas.owner, raw=b"email,role\nagain@acme.test,editor\n")
    assert result.invited == 1
    stale.refresh_from_db()
    assert stale.revoked_at is not None
    fresh = Invitation.objects.get(email="again@acme.test", revoked_at__isnull=True)
    assert fresh.role == Role.EDITOR


def test_importer_does_not_demote_themself(personas):
    raw = f"email,role,job_title\n{personas.owner.email},employee,Boss\n".encode()
    users_import_csv(actor=personas.owner, raw=raw)
    personas.owner.refresh_from_db()
    assert personas.owner.role == Role.ORG_ADMIN
    assert personas.owner.job_title == "Boss"


def test_import_sends_the_invitations_after_commit(
    personas, eager_tasks, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        users_import_csv(actor=personas.owner, raw=b"email\nnew@acme.test\n")
    assert [m.to for m in mail.outbox] == [["new@acme.test"]]
    assert Invitation.objects.get(email="new@acme.test").sent_at is not None


# --- Invalid files: a message per problem, nothing written ------------------------------


def test_missing_email_column(personas):
    error = _reject(personas.owner, b"first_name,last_name\nClaire,Martin\n")
    assert "Missing column(s): email" in error.message


def test_unknown_column(personas):
    error = _reject(personas.owner, b"email,salary\nclaire@acme.test,1000\n")
    assert "Unknown column(s): salary" in error.message


def test_bad_email_names_the_line(personas):
    raw = b"email,teams\nok@acme.test,New dept > New team\nnot-an-email,\n"
    error = _reject(personas.owner, raw)
    assert error.errors == ["Line 3: “not-an-email” is not a valid email address"]
    assert "1" in error.message


def test_unknown_role_names_the_line(personas):
    error = _reject(personas.owner, b"email,role\nboss@acme.test,emperor\n")
    assert len(error.errors) == 1
    assert error.errors[0].startswith("Line 2: role “emperor” is unknown")


def test_unknown_language_and_too_deep_team(personas):
    raw = b"email,language,teams\na@acme.test,de,\nb@acme.test,,A > B > C > D\n"
    error = _reject(personas.owner, raw)
    assert error.errors[0].startswith("Line 2: language “de” is unknown")
    assert error.errors[1].startswith("Line 3: team “A > B > C > D” must be up to three names")


def test_duplicate_email_in_file(personas):
    raw = b"email\ndup@acme.test\nother@acme.test\nDUP@acme.test\n"
    error = _reject(personas.owner, raw)
    assert error.errors == ["Line 4: dup@acme.test already appears on line 2"]


def test_email_of_another_organisation(personas):
    raw = f"email,teams\nfine@acme.test,Brand new\n{personas.outsider.email},\n".encode()
    error = _reject(personas.owner, raw)
    assert error.errors == [f"Line 3: {personas.outsider.email} already has an account elsewhere"]


def test_every_problem_is_listed_at_once(personas):
    raw = (
        f"email,role\nbad,\nx@acme.test,king\nx@acme.test,\n{personas.outsider.email},\n"
    ).encode()
    error = _reject(personas.owner, raw)
    lines = [message.split(":")[0] for message in error.errors]
    assert lines == ["Line 2", "Line 3", "Line 4", "Line 5"]
    assert "4 problem(s)" in error.message


def test_non_utf8_bytes(personas):
    error = _reject(personas.owner, "email,first_name\nzoe@acme.test,Zoé\n".encode("latin-1"))
    assert "UTF-8" in error.message


def test_empty_file(personas):
    error = _reject(personas.owner, b"")
    assert "empty" in error.message


def test_whitespace_only_file(personas):
    error = _reject(personas.owner, b"  \n\n")
    assert "empty" in error.message


def test_header_only_file(personas):
    error = _reject(personas.owner, b"email,first_name\n")
    assert "no rows" in error.message


def test_line_numbers_count_blank_lines(personas):
    """A blank line in the file must not shift the line numbers in the messages: the bad
    address below is on line 4 of the file."""
    raw = b"email\nok@acme.test\n\nnot-an-email\n"
    error = _reject(personas.owner, raw)
    assert error.errors == ["Line 4: “not-an-email” is not a valid email address"]


def test_line_numbers_count_multiline_quoted_fields(personas):
    raw = b'email,job_title\nok@acme.test,"Head of\nthings"\nnot-an-email,\n'
    error = _reject(personas.owner, raw)
    assert error.errors == ["Line 4: “not-an-email” is not a valid email address"]


# --- The page ---------------------------------------------------------------------------


def _upload(content: bytes, name: str = "people.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="text/csv")


def test_import_page_valid_file_redirects_with_summary(personas):
    client = client_for(personas.owner)
    assert client.get("/admin/import/").status_code == 200
    response = client.post(
        "/admin/import/",
        {"file": _upload(b"email;teams\nnew@acme.test;Ops > Night shift\n")},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == "/admin/people/"
    assert "Import done: 1 invited, 0 updated, 2 new teams." in response.content.decode()
    assert Invitation.objects.filter(email="new@acme.test").exists()
    entry = AuditLogEntry.objects.get(action="import.completed")
    assert entry.ip_address == "127.0.0.1"


def test_import_page_invalid_file_lists_each_line(personas):
    before = _snapshot(personas.organization)
    response = client_for(personas.owner).post(
        "/admin/import/",
        {"file": _upload(b"email,role\nok@acme.test,\nbad,\nz@acme.test,wizard\n")},
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "Nothing was imported: 2 problem(s) to fix." in html
    assert "Line 3: “bad” is not a valid email address" in html
    assert "Line 4: role “wizard” is unknown" in html
    assert response.context["errors"] == [
        "Line 3: “bad” is not a valid email address",
        "Line 4: role “wizard” is unknown (use employee, editor, reviewer, manager, org_admin, compliance)",
    ]
    assert _snapshot(personas.organization) == before
    assert AuditLogEntry.objects.filter(action="import.rejected").count() == 1


def test_import_page_non_utf8_file_is_a_form_error_not_500(personas):
    response = client_for(personas.owner).post(
        "/admin/import/", {"file": _upload(b"email\n\xff\xfe\xfa@acme.test\n")}
    )
    assert response.status_code == 200
    assert "UTF-8" in " ".join(response.context["form"].non_field_errors())
    assert not Invitation.objects.exists()


def test_import_page_without_file_is_a_form_error(personas):
    # A browser always sends the CSRF token, so the form is bound even without a file.
    response = client_for(personas.owner).post("/admin/import/", {"csrfmiddlewaretoken": "x"})
    assert response.status_code == 200
    assert "file" in response.context["form"].errors
    assert not AuditLogEntry.objects.filter(action__startswith="import.").exists()


def test_import_page_empty_upload_is_a_form_error_not_500(personas):
    response = client_for(personas.owner).post("/admin/import/", {"file": _upload(b"")})
    assert response.status_code == 200
    assert response.context["form"].errors
    assert not Invitation.objects.exists()


def test_import_does_not_touch_another_organisation(personas):
    stranger = UserFactory(organization=personas.other_organization, email="s@other.test")
    raw = b"email,teams\nnew@acme.test,Secret team\n"
    users_import_csv(actor=personas.owner, raw=raw)
    # A same-named team is created in our organisation, the other one is not reused.
    ours = Invitation.objects.get(email="new@acme.test").teams.get()
    assert ours.organization == personas.organization
    assert ours != personas.other_team
    stranger.refresh_from_db()
    assert stranger.organization == personas.other_organization
