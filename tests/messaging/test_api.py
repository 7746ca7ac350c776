"""/api/v1/channels/: org admins list, create, change and remove destinations with their
routing; secrets are never returned; another organisation's destinations are not found;
errors are problem JSON; the list's queries do not grow with the destinations."""

from __future__ import annotations

import pytest

from advocacy.token_vault import token_decrypt
from messaging.models import Destination, EventKind
from organizations.models import AuditLogEntry, Role
from tests.conftest import api_client_for
from tests.content.factories import TopicFactory
from tests.factories import UserFactory
from tests.messaging.conftest import CHANNEL, slack_destination, teams_destination

pytestmark = pytest.mark.django_db
URL = "/api/v1/channels/"


def _rows(body):
    return body["results"] if isinstance(body, dict) else body


def test_only_org_admins(personas, client):
    assert client.get(URL).status_code in (401, 403)
    for role in (Role.EMPLOYEE, Role.EDITOR, Role.MANAGER):
        user = UserFactory(organization=personas.organization, role=role)
        response = api_client_for(user).get(URL)
        assert response.status_code == 403
        assert response["Content-Type"] == "application/problem+json"


def test_create_a_slack_destination_with_routing(personas):
    topic = TopicFactory(organization=personas.organization, name="Product")
    response = api_client_for(personas.owner).post(
        URL,
        {
            "kind": "slack",
            "label": "#news",
            "slack_channel_id": CHANNEL,
            "events": [EventKind.CONTENT_PUBLISHED],
            "teams": [personas.team.pk],
            "topics": [topic.pk],
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["kind"] == "slack" and body["slack_channel_id"] == CHANNEL
    assert body["teams"] == [personas.team.pk] and body["topics"] == [topic.pk]
    assert body["events"] == ["content.published"]
    assert body["status"] == "active" and body["webhook_hint"] == ""
    assert "webhook_url" not in body
    assert AuditLogEntry.objects.filter(action="channels.destination_created").exists()


def test_a_teams_webhook_is_write_only(personas, fake_teams):
    url = fake_teams.add_flow()
    client = api_client_for(personas.owner)
    response = client.post(
        URL,
        {"kind": "teams", "label": "Teams", "webhook_url": url, "events": ["challenge.launched"]},
        format="json",
    )
    assert response.status_code == 201
    created = response.json()
    signature = url.rsplit("sig=", 1)[1]
    for body in (created, client.get(URL).json(), client.get(f"{URL}{created['id']}/").json()):
        assert signature not in str(body) and "/workflows/" not in str(body)
    assert created["webhook_hint"].startswith("http://127.0.0.1:")
    destination = Destination.objects.get()
    assert token_decrypt(destination.webhook_url) == url
    # Changed without the address: it is kept.
    response = client.patch(f"{URL}{destination.pk}/", {"label": "Teams · Sales"}, format="json")
    assert response.status_code == 200 and response.json()["label"] == "Teams · Sales"
    destination.refresh_from_db()
    assert token_decrypt(destination.webhook_url) == url


def test_bad_input_is_problem_json_naming_the_field(personas):
    client = api_client_for(personas.owner)
    response = client.post(
        URL,
        {"kind": "teams", "label": "T", "webhook_url": "https://example.com/x", "events": ["x"]},
        format="json",
    )
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["errors"][0]["field"] == "events"
    response = client.post(
        URL,
        {"kind": "teams", "label": "T", "webhook_url": "https://example.com/x", "events": [
            "content.published"
        ]},
        format="json",
    )  # fmt: skip
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "webhook_url"
    response = client.post(
        URL,
        {"kind": "slack", "label": "S", "slack_channel_id": "C0123456789", "events": [
            "content.published"
        ], "teams": [personas.other_team.pk]},
        format="json",
    )  # fmt: skip
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "teams"
    assert not Destination.objects.exists()


def test_the_kind_cannot_change(personas):
    destination = slack_destination(personas)
    response = api_client_for(personas.owner).patch(
        f"{URL}{destination.pk}/", {"kind": "teams"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "kind"


def test_update_routing_and_delete(personas):
    destination = slack_destination(personas)
    client = api_client_for(personas.owner)
    response = client.put(
        f"{URL}{destination.pk}/",
        {
            "kind": "slack",
            "label": "#weekly",
            "slack_channel_id": CHANNEL,
            "events": ["leaderboard.weekly"],
            "teams": [],
            "topics": [],
        },
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["events"] == ["leaderboard.weekly"]
    assert client.delete(f"{URL}{destination.pk}/").status_code == 204
    assert not Destination.objects.exists()


def test_another_organisations_destination_is_not_found(personas, fake_teams):
    class Other:
        owner = personas.outsider
        organization = personas.other_organization

    theirs = teams_destination(Other, fake_teams.add_flow())
    client = api_client_for(personas.owner)
    assert (
        client.get(URL).json()["results"] == []
        if isinstance(client.get(URL).json(), dict)
        else client.get(URL).json() == []
    )
    for method in ("get", "patch", "delete"):
        response = getattr(client, method)(f"{URL}{theirs.pk}/", {}, format="json")
        assert response.status_code == 404
        assert response["Content-Type"] == "application/problem+json"
    assert client.get(f"{URL}abc/").status_code == 404
    assert Destination.objects.filter(pk=theirs.pk).exists()


def test_the_list_does_not_grow_in_queries(personas, django_assert_max_num_queries):
    topic = TopicFactory(organization=personas.organization)
    client = api_client_for(personas.owner)
    slack_destination(personas, teams=[personas.team], topics=[topic])
    with django_assert_max_num_queries(8) as few:
        client.get(URL)
    for number in range(5):
        slack_destination(personas, label=f"#{number}", teams=[personas.team], topics=[topic])
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(URL)
    assert len(_rows(response.json())) == 6


def test_in_the_openapi_schema(personas):
    response = api_client_for(personas.owner).get("/api/schema/")
    assert response.status_code == 200
    text = response.content.decode()
    assert "/api/v1/channels/" in text and "/api/v1/channels/{id}/" in text
