"""Bad query parameters and path ids get a clear 4xx answer, never a 500: a NUL in a
search (PostgreSQL cannot store it), a month past any calendar, a non-numeric API id."""

from __future__ import annotations

import pytest

from tests.conftest import api_client_for, client_for

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/feed/?q=%00", "/library/?q=a%00b", "/admin/people/?q=%00"])
def test_a_nul_in_a_search_is_a_400(personas, path):
    response = client_for(personas.owner).get(path)
    assert response.status_code == 400
    assert "not allowed" in response.content.decode()


def test_a_nul_in_an_api_filter_is_a_problem_400(personas):
    response = api_client_for(personas.owner).get("/api/v1/users/?search=%00")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/problem+json")


@pytest.mark.parametrize(
    "query", ["?month=99999999999999999999", "?year=1&month=1", "?year=99999&month=2"]
)
def test_the_calendar_shows_this_month_for_an_impossible_month(personas, query):
    response = client_for(personas.owner).get(f"/library/calendar/{query}")
    assert response.status_code == 200


@pytest.mark.parametrize("path", ["/api/v1/users/abc/role/", "/api/v1/invitations/abc/revoke/"])
def test_a_non_numeric_api_id_is_a_404(personas, path):
    response = api_client_for(personas.owner).post(path, {"role": "employee"}, format="json")
    assert response.status_code == 404
