"""Who sees what, on every surface (pages, API, CSV): a manager sees their teams and
those below, never other teams nor other organisations; the comms team and org admins
see the organisation; an employee has no dashboards at all."""

from __future__ import annotations

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.urls import reverse

from analytics import selectors
from tests.analytics.dashboards_data import NOW, TODAY, build_world, rollup
from tests.conftest import api_client_for, client_for

pytestmark = pytest.mark.django_db

PAGES = ["dashboards", "dashboard_report", "dashboard_what_works"]
API = [
    "api_analytics_summary",
    "api_analytics_timeseries",
    "api_analytics_top_contents",
    "api_analytics_top_ambassadors",
    "api_analytics_teams",
]


@pytest.fixture
def world():
    with time_machine.travel(NOW, tick=False):
        w = build_world()
        rollup(w.employee, w.content, TODAY, shares=1, clicks=3)  # North (below Sales)
        rollup(w.marketer, w.other_content, TODAY, shares=4, clicks=40)  # Marketing
        rollup(w.outsider_employee, w.outsider_content, TODAY, shares=9, clicks=900)
        yield w


def test_the_access_helper(world):
    with pytest.raises(Http404):
        selectors.dashboard_scope(world.employee)
    manager = selectors.dashboard_scope(world.manager)
    assert manager.team_ids == {world.sales.pk, world.north.pk}
    assert not manager.whole_organization
    assert selectors.dashboard_scope(world.editor).team_ids is None
    assert selectors.dashboard_scope(world.admin).team_ids is None
    assert selectors.dashboard_scope(world.manager, team_id=world.north.pk).team_ids == {
        world.north.pk
    }
    with pytest.raises(PermissionDenied):
        selectors.dashboard_scope(world.manager, team_id=world.marketing.pk)
    with pytest.raises(Http404):
        selectors.dashboard_scope(world.admin, team_id=world.other_team.pk)


@pytest.mark.parametrize("name", ["dashboards", "dashboard_report"])
def test_an_employee_without_dashboards_gets_404_everywhere(world, name):
    client = client_for(world.employee)
    assert client.get(reverse(name)).status_code == 404
    assert client.get(reverse("dashboard_export", args=["summary"])).status_code == 404
    assert client.get(reverse("dashboard_content", args=[world.content.pk])).status_code == 404
    for api_name in API:
        response = api_client_for(world.employee).get(reverse(api_name))
        assert response.status_code == 404, api_name
        assert response["Content-Type"] == "application/problem+json"


def test_a_manager_sees_their_teams_only(world):
    client = client_for(world.manager)
    html = client.get(reverse("dashboards")).content.decode()
    assert "Nora North" in html
    assert "Mia Marketer" not in html and "Our new site" not in html
    assert "Marketing" not in html  # neither in the team table nor in the filter
    csv = client.get(reverse("dashboard_export", args=["top-ambassadors"])).content.decode()
    assert "Nora North" in csv and "Mia Marketer" not in csv
    body = api_client_for(world.manager).get(reverse("api_analytics_summary")).json()
    assert body["totals"]["clicks"] == 3
    teams = api_client_for(world.manager).get(reverse("api_analytics_teams")).json()
    assert {row["name"] for row in teams} == {"Sales", "North"}


def test_another_team_is_403_and_another_organisations_team_is_404(world):
    client, api = client_for(world.manager), api_client_for(world.manager)
    assert client.get(reverse("dashboards"), {"team": world.marketing.pk}).status_code == 403
    assert client.get(reverse("dashboards"), {"team": world.other_team.pk}).status_code == 404
    export = reverse("dashboard_export", args=["teams"])
    assert client.get(export, {"team": world.marketing.pk}).status_code == 403
    assert client.get(export, {"team": world.other_team.pk}).status_code == 404
    for name in API:
        assert api.get(reverse(name), {"team": world.marketing.pk}).status_code == 403, name
        assert api.get(reverse(name), {"team": world.other_team.pk}).status_code == 404, name


def test_another_organisations_content_is_404(world):
    url = reverse("dashboard_content", args=[world.outsider_content.pk])
    assert client_for(world.admin).get(url).status_code == 404
    export = reverse("dashboard_export", args=["content-people"])
    assert (
        client_for(world.admin).get(export, {"content": world.outsider_content.pk}).status_code
        == 404
    )


def test_other_organisations_never_appear(world):
    html = client_for(world.admin).get(reverse("dashboards")).content.decode()
    assert "Secret launch" not in html and "Secret team" not in html
    body = api_client_for(world.admin).get(reverse("api_analytics_summary")).json()
    assert body["totals"]["clicks"] == 43
    outsider = api_client_for(world.outsider).get(reverse("api_analytics_top_contents")).json()
    assert [row["title"] for row in outsider] == ["Secret launch"]


def test_comms_see_the_whole_organisation_and_what_works(world):
    client = client_for(world.editor)
    html = client.get(reverse("dashboards")).content.decode()
    assert "Mia Marketer" in html and "Nora North" in html
    assert client.get(reverse("dashboard_what_works")).status_code == 200
    assert client.get(reverse("dashboard_export", args=["what-works-topics"])).status_code == 200
    manager = client_for(world.manager)
    assert manager.get(reverse("dashboard_export", args=["what-works-topics"])).status_code == 404


def test_the_navigation_shows_dashboards_only_to_those_who_have_them(world):
    assert (
        'href="/dashboards/"' in client_for(world.manager).get(reverse("profile")).content.decode()
    )
    assert (
        'href="/dashboards/"'
        not in client_for(world.employee).get(reverse("profile")).content.decode()
    )


def test_a_reviewer_of_the_comms_team_sees_the_whole_organisation(world):
    from organizations.models import Role
    from tests.factories import UserFactory

    reviewer = UserFactory(organization=world.admin.organization, role=Role.REVIEWER)
    assert selectors.dashboard_scope(reviewer).whole_organization
    assert client_for(reviewer).get(reverse("dashboards")).status_code == 200
    assert api_client_for(reviewer).get(reverse("api_analytics_summary")).status_code == 200
