"""/api/v1/me/nudges/: the caller's reminders, read and changed, in the schema."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from nudges.models import NudgeKind, NudgeOptOut, NudgeSettings
from tests.conftest import api_client_for

pytestmark = pytest.mark.django_db
URL = "/api/v1/me/nudges/"


def test_get_lists_every_kind_with_choices_and_switches(personas):
    NudgeSettings.objects.create(organization=personas.organization, charter_enabled=False)
    NudgeOptOut.objects.create(user=personas.teammate, kind=NudgeKind.INACTIVE)
    # Another organisation's settings and another person's choices change nothing here.
    NudgeSettings.objects.create(organization=personas.other_organization, weekly_cap=5)
    NudgeOptOut.objects.create(user=personas.outsider, kind=NudgeKind.SCHEDULED_SHARE)
    client = api_client_for(personas.teammate)

    with CaptureQueriesContext(connection) as queries:
        answer = client.get(URL)

    assert answer.status_code == 200
    body = answer.json()
    assert body["weekly_cap"] == 1
    assert [row["kind"] for row in body["nudges"]] == NudgeKind.values
    rows = {row["kind"]: row for row in body["nudges"]}
    assert rows["inactive"]["enabled"] is False
    assert rows["scheduled_share"]["enabled"] is True
    assert rows["charter"]["organization_enabled"] is False
    assert rows["charter"]["label"] == str(NudgeKind.CHARTER.label)
    assert len(queries.captured_queries) <= 4


def test_patch_changes_only_the_named_kinds(personas):
    NudgeOptOut.objects.create(user=personas.teammate, kind=NudgeKind.INACTIVE)
    client = api_client_for(personas.teammate)

    answer = client.patch(URL, {"charter": False}, format="json")

    assert answer.status_code == 200
    rows = {row["kind"]: row["enabled"] for row in answer.json()["nudges"]}
    assert rows == {
        "scheduled_share": True,
        "challenge_ending": True,
        "charter": False,
        "inactive": False,
    }
    answer = client.patch(URL, {"inactive": True}, format="json")
    assert {row["kind"]: row["enabled"] for row in answer.json()["nudges"]}["inactive"] is True
    assert set(
        NudgeOptOut.objects.filter(user=personas.teammate).values_list("kind", flat=True)
    ) == {"charter"}
    assert not NudgeOptOut.objects.filter(user=personas.outsider).exists()


@pytest.mark.parametrize(
    ("payload", "field"),
    [({"spam": False}, "spam"), ({"charter": "maybe"}, "charter"), ([1, 2], "")],
)
def test_patch_refuses_bad_input_as_problem_json(personas, payload, field):
    client = api_client_for(personas.teammate)
    answer = client.patch(URL, payload, format="json")
    assert answer.status_code == 400
    assert answer["Content-Type"].startswith("application/problem+json")
    body = answer.json()
    assert body["status"] == 400
    assert body["errors"][0]["field"] == field
    assert not NudgeOptOut.objects.exists()


def test_needs_authentication(client):
    answer = client.get(URL)
    assert answer.status_code in (401, 403)
    assert answer["Content-Type"].startswith("application/problem+json")


def test_in_the_openapi_schema(personas):
    answer = api_client_for(personas.teammate).get("/api/schema/", {"format": "json"})
    assert answer.status_code == 200
    schema = answer.json() if answer["Content-Type"].endswith("json") else None
    if schema is None:
        import yaml

        schema = yaml.safe_load(answer.content)
    operations = schema["paths"]["/api/v1/me/nudges/"]
    assert {"get", "patch"} <= set(operations)
