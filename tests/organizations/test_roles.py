"""Who may administer, how a role changes, and what each role can see of the people."""

from __future__ import annotations

import pytest
from django.core import mail

from notifications.models import Notification
from organizations.models import AuditLogEntry, Role, TeamKind
from tests.conftest import api_client_for, client_for
from tests.factories import InvitationFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db

ADMIN_PAGES = [
    "/admin/",
    "/admin/teams/",
    "/admin/teams/{team}/",
    "/admin/people/",
    "/admin/people/{teammate}/",
    "/admin/invitations/",
    "/admin/import/",
    "/admin/audit/",
]
NON_ADMIN_ROLES = [Role.EMPLOYEE, Role.EDITOR, Role.REVIEWER, Role.MANAGER]


@pytest.fixture
def eager_tasks():
    """Run Celery tasks in-process (the app read task_always_eager at import)."""
    from config.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous


def _member(personas, role):
    return UserFactory(organization=personas.organization, role=role, teams=[personas.team])


# --- Nobody but the org admin administers -------------------------------------------------


@pytest.mark.parametrize("role", NON_ADMIN_ROLES)
@pytest.mark.parametrize("url", ADMIN_PAGES)
def test_non_admin_gets_404_on_admin_pages(personas, role, url):
    user = _member(personas, role)
    response = client_for(user).get(
        url.format(team=personas.team.pk, teammate=personas.teammate.pk)
    )
    assert response.status_code == 404


def test_anonymous_is_sent_to_login_from_admin_pages(personas):
    from django.test import Client

    response = Client().get("/admin/people/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


@pytest.mark.parametrize("role", NON_ADMIN_ROLES)
def test_non_admin_cannot_post_admin_forms(personas, role):
    user = _member(personas, role)
    client = client_for(user)
    assert client.post("/admin/teams/", {"name": "Rogue", "kind": "team"}).status_code == 404
    response = client.post(f"/admin/people/{user.pk}/", {"role": Role.ORG_ADMIN, "is_active": "on"})
    assert response.status_code == 404
    user.refresh_from_db()
    assert user.role == role
    assert not personas.organization.teams.filter(name="Rogue").exists()


@pytest.mark.parametrize("role", NON_ADMIN_ROLES)
def test_non_admin_gets_403_problem_on_admin_api(personas, role):
    user = _member(personas, role)
    invitation = InvitationFactory(organization=personas.organization)
    api = api_client_for(user)
    calls = [
        api.get("/api/v1/invitations/"),
        api.get(f"/api/v1/invitations/{invitation.pk}/"),
        api.post("/api/v1/invitations/", {"email": "x@acme.test"}, format="json"),
        api.post(f"/api/v1/invitations/{invitation.pk}/revoke/"),
        api.get("/api/v1/audit-log/"),
        api.post("/api/v1/teams/", {"name": "Rogue"}, format="json"),
        api.patch(f"/api/v1/teams/{personas.team.pk}/", {"name": "Rogue"}, format="json"),
        api.delete(f"/api/v1/teams/{personas.team.pk}/"),
        api.post(f"/api/v1/users/{user.pk}/role/", {"role": "org_admin"}, format="json"),
        api.post(f"/api/v1/users/{personas.teammate.pk}/role/", {"role": "manager"}, format="json"),
    ]
    for response in calls:
        assert response.status_code == 403, (response.request["PATH_INFO"], response.content)
        assert response["Content-Type"].startswith("application/problem+json")
        assert response.json()["status"] == 403
    user.refresh_from_db()
    personas.teammate.refresh_from_db()
    personas.team.refresh_from_db()
    assert user.role == role
    assert personas.teammate.role == Role.EMPLOYEE
    assert personas.team.name == "Communication"
    assert not AuditLogEntry.objects.filter(action="user.role_changed").exists()


def test_employee_may_read_teams_api(personas):
    response = api_client_for(personas.teammate).get("/api/v1/teams/")
    assert response.status_code == 200
    assert [t["name"] for t in response.json()["results"]] == ["Communication"]


# --- The org admin changes roles -----------------------------------------------------------


def test_admin_changes_role_on_html_form(personas, eager_tasks, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(personas.owner).post(
            f"/admin/people/{personas.teammate.pk}/",
            {
                "role": Role.EDITOR,
                "job_title": "Writer",
                "is_active": "on",
                "teams": [personas.team.pk],
            },
        )
    assert response.status_code == 302
    personas.teammate.refresh_from_db()
    assert personas.teammate.role == Role.EDITOR
    assert personas.teammate.job_title == "Writer"

    entry = AuditLogEntry.objects.get(action="user.role_changed")
    assert entry.actor == personas.owner
    assert entry.organization == personas.organization
    assert entry.target_id == str(personas.teammate.pk)
    assert entry.details == {"from": "employee", "to": "editor"}
    assert entry.ip_address == "127.0.0.1"

    notification = Notification.objects.get(recipient=personas.teammate)
    assert notification.kind == "account.role_changed"
    assert "Editor" in notification.title
    assert notification.emailed_at is not None

    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [personas.teammate.email]
    assert "Editor" in mail.outbox[0].subject


def test_admin_changes_role_via_api(personas, eager_tasks, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client_for(personas.owner).post(
            f"/api/v1/users/{personas.teammate.pk}/role/", {"role": "manager"}, format="json"
        )
    assert response.status_code == 200
    assert response.json()["role"] == "manager"
    personas.teammate.refresh_from_db()
    assert personas.teammate.role == Role.MANAGER
    entry = AuditLogEntry.objects.get(action="user.role_changed")
    assert entry.details == {"from": "employee", "to": "manager"}
    assert (
        Notification.objects.filter(
            recipient=personas.teammate, kind="account.role_changed"
        ).count()
        == 1
    )
    assert [m.to for m in mail.outbox] == [[personas.teammate.email]]


def test_role_change_without_commit_sends_nothing_yet(personas):
    """The notification follows the commit: a rolled-back change notifies nobody."""
    api_client_for(personas.owner).post(
        f"/api/v1/users/{personas.teammate.pk}/role/", {"role": "manager"}, format="json"
    )
    assert not Notification.objects.exists()
    assert mail.outbox == []


def test_same_role_writes_no_audit_and_no_notification(
    personas, eager_tasks, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client_for(personas.owner).post(
            f"/api/v1/users/{personas.teammate.pk}/role/", {"role": "employee"}, format="json"
        )
    assert response.status_code == 200
    assert not AuditLogEntry.objects.filter(action="user.role_changed").exists()
    assert not Notification.objects.exists()


def test_unknown_role_via_api_is_400_naming_role(personas):
    response = api_client_for(personas.owner).post(
        f"/api/v1/users/{personas.teammate.pk}/role/", {"role": "emperor"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "role"
    personas.teammate.refresh_from_db()
    assert personas.teammate.role == Role.EMPLOYEE


def test_admin_cannot_demote_themself_via_api(personas):
    response = api_client_for(personas.owner).post(
        f"/api/v1/users/{personas.owner.pk}/role/",
        {"role": "employee"},
        format="json",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 400
    body = response.json()
    assert body["errors"][0]["field"] == "role"
    assert "administrator" in body["detail"]
    personas.owner.refresh_from_db()
    assert personas.owner.role == Role.ORG_ADMIN
    assert not AuditLogEntry.objects.filter(action="user.role_changed").exists()


def test_admin_cannot_demote_themself_on_html_form(personas):
    response = client_for(personas.owner).post(
        f"/admin/people/{personas.owner.pk}/",
        {"role": Role.EMPLOYEE, "is_active": "on", "teams": [personas.team.pk]},
    )
    assert response.status_code == 200
    assert "role" in response.context["form"].errors
    personas.owner.refresh_from_db()
    assert personas.owner.role == Role.ORG_ADMIN


def test_admin_cannot_deactivate_themself(personas):
    response = client_for(personas.owner).post(
        f"/admin/people/{personas.owner.pk}/", {"role": Role.ORG_ADMIN, "job_title": ""}
    )
    assert response.status_code == 200
    assert "is_active" in response.context["form"].errors
    personas.owner.refresh_from_db()
    assert personas.owner.is_active


def test_admin_can_promote_another_admin(personas):
    response = api_client_for(personas.owner).post(
        f"/api/v1/users/{personas.teammate.pk}/role/", {"role": "org_admin"}, format="json"
    )
    assert response.status_code == 200
    personas.teammate.refresh_from_db()
    assert personas.teammate.is_org_admin
    # The new admin now reaches the admin pages.
    assert client_for(personas.teammate).get("/admin/people/").status_code == 200


# --- What each role sees of the people ---------------------------------------------------


@pytest.fixture
def departments(personas):
    org = personas.organization
    sales = TeamFactory(organization=org, name="Sales", kind=TeamKind.DEPARTMENT)
    sales_lyon = TeamFactory(organization=org, name="Lyon", kind=TeamKind.SITE, parent=sales)
    sales_key = TeamFactory(organization=org, name="Key accounts", parent=sales_lyon)
    tech = TeamFactory(organization=org, name="Tech", kind=TeamKind.DEPARTMENT)
    tech_team = TeamFactory(organization=org, name="Platform", parent=tech)
    manager = UserFactory(organization=org, role=Role.MANAGER, email="manager@acme.test")
    sales.managers.add(manager)
    seller = UserFactory(organization=org, email="seller@acme.test", teams=[sales_key])
    site_lead = UserFactory(organization=org, email="lead@acme.test", teams=[sales_lyon])
    engineer = UserFactory(organization=org, email="engineer@acme.test", teams=[tech_team])
    return {
        "manager": manager,
        "seller": seller,
        "site_lead": site_lead,
        "engineer": engineer,
        "sales": sales,
        "tech": tech,
    }


def test_manager_sees_members_of_sub_teams_only(personas, departments):
    api = api_client_for(departments["manager"])
    emails = {u["email"] for u in api.get("/api/v1/users/").json()["results"]}
    assert {"seller@acme.test", "lead@acme.test"} <= emails
    assert "engineer@acme.test" not in emails
    assert personas.teammate.email not in emails
    assert personas.outsider.email not in emails
    assert api.get(f"/api/v1/users/{departments['engineer'].pk}/").status_code == 404
    assert api.get(f"/api/v1/users/{departments['seller'].pk}/").status_code == 200


def test_manager_member_in_two_visible_teams_is_listed_once(personas, departments):
    departments["seller"].teams.add(departments["sales"])
    results = api_client_for(departments["manager"]).get("/api/v1/users/").json()["results"]
    emails = [u["email"] for u in results]
    assert emails.count("seller@acme.test") == 1


def test_employee_sees_only_themself(personas, departments):
    api = api_client_for(departments["engineer"])
    results = api.get("/api/v1/users/").json()["results"]
    assert [u["email"] for u in results] == ["engineer@acme.test"]
    assert api.get(f"/api/v1/users/{personas.teammate.pk}/").status_code == 404


@pytest.mark.parametrize("role", [Role.EDITOR, Role.REVIEWER, Role.ORG_ADMIN])
def test_comms_roles_see_the_whole_organisation(personas, departments, role):
    user = _member(personas, role)
    emails = {u["email"] for u in api_client_for(user).get("/api/v1/users/").json()["results"]}
    assert {"seller@acme.test", "engineer@acme.test", personas.teammate.email} <= emails
    assert personas.outsider.email not in emails


def test_user_without_organisation_is_refused_by_api(db):
    loner = UserFactory(organization=None)
    response = api_client_for(loner).get("/api/v1/users/")
    assert response.status_code == 403
    assert response.json()["status"] == 403
