"""Challenge pages and API: tabs and empty states, the detail with progress bars and the
ranking, the editor (form errors, time zone, launch, cancel), permissions, another
organisation's challenge a 404, bounded query counts, the schema without warnings."""

from __future__ import annotations

from datetime import datetime, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.utils import timezone

from challenges.models import Challenge, ChallengeStatus
from organizations.models import Role
from tests.challenges.challenge_factories import make_challenge
from tests.challenges.conftest import make_share, publish
from tests.conftest import api_client_for, client_for
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_list_tabs_and_empty_states(personas):
    client = client_for(personas.teammate)
    html = client.get("/challenges/").content.decode()
    assert "No challenge running" in html and "New challenge" not in html
    assert "Nothing coming up" in client.get("/challenges/?tab=upcoming").content.decode()
    # Drafts are not an employee's business: the tab falls back to running challenges.
    assert "No challenge running" in client.get("/challenges/?tab=drafts").content.decode()
    editor_html = client_for(personas.owner).get("/challenges/").content.decode()
    assert "New challenge" in editor_html and "Drafts and cancelled" in editor_html


def test_list_shows_my_progress_with_bounded_queries(personas, django_assert_max_num_queries):
    org, me = personas.organization, personas.teammate
    for index in range(6):
        make_challenge(org, title=f"Challenge {index}", goal=4)
    make_challenge(personas.other_organization, title="Their challenge")
    make_challenge(org, title="A draft", status=ChallengeStatus.DRAFT)
    publish(make_share(me))
    client = client_for(me)
    with django_assert_max_num_queries(16):
        response = client.get("/challenges/")
    html = response.content.decode()
    assert html.count('class="card challenge-card"') == 6
    assert "Their challenge" not in html and "A draft" not in html
    assert '<progress value="25" max="100"' in html


def test_detail_shows_rules_progress_and_ranking(personas, django_assert_max_num_queries):
    org, me = personas.organization, personas.teammate
    challenge = make_challenge(org, goal=4, teams=[personas.team], hashtag="#launch")
    from tests.content.factories import ContentFactory

    for _ in range(3):
        tagged = ContentFactory(organization=org, hashtags=["#launch"])
        publish(make_share(personas.owner, content=tagged))
    publish(make_share(me, content=tagged))
    publish(make_share(me))  # not tagged: does not count
    client = client_for(me)
    with django_assert_max_num_queries(20):
        response = client.get(f"/challenges/{challenge.pk}/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "#launch" in html and "Live ranking" in html
    assert 'id="my-progress" data-value="1" data-rank="2"' in html
    assert '<progress value="25" max="100" aria-label="My progress">' in html
    assert "My team: Communication" in html
    assert html.index(str(personas.owner)) < html.index(str(me))


def test_detail_of_another_organisation_or_outside_the_audience_is_a_404(personas):
    theirs = make_challenge(personas.other_organization)
    assert client_for(personas.teammate).get(f"/challenges/{theirs.pk}/").status_code == 404
    assert (
        api_client_for(personas.teammate).get(f"/api/v1/challenges/{theirs.pk}/").status_code == 404
    )
    other_team_member = UserFactory(organization=personas.organization)
    targeted = make_challenge(personas.organization, teams=[personas.team])
    assert client_for(other_team_member).get(f"/challenges/{targeted.pk}/").status_code == 404
    draft = make_challenge(personas.organization, status=ChallengeStatus.DRAFT)
    assert client_for(personas.teammate).get(f"/challenges/{draft.pk}/").status_code == 404
    assert client_for(personas.owner).get(f"/challenges/{draft.pk}/").status_code == 200


def test_editor_creates_in_the_organisations_time_zone_then_launches(personas):
    personas.organization.time_zone = "America/New_York"
    personas.organization.save()
    client = client_for(personas.owner)
    form = {
        "title": "Spring campaign",
        "why_it_matters": "Our new site opens.",
        "starts_at": "2030-03-01T00:00",
        "ends_at": "2030-03-01T00:00",
        "mode": "individual",
        "metric": "shares",
        "winners_count": "0",
        "bonus_points": "10",
        "hashtag": "spring",
        "network": "",
    }
    bad = client.post("/challenges/new/", form)
    assert bad.status_code == 200 and not Challenge.objects.exists()
    html = bad.content.decode()
    assert "The end must come after the start." in html
    assert "Set a goal to reach, a number of winners, or both." in html
    form.update(ends_at="2030-04-01T00:00", winners_count="3")
    response = client.post("/challenges/new/", form)
    challenge = Challenge.objects.get()
    assert response.status_code == 302 and response.url == f"/challenges/{challenge.pk}/"
    assert challenge.starts_at == datetime(2030, 3, 1, tzinfo=ZoneInfo("America/New_York"))
    assert challenge.status == ChallengeStatus.DRAFT and challenge.hashtag == "#spring"
    assert client.get(f"/challenges/{challenge.pk}/edit/").status_code == 200
    client.post(f"/challenges/{challenge.pk}/launch/")
    challenge.refresh_from_db()
    assert challenge.status == ChallengeStatus.SCHEDULED
    client.post(f"/challenges/{challenge.pk}/cancel/")
    challenge.refresh_from_db()
    assert challenge.status == ChallengeStatus.CANCELLED
    edit = client.get(f"/challenges/{challenge.pk}/edit/", follow=True)
    assert "can be edited only before it starts" in edit.content.decode()


def test_employees_cannot_reach_the_editor(personas):
    challenge = make_challenge(personas.organization, status=ChallengeStatus.DRAFT)
    client = client_for(personas.teammate)
    assert client.get("/challenges/new/").status_code == 404
    assert client.get(f"/challenges/{challenge.pk}/edit/").status_code == 404
    assert client.post(f"/challenges/{challenge.pk}/launch/").status_code == 404
    challenge.refresh_from_db()
    assert challenge.status == ChallengeStatus.DRAFT


def test_ended_page_shows_winners(personas):
    org = personas.organization
    now = timezone.now()
    challenge = make_challenge(
        org, starts_at=now - timedelta(days=2), ends_at=now - timedelta(minutes=5), winners_count=1
    )
    publish(make_share(personas.teammate, at=now - timedelta(days=1)))
    html = client_for(personas.owner).get(f"/challenges/{challenge.pk}/").content.decode()
    # The page read ended it (no beat needed) and froze the results.
    assert "Winners" in html and "Final ranking" in html
    assert f'data-winner="{personas.teammate.pk}"' in html


# --- API ----------------------------------------------------------------------------------


def test_api_list_and_detail_with_my_progress(personas, django_assert_max_num_queries):
    org, me = personas.organization, personas.teammate
    for index in range(5):
        make_challenge(org, title=f"C{index}", goal=2)
    make_challenge(personas.other_organization, title="Theirs")
    publish(make_share(me))
    api = api_client_for(me)
    with django_assert_max_num_queries(14):
        listed = api.get("/api/v1/challenges/").json()
    assert sorted(row["title"] for row in listed["results"]) == [f"C{i}" for i in range(5)]
    assert {row["my_progress"]["percent"] for row in listed["results"]} == {50}
    pk = listed["results"][0]["id"]
    with django_assert_max_num_queries(20):
        detail = api.get(f"/api/v1/challenges/{pk}/").json()
    assert detail["board"]["me"]["value"] == "1.00"
    assert detail["board"]["ranking"][0]["is_me"] is True
    assert api.get("/api/v1/challenges/?tab=nope").status_code == 400


def test_api_editors_create_update_launch_and_employees_cannot(personas):
    personas.organization.time_zone = "Europe/Paris"
    personas.organization.save()
    payload = {
        "title": "Hashtag week",
        "starts_at": "2030-05-01T00:00:00",
        "ends_at": "2030-05-08T00:00:00",
        "metric": "clicks",
        "mode": "team",
        "goal": 10,
        "audience_teams": [personas.team.pk],
    }
    employee = api_client_for(personas.teammate)
    assert employee.post("/api/v1/challenges/", payload, format="json").status_code == 403
    editor_user = UserFactory(organization=personas.organization, role=Role.EDITOR)
    api = api_client_for(editor_user)
    foreign = api.post(
        "/api/v1/challenges/",
        {**payload, "audience_teams": [personas.other_team.pk]},
        format="json",
    )
    assert foreign.status_code == 400 and foreign.json()["errors"][0]["field"] == "audience_teams"
    no_goal = api.post(
        "/api/v1/challenges/", {**payload, "goal": None, "winners_count": 0}, format="json"
    )
    assert no_goal.status_code == 400 and no_goal.json()["errors"][0]["field"] == "goal"
    created = api.post("/api/v1/challenges/", payload, format="json")
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["status"] == "draft" and body["starts_at"].startswith("2030-05-01T00:00:00+02:00")
    pk = body["id"]
    updated = api.put(f"/api/v1/challenges/{pk}/", {**payload, "title": "Renamed"}, format="json")
    assert updated.status_code == 200 and updated.json()["title"] == "Renamed"
    assert employee.post(f"/api/v1/challenges/{pk}/launch/").status_code == 403
    launched = api.post(f"/api/v1/challenges/{pk}/launch/")
    assert launched.status_code == 200 and launched.json()["status"] == "scheduled"
    assert api.post(f"/api/v1/challenges/{pk}/launch/").status_code == 409
    assert api_client_for(personas.outsider).post(
        f"/api/v1/challenges/{pk}/cancel/"
    ).status_code in (
        403,
        404,
    )
    assert Challenge.objects.get(pk=pk).status == ChallengeStatus.SCHEDULED


def test_schema_has_no_warnings():
    out = StringIO()
    call_command("spectacular", "--validate", "--fail-on-warn", stdout=out)
    assert "/api/v1/challenges/{id}/launch/" in out.getvalue()
    assert "/api/v1/redemptions/{id}/refuse/" in out.getvalue()


def _detail_queries(client, pk) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        assert client.get(f"/challenges/{pk}/").status_code == 200
    return len(captured)


def test_detail_queries_do_not_grow_with_participants(personas):
    org, me = personas.organization, personas.teammate
    challenge = make_challenge(org, goal=3, teams=[personas.team])
    client = client_for(me)
    client.get(f"/challenges/{challenge.pk}/")  # warm the session and caches
    few = _detail_queries(client, challenge.pk)
    for _ in range(25):
        person = UserFactory(organization=org, teams=[personas.team])
        publish(make_share(person))
    many = _detail_queries(client, challenge.pk)
    assert many == few


def test_banner_is_validated_as_an_image(personas, tmp_path, settings):
    from io import BytesIO

    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    settings.MEDIA_ROOT = tmp_path
    client = client_for(personas.owner)
    form = {
        "title": "With a banner",
        "starts_at": "2030-03-01T00:00",
        "ends_at": "2030-03-08T00:00",
        "mode": "individual",
        "metric": "shares",
        "winners_count": "1",
        "bonus_points": "0",
    }
    fake = SimpleUploadedFile("banner.png", b"not an image", content_type="image/png")
    refused = client.post("/challenges/new/", {**form, "banner": fake})
    assert refused.status_code == 200 and not Challenge.objects.exists()
    buffer = BytesIO()
    Image.new("RGB", (300, 100), "navy").save(buffer, format="PNG")
    real = SimpleUploadedFile("banner.png", buffer.getvalue(), content_type="image/png")
    assert client.post("/challenges/new/", {**form, "banner": real}).status_code == 302
    challenge = Challenge.objects.get()
    assert challenge.banner.name.startswith("challenges/")
    assert (
        f'src="{challenge.banner.url}"'
        in client.get(f"/challenges/{challenge.pk}/").content.decode()
    )
