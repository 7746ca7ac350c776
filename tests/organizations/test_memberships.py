"""People in several organisations: switching (session), the X-Organization header, the
list of one's organisations, the save guard, and never seeing one organisation's data
while working in the other."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command
from knox.models import AuthToken
from rest_framework.test import APIClient

from advocacy.models import Share, ShareMode, ShareStatus
from content.models import ContentStatus, Network
from organizations import memberships
from organizations.models import AuditLogEntry, Invitation, Membership, Organization, Role, User
from tests.conftest import client_for
from tests.content.factories import ContentFactory
from tests.factories import OrganizationFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def agent(personas):
    """An agency person: an editor at home in Acme, and the administrator of Other Corp
    through a membership, with a team in each."""
    person = UserFactory(
        email="agent@agency.test",
        first_name="Alix",
        last_name="Agence",
        organization=personas.organization,
        role=Role.EDITOR,
        teams=[personas.team],
    )
    Membership.objects.create(
        user=person, organization=personas.other_organization, role=Role.ORG_ADMIN
    )
    person.teams.add(personas.other_team)
    return person


@pytest.fixture
def marked(personas):
    """One recognisable published item in each organisation."""
    home = ContentFactory(organization=personas.organization, title="Acme marker post")
    other = ContentFactory(organization=personas.other_organization, title="Other marker post")
    return home, other


def token_client(user: User, organization: str | None = None) -> APIClient:
    _instance, token = AuthToken.objects.create(user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    if organization is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}", HTTP_X_ORGANIZATION=organization)
    return client


def switch(client, organization: Organization):
    return client.post("/organizations/switch/", {"organization": organization.pk})


# --- Switching in the web app --------------------------------------------------------------


def test_switching_changes_the_active_organisation_for_the_session(personas, agent):
    client = client_for(agent)
    assert client.get("/api/v1/me/").json()["organization"]["slug"] == "acme"
    assert "Secret team" not in client.get("/me/").content.decode()

    response = switch(client, personas.other_organization)

    assert response.status_code == 302 and response["Location"] == "/feed/"
    me = client.get("/api/v1/me/").json()
    assert me["organization"]["slug"] == "other"
    assert me["role"] == Role.ORG_ADMIN
    assert [team["name"] for team in me["teams"]] == ["Secret team"]
    assert "Secret team" in client.get("/me/").content.decode()
    assert AuditLogEntry.objects.filter(
        organization=personas.other_organization, action="organization.switched", actor=agent
    ).exists()
    # Back home.
    switch(client, personas.organization)
    assert client.get("/api/v1/me/").json()["role"] == Role.EDITOR


def test_switching_to_an_organisation_one_is_not_in_is_refused(personas):
    client = client_for(personas.owner)
    response = switch(client, personas.other_organization)
    assert response.status_code == 302
    assert client.get("/api/v1/me/").json()["organization"]["slug"] == "acme"
    assert not AuditLogEntry.objects.filter(action="organization.switched").exists()


def test_switching_needs_a_post(personas, agent):
    client = client_for(agent)
    assert client.get("/organizations/switch/").status_code == 405


def test_a_removed_membership_falls_back_to_home(personas, agent):
    client = client_for(agent)
    switch(client, personas.other_organization)
    Membership.objects.filter(user=agent).delete()
    assert client.get("/api/v1/me/").json()["organization"]["slug"] == "acme"
    assert memberships.SESSION_KEY not in client.session


def test_the_header_switcher_shows_only_for_people_in_several(personas, agent):
    page = client_for(agent).get("/me/").content.decode()
    assert 'class="dropdown org-switch"' in page
    assert "Other Corp" in page
    single = client_for(personas.teammate).get("/me/").content.decode()
    assert "org-switch" not in single


# --- The API: X-Organization and /me/organizations/ ----------------------------------------


def test_x_organization_chooses_the_organisation_of_a_token_call(personas, agent):
    for reference in ("other", str(personas.other_organization.pk)):
        teams = token_client(agent, reference).get("/api/v1/teams/").json()["results"]
        assert [team["name"] for team in teams] == ["Secret team"]
    # Without the header: the home organisation.
    teams = token_client(agent).get("/api/v1/teams/").json()["results"]
    assert [team["name"] for team in teams] == ["Communication"]


@pytest.mark.parametrize("reference", ["third", "999999", "x" * 80, "99999999999999999999"])
def test_x_organization_of_a_non_member_is_refused_without_data(personas, agent, reference):
    OrganizationFactory(name="Third", slug="third")
    response = token_client(agent, reference).get("/api/v1/teams/")
    assert response.status_code == 403
    assert response["Content-Type"].startswith("application/problem+json")
    assert "results" not in response.json()


def test_x_organization_on_a_session_call(personas, agent):
    client = client_for(agent)
    response = client.get("/api/v1/me/", HTTP_X_ORGANIZATION="other")
    assert response.json()["organization"]["slug"] == "other"
    refused = client_for(personas.teammate).get("/api/v1/me/", HTTP_X_ORGANIZATION="other")
    assert refused.status_code == 403
    assert refused["Content-Type"].startswith("application/problem+json")
    assert "Other Corp" not in refused.content.decode()


def test_my_organizations_lists_each_with_its_role(personas, agent):
    rows = token_client(agent).get("/api/v1/me/organizations/").json()
    assert rows == [
        {
            "id": personas.organization.pk,
            "name": "Acme Santé",
            "slug": "acme",
            "role": "editor",
            "home": True,
            "active": True,
        },
        {
            "id": personas.other_organization.pk,
            "name": "Other Corp",
            "slug": "other",
            "role": "org_admin",
            "home": False,
            "active": False,
        },
    ]
    active = token_client(agent, "other").get("/api/v1/me/organizations/").json()
    assert [row["active"] for row in active] == [False, True]


def test_my_organizations_for_a_person_in_one(personas):
    rows = token_client(personas.teammate).get("/api/v1/me/organizations/").json()
    assert [(row["slug"], row["home"], row["active"]) for row in rows] == [("acme", True, True)]


def test_my_organizations_is_in_the_schema(personas):
    schema = client_for(personas.owner).get("/api/schema/?format=json").json()
    operation = schema["paths"]["/api/v1/me/organizations/"]["get"]
    assert any(
        p["name"] == "X-Organization" and p["in"] == "header" for p in operation["parameters"]
    )
    assert "403" in operation["responses"]


# --- Never the other organisation's data ---------------------------------------------------


def test_the_feed_shows_only_the_active_organisations_content(personas, agent, marked):
    client = client_for(agent)
    page = client.get("/feed/").content.decode()
    assert "Acme marker post" in page and "Other marker post" not in page
    switch(client, personas.other_organization)
    page = client.get("/feed/").content.decode()
    assert "Other marker post" in page and "Acme marker post" not in page


def test_content_of_the_inactive_organisation_is_404(personas, agent, marked):
    home, other = marked
    client = client_for(agent)
    assert client.get(f"/api/v1/contents/{other.pk}/").status_code == 404
    switch(client, personas.other_organization)
    assert client.get(f"/api/v1/contents/{home.pk}/").status_code == 404
    assert client.get(f"/api/v1/contents/{other.pk}/").status_code == 200


def test_the_api_lists_only_the_chosen_organisations_data(personas, agent, marked):
    titles = {
        item["title"]
        for item in token_client(agent, "other").get("/api/v1/feed/").json()["results"]
    }
    assert "Other marker post" in titles and "Acme marker post" not in titles
    people = token_client(agent, "other").get("/api/v1/users/").json()["results"]
    emails = {person["email"] for person in people}
    assert personas.teammate.email not in emails
    assert personas.outsider.email in emails and agent.email in emails


def test_the_people_page_lists_guest_members_with_their_role_here(personas, agent):
    client = client_for(personas.outsider)  # Other Corp's own administrator
    page = client.get("/admin/people/").content.decode()
    assert agent.email in page and personas.teammate.email not in page
    assert "Organisation admin" in page
    assert agent.email in client.get("/admin/people/?role=org_admin").content.decode()
    assert agent.email not in client.get("/admin/people/?role=editor").content.decode()
    # And at home, the same person is an editor.
    home_page = client_for(personas.owner).get("/admin/people/?role=editor").content.decode()
    assert agent.email in home_page


def test_an_admin_changes_a_guest_members_role_here_only(personas, agent):
    client = client_for(personas.outsider)
    response = client.post(
        f"/admin/people/{agent.pk}/",
        {"role": Role.EMPLOYEE, "teams": [personas.other_team.pk], "is_active": "on"},
    )
    assert response.status_code == 302
    agent.refresh_from_db()
    assert agent.role == Role.EDITOR and agent.organization == personas.organization
    assert Membership.objects.get(user=agent).role == Role.EMPLOYEE
    # Their teams at home are untouched.
    assert set(agent.teams.values_list("name", flat=True)) == {"Communication", "Secret team"}


def test_an_admin_removes_a_guest_member_without_deactivating_the_account(personas, agent):
    client = client_for(personas.outsider)
    client.post(f"/admin/people/{agent.pk}/", {"role": Role.ORG_ADMIN, "teams": []})
    agent.refresh_from_db()
    assert agent.is_active
    assert not Membership.objects.filter(user=agent).exists()
    assert list(agent.teams.values_list("name", flat=True)) == ["Communication"]
    assert AuditLogEntry.objects.filter(action="membership.removed").exists()


def test_points_are_earned_in_the_organisation_of_the_share(
    personas, agent, django_capture_on_commit_callbacks
):
    from challenges.models import PointEntry, Score
    from tests.challenges.conftest import make_share, publish

    # A share made while working in Other Corp pays in Other Corp, not at home.
    memberships.organization_apply(agent, personas.other_organization, Role.ORG_ADMIN)
    share = make_share(agent)
    with django_capture_on_commit_callbacks(execute=True):
        publish(share)
    entries = PointEntry.objects.filter(user=agent)
    assert [entry.organization_id for entry in entries] == [personas.other_organization.pk]
    # The totals follow: a Score row in Other Corp, none at home.
    assert list(Score.objects.filter(user=agent).values_list("organization_id", flat=True)) == [
        personas.other_organization.pk
    ]


# --- The save guard --------------------------------------------------------------------------


def test_saving_a_person_never_writes_the_active_organisation(personas, agent):
    memberships.organization_apply(agent, personas.other_organization, Role.ORG_ADMIN)
    agent.first_name = "Renamed"
    agent.save()
    assert agent.organization == personas.other_organization  # still active in memory
    row = User.objects.get(pk=agent.pk)
    assert (row.organization_id, row.role, row.first_name) == (
        personas.organization.pk,
        Role.EDITOR,
        "Renamed",
    )


def test_the_profile_form_saved_in_another_organisation_keeps_home(personas, agent):
    client = client_for(agent)
    switch(client, personas.other_organization)
    response = client.post(
        "/me/",
        {"first_name": "Alix", "last_name": "Nouveau", "language": "en", "job_title": "Lead"},
    )
    assert response.status_code in (200, 302)
    row = User.objects.get(pk=agent.pk)
    assert row.organization_id == personas.organization.pk and row.role == Role.EDITOR
    assert row.last_name == "Nouveau"


# --- Invitations reach people of other organisations ---------------------------------------


def test_an_invitation_to_an_existing_account_adds_a_membership(personas):
    person = personas.teammate
    invitation = Invitation.objects.create(
        organization=personas.other_organization,
        email=person.email,
        role=Role.EDITOR,
        expires_at="2999-01-01T00:00:00Z",
    )
    anonymous = client_for(person)
    anonymous.logout()
    page = anonymous.get(f"/invitations/{invitation.token}/", HTTP_ACCEPT_LANGUAGE="en")
    assert "Sign in to accept" in page.content.decode()

    client = client_for(person)
    assert "Join Other Corp" in client.get(f"/invitations/{invitation.token}/").content.decode()
    response = client.post(f"/invitations/{invitation.token}/")
    assert response.status_code == 302
    membership = Membership.objects.get(user=person)
    assert (membership.organization, membership.role) == (personas.other_organization, "editor")
    person.refresh_from_db()
    assert person.organization == personas.organization and person.role == Role.EMPLOYEE
    # The session now works in the organisation joined, and the switcher appears.
    assert client.get("/api/v1/me/").json()["organization"]["slug"] == "other"
    assert "org-switch" in client.get("/me/").content.decode()


def test_an_admin_may_invite_someone_of_another_organisation(personas):
    client = client_for(personas.owner)
    response = client.post(
        "/admin/invitations/",
        {"email": personas.outsider.email, "role": Role.EMPLOYEE, "language": "en"},
    )
    assert response.status_code == 302
    assert Invitation.objects.filter(
        organization=personas.organization, email=personas.outsider.email
    ).exists()


def test_a_member_through_a_membership_cannot_be_invited_again(personas, agent):
    response = client_for(personas.outsider).post(
        "/admin/invitations/", {"email": agent.email, "role": Role.EMPLOYEE, "language": "en"}
    )
    assert response.status_code == 200
    assert "already a member" in response.content.decode()


# --- The agency view ---------------------------------------------------------------------------


def test_the_agency_view_lists_each_client_with_its_figures(personas, agent, marked):
    other = personas.other_organization
    ContentFactory(organization=other, status=ContentStatus.IN_REVIEW, title="To review")
    from django.utils import timezone

    Share.objects.create(
        organization=other,
        user=personas.outsider,
        content=marked[1],
        network=Network.LINKEDIN,
        mode=ShareMode.LINK,
        text="Fiers",
        status=ShareStatus.PUBLISHED,
        scheduled_at=timezone.now(),
        published_at=timezone.now(),
    )
    response = client_for(agent).get("/agency/")
    assert response.status_code == 200
    page = response.content.decode()
    assert 'data-organization="acme"' in page and 'data-organization="other"' in page
    cards = page.split('data-organization="other"')[1]
    assert '<dd data-figure="waiting_for_review">1</dd>' in cards
    assert '<dd data-figure="shares_this_month">1</dd>' in cards
    # Other Corp: the outsider, the two authors of its posts and the agent (through the
    # membership); one of the four shared.
    assert '<dd data-figure="adoption">25 %</dd>' in cards


def test_the_agency_view_is_for_admins_and_editors_of_several(personas, agent):
    assert client_for(personas.owner).get("/agency/").status_code == 404
    employee = UserFactory(organization=personas.organization, role=Role.EMPLOYEE)
    Membership.objects.create(user=employee, organization=personas.other_organization)
    assert client_for(employee).get("/agency/").status_code == 404


def test_opening_a_client_from_the_agency_view_switches(personas, agent):
    client = client_for(agent)
    response = switch(client, personas.other_organization)
    assert response["Location"] == "/feed/"
    assert client.get("/api/v1/me/").json()["organization"]["slug"] == "other"


# --- Platform operators ------------------------------------------------------------------------


@pytest.fixture
def operator(db):
    return UserFactory(organization=None, is_staff=True, email="ops@platform.test")


def test_the_operator_page_creates_an_organisation_and_invites_its_admin(operator, personas):
    client = client_for(operator)
    assert client.get("/operator/organizations/").status_code == 200
    response = client.post(
        "/operator/organizations/",
        {"name": "Labo Pharma", "slug": "", "admin_email": "Admin@Labo.test", "language": "en"},
    )
    assert response.status_code == 302
    organization = Organization.objects.get(slug="labo-pharma")
    invitation = Invitation.objects.get(organization=organization)
    assert (invitation.email, invitation.role) == ("admin@labo.test", Role.ORG_ADMIN)
    assert AuditLogEntry.objects.filter(
        organization=organization, action="organization.created", actor=operator
    ).exists()
    listing = client.get("/operator/organizations/").content.decode()
    assert 'data-organization="labo-pharma"' in listing and 'data-organization="other"' in listing


def test_the_operator_page_refuses_bad_input_and_writes_nothing(operator, personas):
    client = client_for(operator)
    before = Organization.objects.count()
    response = client.post(
        "/operator/organizations/",
        {"name": "Acme bis", "slug": "acme", "admin_email": "a@b.test", "language": "fr"},
    )
    assert response.status_code == 200 and "exists already" in response.content.decode()
    response = client.post("/operator/organizations/", {"name": "X", "admin_email": "not an email"})
    assert response.status_code == 200
    assert Organization.objects.count() == before


def test_organisation_admins_are_not_operators(personas):
    assert client_for(personas.owner).get("/operator/organizations/").status_code == 404
    response = client_for(personas.owner).post(
        "/operator/organizations/", {"name": "Sneaky", "admin_email": "a@b.test"}
    )
    assert response.status_code == 404
    assert not Organization.objects.filter(name="Sneaky").exists()


def test_the_command_creates_an_organisation_even_for_an_existing_admin(personas, capsys):
    call_command(
        "create_organization", "--name", "Labo Deux", "--admin-email", personas.owner.email
    )
    output = capsys.readouterr().out
    assert "/invitations/" in output and "has an account already" in output
    organization = Organization.objects.get(slug="labo-deux")
    assert Invitation.objects.filter(organization=organization, email=personas.owner.email)
    with pytest.raises(CommandError, match="exists already"):
        call_command("create_organization", "--name", "Labo Deux", "--admin-email", "x@y.test")
    with pytest.raises(CommandError, match="valid email"):
        call_command("create_organization", "--name", "Labo Trois", "--admin-email", "nope")


def test_teams_of_other_organisations_stay_when_teams_are_set(personas, agent):
    from organizations.services import teams_set_in_organization

    extra = TeamFactory(organization=personas.organization, name="Ventes")
    teams_set_in_organization(user=agent, organization_id=personas.organization.pk, teams=[extra])
    assert set(agent.teams.values_list("name", flat=True)) == {"Ventes", "Secret team"}
    assert list(agent.active_teams().values_list("name", flat=True)) == ["Ventes"]


def test_the_demo_agency_person_works_in_two_organisations(db):
    from organizations.management.commands.seed_demo import AGENCY_EMAIL, CLIENT_SLUG, Command

    command = Command()
    home = command._seed()
    command._seed_client_organization(home)
    command._seed_client_organization(home)  # idempotent
    agency = User.objects.get(email=AGENCY_EMAIL)
    assert agency.organization == home and agency.role == Role.EDITOR
    membership = Membership.objects.get(user=agency)
    assert (membership.organization.slug, membership.role) == (CLIENT_SLUG, Role.ORG_ADMIN)
    rows = token_client(agency).get("/api/v1/me/organizations/").json()
    assert [row["slug"] for row in rows] == ["demo", CLIENT_SLUG]
    feed = token_client(agency, CLIENT_SLUG).get("/api/v1/feed/").json()["results"]
    assert len(feed) == 3


def test_my_organizations_and_the_agency_view_cost_bounded_queries(
    personas, agent, django_assert_max_num_queries
):
    for index in range(5):
        organization = OrganizationFactory(name=f"Client {index}", slug=f"client-{index}")
        Membership.objects.create(user=agent, organization=organization, role=Role.EDITOR)
    api = token_client(agent)
    with django_assert_max_num_queries(6):
        assert len(api.get("/api/v1/me/organizations/").json()) == 7
    client = client_for(agent)
    with django_assert_max_num_queries(18):
        page = client.get("/agency/").content.decode()
    assert page.count('class="card agency-card"') == 7
