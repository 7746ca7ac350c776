"""Filter choices are the caller's organisation's objects only: another organisation's team
id is refused exactly like an id that does not exist, so it cannot be confirmed."""

from __future__ import annotations

import pytest

from organizations.models import Team
from tests.conftest import api_client_for

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/api/v1/users/?teams={}", "/api/v1/teams/?parent={}"])
def test_another_organisation_s_team_is_answered_as_an_unknown_one(personas, path):
    client = api_client_for(personas.outsider)
    theirs = client.get(path.format(personas.team.pk))
    unknown = client.get(path.format(Team.objects.order_by("-pk").first().pk + 1000))
    assert theirs.status_code == unknown.status_code == 400
    assert theirs.json().keys() == unknown.json().keys()


def test_own_teams_still_filter(personas):
    response = api_client_for(personas.owner).get(f"/api/v1/users/?teams={personas.team.pk}")
    assert response.status_code == 200
    emails = {row["email"] for row in response.json()["results"]}
    assert personas.teammate.email in emails
    assert personas.outsider.email not in emails
