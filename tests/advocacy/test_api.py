"""The sharing API: create in both modes, list mine, detail with attempts, actions, queue
slots, pause; problem JSON for bad input; scoping; query counts; schema."""

from __future__ import annotations

from unittest import mock

import pytest

from advocacy.models import Share, ShareMode, ShareStatus
from advocacy.services.pipeline import share_publish
from tests.advocacy.conftest import connect, make_content
from tests.conftest import api_client_for

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_broker():
    with mock.patch("advocacy.services.dispatch._enqueue") as enqueue:
        yield enqueue


def test_create_posts_for_me_and_gives_share_links(personas, django_capture_on_commit_callbacks):
    content = make_content(personas.organization)
    connect(personas.teammate)
    client = api_client_for(personas.teammate)
    response = client.post(
        "/api/v1/shares/",
        {
            "content": content.pk,
            "networks": ["linkedin", "x"],
            "captions": {"x": "Short and proud."},
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    by_network = {row["network"]: row for row in response.json()}
    assert by_network["linkedin"]["mode"] == ShareMode.API
    assert by_network["linkedin"]["share_url"] == ""
    assert by_network["x"]["mode"] == ShareMode.LINK
    assert by_network["x"]["share_url"].startswith(
        "https://x.com/intent/post?text=Short+and+proud."
    )
    assert "/s/" in by_network["x"]["tracked_url"]
    linkedin = Share.objects.get(pk=by_network["linkedin"]["id"])
    share_publish(share_id=linkedin.pk)
    detail = client.get(f"/api/v1/shares/{linkedin.pk}/").json()
    assert detail["status"] == ShareStatus.PUBLISHED
    assert detail["attempts"][0]["outcome"] == "published"
    assert detail["attempts"][0]["status_code"] == 201


def test_bad_input_is_a_problem_with_the_field_named_and_nothing_written(personas):
    content = make_content(personas.organization)
    client = api_client_for(personas.teammate)
    response = client.post(
        "/api/v1/shares/", {"content": content.pk, "networks": ["myspace"]}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"].startswith("networks")
    response = client.post(
        "/api/v1/shares/",
        {"content": content.pk, "networks": ["facebook"], "when": "schedule"},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "scheduled_at"
    response = client.post(
        "/api/v1/shares/",
        {"content": content.pk, "networks": ["x"], "captions": {"x": "x" * 400}},
        format="json",
    )
    assert response.status_code == 400
    problem = response.json()
    assert problem["errors"][0]["field"] == "captions.x"
    assert [e["code"] for e in problem["errors"][1:]] == ["too_long"]
    assert not Share.objects.exists()


def test_twice_the_same_share_is_a_conflict(personas):
    content = make_content(personas.organization)
    client = api_client_for(personas.teammate)
    body = {"content": content.pk, "networks": ["facebook"]}
    assert client.post("/api/v1/shares/", body, format="json").status_code == 201
    response = client.post("/api/v1/shares/", body, format="json")
    assert response.status_code == 409
    assert Share.objects.count() == 1


def test_scheduling_needs_a_connected_account(personas):
    content = make_content(personas.organization)
    response = api_client_for(personas.teammate).post(
        "/api/v1/shares/",
        {"content": content.pk, "networks": ["linkedin"], "when": "queue"},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "when"


def test_queue_puts_the_share_in_a_free_slot(personas):
    content = make_content(personas.organization)
    connect(personas.teammate)
    client = api_client_for(personas.teammate)
    response = client.put(
        "/api/v1/queue/", {"slots": [{"weekday": 1, "time": "09:00"}]}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["custom"] is True
    created = client.post(
        "/api/v1/shares/",
        {"content": content.pk, "networks": ["linkedin"], "when": "queue"},
        format="json",
    ).json()[0]
    share = Share.objects.get(pk=created["id"])
    local = share.scheduled_at.astimezone(
        __import__("zoneinfo").ZoneInfo(personas.organization.time_zone)
    )
    assert local.weekday() == 1 and local.hour == 9 and local.minute < 57
    assert (
        client.put(
            "/api/v1/queue/", {"slots": [{"weekday": 9, "time": "09:00"}]}, format="json"
        ).status_code
        == 400
    )


def test_outsider_sees_nothing(personas):
    content = make_content(personas.organization)
    created = (
        api_client_for(personas.teammate)
        .post("/api/v1/shares/", {"content": content.pk, "networks": ["facebook"]}, format="json")
        .json()[0]
    )
    outsider = api_client_for(personas.outsider)
    assert outsider.get(f"/api/v1/shares/{created['id']}/").status_code == 404
    assert outsider.get("/api/v1/shares/").json()["count"] == 0
    assert outsider.post(f"/api/v1/shares/{created['id']}/confirm/").status_code == 404
    response = outsider.post(
        "/api/v1/shares/", {"content": content.pk, "networks": ["facebook"]}, format="json"
    )
    assert response.status_code == 404


def test_actions_and_list_filters(personas, django_assert_max_num_queries):
    client = api_client_for(personas.teammate)
    ids = []
    for _ in range(8):
        content = make_content(personas.organization)
        ids.append(
            client.post(
                "/api/v1/shares/", {"content": content.pk, "networks": ["facebook"]}, format="json"
            ).json()[0]["id"]
        )
    assert (
        client.post(f"/api/v1/shares/{ids[0]}/confirm/").json()["status"] == ShareStatus.PUBLISHED
    )
    assert (
        client.post(f"/api/v1/shares/{ids[1]}/dismiss/").json()["status"] == ShareStatus.DISMISSED
    )
    assert client.post(f"/api/v1/shares/{ids[1]}/confirm/").status_code == 409
    with django_assert_max_num_queries(8):
        listing = client.get("/api/v1/shares/?status=waiting").json()
    assert listing["count"] == 6
    assert client.get("/api/v1/shares/?status=bogus").status_code == 400


def test_pause_is_for_org_admins(personas):
    assert (
        api_client_for(personas.teammate)
        .post("/api/v1/sharing/pause/", {"reason": "x"})
        .status_code
        == 403
    )
    admin = api_client_for(personas.owner)
    assert admin.post("/api/v1/sharing/pause/", {"reason": ""}, format="json").status_code == 400
    assert (
        admin.post("/api/v1/sharing/pause/", {"reason": "Crisis"}, format="json").json()["paused"]
        is True
    )
    assert (
        admin.post("/api/v1/sharing/pause/", {"reason": "Again"}, format="json").status_code == 409
    )
    assert admin.delete("/api/v1/sharing/pause/").json()["paused"] is False
