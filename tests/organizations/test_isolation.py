"""Another organisation's objects do not exist for you: 404 on detail, absent from lists,
refused as references in writes."""

from __future__ import annotations

import pytest

from notifications.models import Notification
from organizations.audit import audit_record
from organizations.models import Invitation, Role, Team
from tests.conftest import api_client_for, client_for
from tests.factories import InvitationFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def foreign(personas):
    """Objects of the other organisation, each with a recognisable name."""
    org = personas.other_organization
    stranger = UserFactory(
        organization=org, email="stranger@other.test", first_name="Zebulon", last_name="Secret"
    )
    invitation = InvitationFactory(organization=org, email="foreign-invitee@other.test")
    audit_record(
        action="team.created",
        organization=org,
        actor=personas.outsider,
        target=personas.other_team,
        details={"marker": "foreign-audit-marker"},
    )
    Notification.objects.create(
        organization=org,
        recipient=personas.outsider,
        kind="system.announcement",
        title="Foreign notification marker",
    )
    return {
        "team": personas.other_team,
        "user": stranger,
        "admin": personas.outsider,
        "invitation": invitation,
    }


# --- Detail: 404 -------------------------------------------------------------------------


def test_other_org_team_edit_page_is_404(personas, foreign):
    client = client_for(personas.owner)
    assert client.get(f"/admin/teams/{foreign['team'].pk}/").status_code == 404
    # A POST (delete or rename) is refused the same way and changes nothing.
    response = client.post(f"/admin/teams/{foreign['team'].pk}/", {"delete": "1"})
    assert response.status_code == 404
    assert Team.objects.filter(pk=foreign["team"].pk).exists()


def test_other_org_person_edit_page_is_404(personas, foreign):
    client = client_for(personas.owner)
    for user in (foreign["user"], foreign["admin"]):
        assert client.get(f"/admin/people/{user.pk}/").status_code == 404
    response = client.post(
        f"/admin/people/{foreign['user'].pk}/",
        {"role": Role.ORG_ADMIN, "job_title": "hijacked", "is_active": "on"},
    )
    assert response.status_code == 404
    foreign["user"].refresh_from_db()
    assert foreign["user"].role == Role.EMPLOYEE
    assert foreign["user"].job_title != "hijacked"


def test_other_org_invitation_action_is_404(personas, foreign):
    client = client_for(personas.owner)
    response = client.post(f"/admin/invitations/{foreign['invitation'].pk}/revoke/")
    assert response.status_code == 404
    foreign["invitation"].refresh_from_db()
    assert foreign["invitation"].revoked_at is None


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/teams/{team}/",
        "/api/v1/users/{user}/",
        "/api/v1/users/{admin}/",
        "/api/v1/invitations/{invitation}/",
    ],
)
def test_other_org_api_detail_is_404_problem(personas, foreign, url):
    ids = {key: obj.pk for key, obj in foreign.items()}
    response = api_client_for(personas.owner).get(url.format(**ids))
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/problem+json")
    assert response.json()["status"] == 404


def test_other_org_api_writes_are_404(personas, foreign):
    api = api_client_for(personas.owner)
    team_pk, user_pk = foreign["team"].pk, foreign["user"].pk
    assert (
        api.patch(f"/api/v1/teams/{team_pk}/", {"name": "Pwned"}, format="json").status_code == 404
    )
    assert api.delete(f"/api/v1/teams/{team_pk}/").status_code == 404
    response = api.post(f"/api/v1/users/{user_pk}/role/", {"role": "org_admin"}, format="json")
    assert response.status_code == 404
    response = api.post(f"/api/v1/invitations/{foreign['invitation'].pk}/revoke/")
    assert response.status_code == 404
    foreign["team"].refresh_from_db()
    foreign["user"].refresh_from_db()
    foreign["invitation"].refresh_from_db()
    assert foreign["team"].name == "Secret team"
    assert foreign["user"].role == Role.EMPLOYEE
    assert foreign["invitation"].revoked_at is None


# --- Lists: never shown ------------------------------------------------------------------


def test_people_page_lists_only_own_organisation(personas, foreign):
    response = client_for(personas.owner).get("/admin/people/")
    assert response.status_code == 200
    html = response.content.decode()
    assert personas.teammate.email in html
    assert foreign["user"].email not in html
    assert foreign["admin"].email not in html
    # The team filter offers only our teams.
    assert "Secret team" not in html


def test_people_page_filter_by_foreign_team_shows_nobody(personas, foreign):
    response = client_for(personas.owner).get(f"/admin/people/?team={foreign['team'].pk}")
    assert response.status_code == 200
    assert foreign["admin"].email not in response.content.decode()
    assert list(response.context["page"].object_list) == []


def test_people_page_with_a_unicode_digit_team_filter_is_not_a_500(personas):
    """A crafted filter must not crash the page: "²".isdigit() is True, int("²") raises."""
    response = client_for(personas.owner).get("/admin/people/?team=²")
    assert response.status_code == 200


def test_teams_page_lists_only_own_organisation(personas, foreign):
    response = client_for(personas.owner).get("/admin/teams/")
    html = response.content.decode()
    assert "Communication" in html
    assert "Secret team" not in html
    parent_choices = list(response.context["form"].fields["parent"].queryset)
    assert parent_choices == [personas.team]
    assert foreign["admin"] not in response.context["form"].fields["managers"].queryset


def test_invitations_page_lists_only_own_organisation(personas, foreign):
    InvitationFactory(organization=personas.organization, email="ours@acme.test")
    html = client_for(personas.owner).get("/admin/invitations/").content.decode()
    assert "ours@acme.test" in html
    assert foreign["invitation"].email not in html


def test_audit_page_lists_only_own_organisation(personas, foreign):
    audit_record(
        action="team.created",
        organization=personas.organization,
        actor=personas.owner,
        target=personas.team,
        details={"marker": "own-audit-marker"},
    )
    html = client_for(personas.owner).get("/admin/audit/").content.decode()
    assert "own-audit-marker" in html
    assert "foreign-audit-marker" not in html
    assert personas.outsider.email not in html


def test_api_lists_only_own_organisation(personas, foreign):
    InvitationFactory(organization=personas.organization, email="ours@acme.test")
    audit_record(action="team.created", organization=personas.organization, actor=personas.owner)
    api = api_client_for(personas.owner)

    teams = api.get("/api/v1/teams/").json()["results"]
    assert {t["name"] for t in teams} == {"Communication"}

    users = api.get("/api/v1/users/").json()["results"]
    assert {u["email"] for u in users} == {personas.owner.email, personas.teammate.email}

    invitations = api.get("/api/v1/invitations/").json()["results"]
    assert [i["email"] for i in invitations] == ["ours@acme.test"]

    entries = api.get("/api/v1/audit-log/").json()["results"]
    assert entries
    assert all(e["actor_email"] != personas.outsider.email for e in entries)
    assert all(e["details"].get("marker") != "foreign-audit-marker" for e in entries)


def test_api_notifications_list_only_own(personas, foreign):
    Notification.objects.create(
        organization=personas.organization,
        recipient=personas.owner,
        kind="system.announcement",
        title="Own notification",
    )
    results = api_client_for(personas.owner).get("/api/v1/notifications/").json()["results"]
    assert [n["title"] for n in results] == ["Own notification"]


def test_api_team_filter_by_foreign_parent_is_refused_or_empty(personas, foreign):
    child = TeamFactory(organization=personas.other_organization, parent=foreign["team"])
    response = api_client_for(personas.owner).get(f"/api/v1/teams/?parent={foreign['team'].pk}")
    # django-filter validates the choice against the model's default manager; either a
    # 400 or an empty list is acceptable, but the foreign child must never appear.
    if response.status_code == 200:
        assert response.json()["results"] == []
    else:
        assert response.status_code == 400
    assert child.name not in response.content.decode()


# --- Cross-organisation references in writes ---------------------------------------------


def test_api_team_create_with_foreign_parent_is_400_naming_parent(personas, foreign):
    response = api_client_for(personas.owner).post(
        "/api/v1/teams/", {"name": "Trojan", "parent": foreign["team"].pk}, format="json"
    )
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == 400
    assert body["errors"][0]["field"] == "parent"
    assert not Team.objects.filter(name="Trojan").exists()


def test_api_team_create_with_foreign_manager_is_400_naming_managers(personas, foreign):
    response = api_client_for(personas.owner).post(
        "/api/v1/teams/", {"name": "Trojan", "managers": [foreign["admin"].pk]}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"].startswith("managers")
    assert not Team.objects.filter(name="Trojan").exists()


def test_html_team_create_with_foreign_parent_is_form_error(personas, foreign):
    response = client_for(personas.owner).post(
        "/admin/teams/", {"name": "Trojan", "kind": "team", "parent": foreign["team"].pk}
    )
    assert response.status_code == 200
    assert "parent" in response.context["form"].errors
    assert not Team.objects.filter(name="Trojan").exists()


def test_api_invitation_with_foreign_team_is_400_naming_teams(personas, foreign):
    response = api_client_for(personas.owner).post(
        "/api/v1/invitations/",
        {"email": "new@acme.test", "teams": [foreign["team"].pk]},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"].startswith("teams")
    assert not Invitation.objects.filter(email="new@acme.test").exists()


def test_html_invitation_with_foreign_team_is_form_error(personas, foreign):
    response = client_for(personas.owner).post(
        "/admin/invitations/",
        {
            "email": "new@acme.test",
            "role": "employee",
            "language": "en",
            "teams": [foreign["team"].pk],
        },
    )
    assert response.status_code == 200
    assert "teams" in response.context["form"].errors
    assert not Invitation.objects.filter(email="new@acme.test").exists()


def test_html_member_edit_with_foreign_team_is_form_error(personas, foreign):
    response = client_for(personas.owner).post(
        f"/admin/people/{personas.teammate.pk}/",
        {"role": "employee", "job_title": "", "is_active": "on", "teams": [foreign["team"].pk]},
    )
    assert response.status_code == 200
    assert "teams" in response.context["form"].errors
    assert list(personas.teammate.teams.all()) == [personas.team]


def test_api_team_update_reparent_under_foreign_team_is_400(personas, foreign):
    response = api_client_for(personas.owner).patch(
        f"/api/v1/teams/{personas.team.pk}/", {"parent": foreign["team"].pk}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "parent"
    personas.team.refresh_from_db()
    assert personas.team.parent_id is None
