"""The team tree: departments, sites and teams, kept acyclic, unique by name under a
parent, never deleted from under their children."""

from __future__ import annotations

import pytest

from organizations import selectors
from organizations.models import AuditLogEntry, Role, Team, TeamKind
from tests.conftest import api_client_for, client_for
from tests.factories import TeamFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def tree(personas):
    org = personas.organization
    dept = TeamFactory(organization=org, name="Sales", kind=TeamKind.DEPARTMENT)
    site = TeamFactory(organization=org, name="Lyon", kind=TeamKind.SITE, parent=dept)
    team = TeamFactory(organization=org, name="Key accounts", parent=site)
    return dept, site, team


# --- Creating the tree --------------------------------------------------------------------


def test_admin_page_builds_department_site_team(personas):
    client = client_for(personas.owner)
    response = client.post("/admin/teams/", {"name": " Sales ", "kind": "department"})
    assert response.status_code == 302
    dept = Team.objects.get(organization=personas.organization, name="Sales")
    assert dept.kind == TeamKind.DEPARTMENT

    client.post("/admin/teams/", {"name": "Lyon", "kind": "site", "parent": dept.pk})
    site = Team.objects.get(name="Lyon")
    assert site.parent == dept
    client.post(
        "/admin/teams/",
        {
            "name": "Key accounts",
            "kind": "team",
            "parent": site.pk,
            "managers": [personas.teammate.pk],
        },
    )
    team = Team.objects.get(name="Key accounts")
    assert team.parent == site
    assert list(team.managers.all()) == [personas.teammate]

    assert AuditLogEntry.objects.filter(action="team.created").count() == 3
    entry = AuditLogEntry.objects.filter(action="team.created", target_id=str(site.pk)).get()
    assert entry.details == {"parent": "Sales"}

    page = client.get("/admin/teams/")
    assert [(t.name, depth) for t, depth in page.context["tree"]] == [
        ("Communication", 0),
        ("Sales", 0),
        ("Lyon", 1),
        ("Key accounts", 2),
    ]
    assert personas.teammate.email in page.content.decode()


def test_api_builds_department_site_team(personas):
    api = api_client_for(personas.owner)
    dept = api.post("/api/v1/teams/", {"name": "Sales", "kind": "department"}, format="json")
    assert dept.status_code == 201, dept.content
    site = api.post(
        "/api/v1/teams/",
        {"name": "Lyon", "kind": "site", "parent": dept.json()["id"]},
        format="json",
    )
    assert site.status_code == 201
    team = api.post(
        "/api/v1/teams/",
        {"name": "Key accounts", "parent": site.json()["id"], "managers": [personas.owner.pk]},
        format="json",
    )
    assert team.status_code == 201
    body = team.json()
    assert body["kind"] == "team"
    assert body["parent"] == site.json()["id"]
    assert body["managers"] == [personas.owner.pk]
    listed = api.get(f"/api/v1/teams/?parent={dept.json()['id']}").json()["results"]
    assert [t["name"] for t in listed] == ["Lyon"]


def test_api_unknown_kind_is_400_naming_kind(personas):
    response = api_client_for(personas.owner).post(
        "/api/v1/teams/", {"name": "X", "kind": "galaxy"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "kind"
    assert not Team.objects.filter(name="X").exists()


def test_api_blank_name_is_400_naming_name(personas):
    response = api_client_for(personas.owner).post("/api/v1/teams/", {"name": ""}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "name"


# --- No cycles ---------------------------------------------------------------------------


def test_api_team_cannot_be_its_own_parent(personas, tree):
    dept, _site, _team = tree
    response = api_client_for(personas.owner).patch(
        f"/api/v1/teams/{dept.pk}/", {"parent": dept.pk}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "parent"
    dept.refresh_from_db()
    assert dept.parent is None


def test_api_team_cannot_move_below_its_descendant(personas, tree):
    dept, _site, team = tree
    response = api_client_for(personas.owner).patch(
        f"/api/v1/teams/{dept.pk}/", {"parent": team.pk}, format="json"
    )
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/problem+json")
    assert response.json()["errors"][0]["field"] == "parent"
    dept.refresh_from_db()
    assert dept.parent is None
    assert not AuditLogEntry.objects.filter(action="team.updated").exists()


def test_html_team_cannot_move_below_its_descendant(personas, tree):
    dept, site, _team = tree
    response = client_for(personas.owner).post(
        f"/admin/teams/{dept.pk}/", {"name": "Sales", "kind": "department", "parent": site.pk}
    )
    assert response.status_code == 200
    assert "parent" in response.context["form"].errors
    dept.refresh_from_db()
    assert dept.parent is None


def test_team_can_move_to_another_branch(personas, tree):
    dept, _site, team = tree
    response = api_client_for(personas.owner).patch(
        f"/api/v1/teams/{team.pk}/", {"parent": dept.pk}, format="json"
    )
    assert response.status_code == 200
    team.refresh_from_db()
    assert team.parent == dept
    assert AuditLogEntry.objects.filter(action="team.updated", target_id=str(team.pk)).exists()


# --- Unique names under a parent ---------------------------------------------------------


def test_api_duplicate_name_under_same_parent_is_409(personas, tree):
    _dept, site, _team = tree
    response = api_client_for(personas.owner).post(
        "/api/v1/teams/", {"name": "Key accounts", "parent": site.pk}, format="json"
    )
    assert response.status_code == 409
    body = response.json()
    assert body["status"] == 409
    assert body["errors"][0]["field"] == "name"
    assert Team.objects.filter(name="Key accounts").count() == 1


def test_api_duplicate_root_name_is_409(personas):
    response = api_client_for(personas.owner).post(
        "/api/v1/teams/", {"name": "Communication"}, format="json"
    )
    assert response.status_code == 409
    assert (
        Team.objects.filter(organization=personas.organization, name="Communication").count() == 1
    )


def test_same_name_under_another_parent_or_organisation_is_fine(personas, tree):
    api = api_client_for(personas.owner)
    response = api.post("/api/v1/teams/", {"name": "Lyon"}, format="json")
    assert response.status_code == 201
    response = api.post("/api/v1/teams/", {"name": "Secret team"}, format="json")
    assert response.status_code == 201


def test_html_duplicate_name_is_a_form_error(personas, tree):
    _dept, site, _team = tree
    response = client_for(personas.owner).post(
        "/admin/teams/", {"name": "Key accounts", "kind": "team", "parent": site.pk}
    )
    assert response.status_code == 200
    assert "already exists" in " ".join(response.context["form"].errors["name"])
    assert Team.objects.filter(name="Key accounts").count() == 1


def test_html_rename_to_a_sibling_name_is_a_form_error(personas, tree):
    dept, site, _team = tree
    TeamFactory(organization=personas.organization, name="Paris", parent=dept)
    response = client_for(personas.owner).post(
        f"/admin/teams/{site.pk}/", {"name": "Paris", "kind": "site", "parent": dept.pk}
    )
    assert response.status_code == 200
    assert "name" in response.context["form"].errors
    site.refresh_from_db()
    assert site.name == "Lyon"


# --- Deleting ----------------------------------------------------------------------------


def test_api_delete_team_with_children_is_refused(personas, tree):
    dept, _site, _team = tree
    response = api_client_for(personas.owner).delete(f"/api/v1/teams/{dept.pk}/")
    assert response.status_code == 409
    assert Team.objects.filter(pk=dept.pk).exists()
    assert not AuditLogEntry.objects.filter(action="team.deleted").exists()


def test_html_delete_team_with_children_is_refused(personas, tree):
    dept, _site, _team = tree
    response = client_for(personas.owner).post(
        f"/admin/teams/{dept.pk}/", {"delete": "1"}, follow=True
    )
    assert response.status_code == 200
    assert "Move or delete the teams below" in response.content.decode()
    assert Team.objects.filter(pk=dept.pk).exists()


def test_delete_leaf_team_keeps_its_members(personas, tree):
    _dept, _site, team = tree
    member = UserFactory(organization=personas.organization, teams=[team, personas.team])
    response = client_for(personas.owner).post(f"/admin/teams/{team.pk}/", {"delete": "1"})
    assert response.status_code == 302
    assert not Team.objects.filter(pk=team.pk).exists()
    member.refresh_from_db()
    assert list(member.teams.all()) == [personas.team]
    entry = AuditLogEntry.objects.get(action="team.deleted")
    assert entry.target_repr == "Key accounts"


def test_api_delete_leaf_team(personas, tree):
    _dept, _site, team = tree
    response = api_client_for(personas.owner).delete(f"/api/v1/teams/{team.pk}/")
    assert response.status_code == 204
    assert not Team.objects.filter(pk=team.pk).exists()


# --- Selectors ---------------------------------------------------------------------------


def test_team_descendant_ids(personas, tree):
    dept, site, team = tree
    all_teams = list(Team.objects.filter(organization=personas.organization))
    assert selectors.team_descendant_ids([dept], all_teams) == {dept.pk, site.pk, team.pk}
    assert selectors.team_descendant_ids([site.pk], all_teams) == {site.pk, team.pk}
    assert selectors.team_descendant_ids([team], all_teams) == {team.pk}
    assert selectors.team_descendant_ids([], all_teams) == set()
    assert selectors.team_descendant_ids([dept, site], all_teams) == {dept.pk, site.pk, team.pk}


def test_visible_team_ids_per_role(personas, tree):
    dept, site, team = tree
    other_dept = TeamFactory(organization=personas.organization, name="Tech")
    manager = UserFactory(organization=personas.organization, role=Role.MANAGER)
    site.managers.add(manager)
    assert selectors.visible_team_ids(manager) == {site.pk, team.pk}

    dept.managers.add(manager)
    assert selectors.visible_team_ids(manager) == {dept.pk, site.pk, team.pk}

    employee = UserFactory(organization=personas.organization, teams=[team])
    assert selectors.visible_team_ids(employee) == {team.pk}

    everything = {personas.team.pk, dept.pk, site.pk, team.pk, other_dept.pk}
    assert selectors.visible_team_ids(personas.owner) == everything
    editor = UserFactory(organization=personas.organization, role=Role.EDITOR)
    assert selectors.visible_team_ids(editor) == everything
    assert personas.other_team.pk not in selectors.visible_team_ids(personas.owner)


def test_manager_of_nothing_sees_no_team(personas, tree):
    manager = UserFactory(
        organization=personas.organization, role=Role.MANAGER, teams=[personas.team]
    )
    assert selectors.visible_team_ids(manager) == set()


def test_visible_team_ids_runs_a_fixed_number_of_queries(
    personas, tree, django_assert_max_num_queries
):
    dept, _site, team = tree
    parent = team
    for depth in range(10):
        parent = TeamFactory(
            organization=personas.organization, name=f"Deep {depth}", parent=parent
        )
    manager = UserFactory(organization=personas.organization, role=Role.MANAGER)
    dept.managers.add(manager)
    with django_assert_max_num_queries(2):
        visible = selectors.visible_team_ids(manager)
    assert parent.pk in visible
    assert len(visible) == 13


def test_teams_page_query_count_is_bounded(personas, django_assert_max_num_queries):
    client = client_for(personas.owner)
    for index in range(20):
        team = TeamFactory(
            organization=personas.organization, name=f"T{index}", parent=personas.team
        )
        team.managers.add(personas.owner)
    with django_assert_max_num_queries(12):
        assert client.get("/admin/teams/").status_code == 200


def test_people_page_query_count_is_bounded(personas, django_assert_max_num_queries):
    client = client_for(personas.owner)
    for _ in range(20):
        UserFactory(organization=personas.organization, teams=[personas.team])
    with django_assert_max_num_queries(12):
        response = client.get("/admin/people/")
    assert response.status_code == 200
    assert len(response.context["page"].object_list) == 22
