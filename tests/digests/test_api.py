"""The digest API: the caller's frequency (GET, PATCH with problem JSON on bad input) and
the preview of the caller's digest; scoped to the caller, with bounded queries."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from digests.models import DigestPreference, Frequency
from tests.conftest import api_client_for
from tests.digests.conftest import daily_at_nine, post
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PREFERENCE = "/api/v1/me/digest/"
PREVIEW = "/api/v1/me/digest/preview/"


def test_get_my_preference_follows_the_default(personas, clock):
    daily_at_nine(personas.organization)

    body = api_client_for(personas.teammate).get(PREFERENCE).json()

    assert body == {
        "frequency": "daily",
        "follows_default": True,
        "default_frequency": "daily",
        "weekday": 0,
        "hour": 9,
    }


def test_patch_my_preference(personas, clock):
    api = api_client_for(personas.teammate)

    response = api.patch(PREFERENCE, {"frequency": "never"}, format="json")

    assert response.status_code == 200
    assert response.json()["frequency"] == "never"
    assert response.json()["follows_default"] is False
    assert DigestPreference.objects.get(user=personas.teammate).frequency == Frequency.NEVER
    assert not DigestPreference.objects.exclude(user=personas.teammate).exists()


@pytest.mark.parametrize("payload", [{"frequency": "hourly"}, {}, {"frequency": None}])
def test_bad_frequency_is_a_problem(personas, clock, payload):
    response = api_client_for(personas.teammate).patch(PREFERENCE, payload, format="json")

    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["errors"][0]["field"] == "frequency"
    assert not DigestPreference.objects.exists()


def test_anonymous_is_refused():
    response = APIClient().get(PREFERENCE)

    assert response.status_code in (401, 403)
    assert response["Content-Type"] == "application/problem+json"


def test_preview_lists_my_posts_only(personas, clock):
    daily_at_nine(personas.organization)
    post(personas.organization, title="Ours")
    post(personas.other_organization, title="Other organisation's")
    post(personas.organization, title="For another team", audience_teams=[personas.other_team])

    body = api_client_for(personas.teammate).get(PREVIEW).json()

    assert body["would_send"] is True
    assert [item["title"] for item in body["items"]] == ["Ours"]
    assert "/digest/share/" in body["items"][0]["share_url"]
    assert "Ours" in body["html"] and "Ours" in body["text"]
    assert body["subject"] == "1 new post to share"


def test_preview_of_another_organisation_shows_none_of_ours(personas, clock):
    post(personas.organization, title="Ours")

    body = api_client_for(personas.outsider).get(PREVIEW).json()

    assert body["would_send"] is False
    assert body["items"] == [] and body["html"] == "" and body["text"] == ""


def test_preview_queries_do_not_grow_with_posts_and_people(personas, clock):
    daily_at_nine(personas.organization)
    api = api_client_for(personas.teammate)
    post(personas.organization)
    api.get(PREVIEW)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert api.get(PREVIEW).status_code == 200
        return len(queries)

    few = count()
    for index in range(10):
        post(personas.organization, title=f"More {index}", audience_teams=[personas.team])
        UserFactory(organization=personas.organization, teams=[personas.team])
    count()  # the leaderboard sets, dropped when people join, are rebuilt once
    assert count() == few <= 25


def test_schema_documents_the_endpoints_and_their_problems(personas):
    schema = api_client_for(personas.teammate).get("/api/schema/?format=json").json()

    operation = schema["paths"][PREFERENCE]["patch"]
    assert "400" in operation["responses"]
    problem = operation["responses"]["400"]["content"]
    assert "application/problem+json" in problem
    assert "get" in schema["paths"][PREVIEW]
