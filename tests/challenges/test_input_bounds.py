"""Review fixes: challenge dates and amounts are bounded (form, API and services), the
reward editor cannot write back a stale stock, and the leaderboard page falls back to its
defaults on filters it does not recognise."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from challenges.models import Challenge, Reward
from challenges.services import campaigns as campaign_services
from challenges.services import rewards as reward_services
from organizations.errors import ConflictError, DomainError
from organizations.models import Role
from tests.challenges.challenge_factories import give_points, make_reward
from tests.conftest import api_client_for, client_for
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=ZoneInfo("UTC"))
PARIS = ZoneInfo("Europe/Paris")


@pytest.fixture
def paris(personas):
    personas.organization.time_zone = "Europe/Paris"
    personas.organization.save()
    return personas


def _form(**changes: str) -> dict[str, str]:
    form = {
        "title": "Spring campaign",
        "starts_at": "2027-03-01T00:00",
        "ends_at": "2027-03-08T00:00",
        "mode": "individual",
        "metric": "shares",
        "winners_count": "3",
        "bonus_points": "10",
        "network": "",
    }
    form.update(changes)
    return form


def _payload(**changes: object) -> dict[str, object]:
    payload: dict[str, object] = {
        "title": "Hashtag week",
        "starts_at": "2027-05-01T00:00:00",
        "ends_at": "2027-05-08T00:00:00",
        "goal": 10,
    }
    payload.update(changes)
    return payload


@time_machine.travel(NOW, tick=False)
def test_the_editor_refuses_dates_out_of_range_and_the_pages_keep_working(paris):
    client = client_for(paris.owner)
    ancient = client.post(
        "/challenges/new/", _form(starts_at="0001-01-01T00:00", ends_at="0001-01-02T00:00")
    )
    assert ancient.status_code == 200 and not Challenge.objects.exists()
    assert "Choose a date between 1 January 2000 and 31 December 2031." in ancient.content.decode()
    far = client.post("/challenges/new/", _form(ends_at="2040-01-01T00:00"))
    assert far.status_code == 200 and not Challenge.objects.exists()
    assert client.post("/challenges/new/", _form()).status_code == 302
    pk = Challenge.objects.get().pk
    for url in (f"/challenges/{pk}/", "/challenges/?tab=drafts"):
        assert client.get(url).status_code == 200
    assert api_client_for(paris.owner).get("/api/v1/challenges/?tab=drafts").status_code == 200


@time_machine.travel(NOW, tick=False)
def test_the_service_names_the_date_field_out_of_range(paris):
    data = campaign_services.ChallengeInput(
        title="Old",
        starts_at=datetime(1, 1, 1, tzinfo=PARIS),
        ends_at=datetime(1, 1, 2, tzinfo=PARIS),
        winners_count=3,
    )
    with pytest.raises(DomainError) as refused:
        campaign_services.challenge_create(actor=paris.owner, data=data)
    assert refused.value.field == "starts_at"
    data.starts_at = datetime(2027, 1, 1, tzinfo=PARIS)
    data.ends_at = datetime(2032, 6, 1, tzinfo=PARIS)
    with pytest.raises(DomainError) as late:
        campaign_services.challenge_create(actor=paris.owner, data=data)
    assert late.value.field == "ends_at" and not Challenge.objects.exists()


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"starts_at": "0001-01-01T00:00"}, "starts_at"),
        ({"starts_at": "0001-01-01T00:00:00+05:00"}, "starts_at"),
        ({"ends_at": "9999-12-31T23:59:59"}, "ends_at"),
        ({"starts_at": "1999-12-31T00:00"}, "starts_at"),
        ({"goal": 99999999999}, "goal"),
        ({"bonus_points": 99999999999}, "bonus_points"),
    ],
)
def test_the_api_answers_a_problem_naming_the_field(paris, changes, field):
    editor = UserFactory(organization=paris.organization, role=Role.EDITOR)
    response = api_client_for(editor).post(
        "/api/v1/challenges/", _payload(**changes), format="json"
    )
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["errors"][0]["field"] == field
    assert not Challenge.objects.exists()


@time_machine.travel(NOW, tick=False)
def test_huge_goal_and_bonus_are_form_errors_and_service_refusals(paris):
    client = client_for(paris.owner)
    for name in ("goal", "bonus_points"):
        page = client.post("/challenges/new/", _form(**{name: "99999999999"}))
        assert page.status_code == 200 and "errorlist" in page.content.decode()
    data = campaign_services.ChallengeInput(
        title="Huge",
        starts_at=datetime(2027, 1, 1, tzinfo=PARIS),
        ends_at=datetime(2027, 2, 1, tzinfo=PARIS),
        winners_count=3,
        bonus_points=campaign_services.MAX_AMOUNT + 1,
    )
    with pytest.raises(DomainError) as refused:
        campaign_services.challenge_create(actor=paris.owner, data=data)
    assert refused.value.field == "bonus_points" and not Challenge.objects.exists()


@pytest.mark.parametrize(
    ("name", "value"),
    [("cost", "99999999999"), ("stock", "99999999999"), ("per_person_limit", "40000")],
)
def test_reward_editor_bounds_every_number(personas, name, value):
    form = {"title": "Mug", "cost": "30", "stock": "", "is_active": "on", name: value}
    page = client_for(personas.owner).post("/admin/rewards/new/", form)
    assert page.status_code == 200 and "errorlist" in page.content.decode()
    assert not Reward.objects.exists()
    fields = {"title": "Mug", "cost": 30, name: int(value)}
    with pytest.raises(DomainError) as refused:
        reward_services.reward_create(
            actor=personas.owner, data=reward_services.RewardInput(**fields)
        )
    assert refused.value.field == name and not Reward.objects.exists()


def test_saving_the_editor_after_a_redemption_does_not_restore_the_stock(personas):
    reward = make_reward(personas.organization, cost=10, stock=5)
    admin = client_for(personas.owner)
    opened = admin.get(f"/admin/rewards/{reward.pk}/")
    assert 'name="stock_seen" value="5"' in opened.content.decode()
    give_points(personas.teammate, 100)
    reward_services.reward_redeem(user=personas.teammate, reward_id=reward.pk)
    form = {"title": "A day off", "cost": "10", "stock": "5", "stock_seen": "5", "is_active": "on"}
    stale = admin.post(f"/admin/rewards/{reward.pk}/", form)
    assert stale.status_code == 200
    html = stale.content.decode()
    assert "The stock changed meanwhile: now 4." in html
    assert 'name="stock_seen" value="4"' in html
    reward.refresh_from_db()
    assert reward.stock == 4
    # Saving again from the refreshed page is checked against the stock it now shows.
    again = admin.post(f"/admin/rewards/{reward.pk}/", {**form, "stock": "7", "stock_seen": "4"})
    assert again.status_code == 302
    reward.refresh_from_db()
    assert reward.stock == 7


def test_the_service_refuses_a_stale_stock(personas):
    reward = make_reward(personas.organization, cost=10, stock=None)
    data = reward_services.RewardInput(
        title="A day off", cost=10, stock=3, check_stock=True, stock_seen=2
    )
    with pytest.raises(ConflictError, match="now unlimited"):
        reward_services.reward_update(actor=personas.owner, reward=reward, data=data)
    reward.refresh_from_db()
    assert reward.stock is None


def test_leaderboard_falls_back_on_unknown_filters_with_a_message(personas):
    client = client_for(personas.teammate)
    page = client.get("/leaderboard/", {"board": "galaxy", "period": "decade", "team": "x"})
    assert page.status_code == 200
    html = page.content.decode()
    assert "Some filters were not recognised: showing the defaults." in html
    assert page.context["board"].period == "all"
    fine = client.get("/leaderboard/", {"board": "team", "period": "week"})
    assert "not recognised" not in fine.content.decode()


def test_leaderboard_ignores_another_organisations_team(personas):
    page = client_for(personas.teammate).get("/leaderboard/", {"team": personas.other_team.pk})
    assert page.status_code == 200
    html = page.content.decode()
    assert "That team is not available: showing everyone." in html
    assert personas.other_team.name not in html
    assert page.context["board"].team is None
