"""Rewards: redeem with spendable points, stock and per-person limit held under concurrent
requests (threads against PostgreSQL), clear refusals, fulfil or refuse (refund once),
catalogue editing by org admins only, pages and API scoped to the organisation."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from challenges.models import PointEntry, Redemption, RedemptionStatus, Reward, Score
from challenges.services import rewards as services
from notifications.models import Notification
from organizations.errors import ConflictError, DomainError, PermissionDeniedError
from tests.challenges.challenge_factories import give_points, make_reward
from tests.conftest import api_client_for, client_for
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def spendable(user) -> int:
    return Score.objects.get(user=user).spendable_points


def test_redeem_spends_points_and_takes_one_from_the_stock(personas):
    me = personas.teammate
    give_points(me, 250)
    reward = make_reward(personas.organization, cost=100, stock=2)
    redemption = services.reward_redeem(user=me, reward_id=reward.pk)
    assert redemption.status == RedemptionStatus.REQUESTED and redemption.cost == 100
    assert spendable(me) == 150
    assert Score.objects.get(user=me).lifetime_points == 250  # rankings are untouched
    reward.refresh_from_db()
    assert reward.stock == 1
    assert Notification.objects.filter(
        kind=services.KIND_REQUESTED, recipient=personas.owner
    ).exists()


def test_clear_refusals_leave_nothing_written(personas):
    me = personas.teammate
    give_points(me, 150)
    short = make_reward(personas.organization, cost=500)
    with pytest.raises(DomainError, match="enough points"):
        services.reward_redeem(user=me, reward_id=short.pk)
    gone = make_reward(personas.organization, cost=10, stock=0)
    with pytest.raises(ConflictError, match="out of stock"):
        services.reward_redeem(user=me, reward_id=gone.pk)
    hidden = make_reward(personas.organization, cost=10, is_active=False)
    with pytest.raises(ConflictError, match="no longer offered"):
        services.reward_redeem(user=me, reward_id=hidden.pk)
    limited = make_reward(personas.organization, cost=10, per_person_limit=1)
    services.reward_redeem(user=me, reward_id=limited.pk)
    with pytest.raises(ConflictError, match="limit of 1"):
        services.reward_redeem(user=me, reward_id=limited.pk)
    elsewhere = make_reward(personas.other_organization, cost=1)
    with pytest.raises(DomainError) as error:
        services.reward_redeem(user=me, reward_id=elsewhere.pk)
    assert error.value.status_code == 404
    assert Redemption.objects.count() == 1
    assert spendable(me) == 140


def test_refusal_refunds_once_and_gives_the_stock_back(personas):
    me = personas.teammate
    give_points(me, 100)
    reward = make_reward(personas.organization, cost=60, stock=1, per_person_limit=1)
    redemption = services.reward_redeem(user=me, reward_id=reward.pk)
    assert spendable(me) == 40
    services.redemption_refuse(actor=personas.owner, redemption=redemption, note="Sold out")
    assert spendable(me) == 100
    with pytest.raises(ConflictError):
        services.redemption_refuse(actor=personas.owner, redemption=redemption)
    with pytest.raises(ConflictError):
        services.redemption_fulfil(actor=personas.owner, redemption=redemption)
    assert spendable(me) == 100
    assert PointEntry.objects.filter(source_key=f"redemption-refund:{redemption.pk}").count() == 1
    reward.refresh_from_db()
    assert reward.stock == 1
    told = Notification.objects.get(kind=services.KIND_DECIDED, recipient=me)
    assert "refused" in told.title and told.body == "Sold out"
    # A refused request does not count against the limit.
    services.reward_redeem(user=me, reward_id=reward.pk)


def test_only_org_admins_decide_and_edit_the_catalogue(personas):
    me = personas.teammate
    give_points(me, 100)
    reward = make_reward(personas.organization, cost=10)
    redemption = services.reward_redeem(user=me, reward_id=reward.pk)
    with pytest.raises(PermissionDeniedError):
        services.redemption_fulfil(actor=me, redemption=redemption)
    with pytest.raises(PermissionDeniedError):
        services.reward_create(actor=me, data=services.RewardInput(title="Mug", cost=5))
    with pytest.raises(ConflictError):
        # Another organisation's admin finds nothing to decide.
        services.redemption_fulfil(actor=personas.outsider, redemption=redemption)
    done = services.redemption_fulfil(actor=personas.owner, redemption=redemption)
    assert done.status == RedemptionStatus.FULFILLED and done.decided_by == personas.owner
    with pytest.raises(DomainError) as error:
        services.reward_create(actor=personas.owner, data=services.RewardInput(title="", cost=0))
    assert error.value.field == "title"


@pytest.mark.django_db(transaction=True)
def test_concurrent_redemptions_never_oversell_nor_pass_the_limit(personas):
    reward = make_reward(personas.organization, cost=10, stock=3, per_person_limit=2)
    people = [UserFactory(organization=personas.organization) for _ in range(4)]
    for person in people:
        give_points(person, 100)
    # Each person tries three times at once: 12 requests for 3 items, at most 2 each.
    barrier = threading.Barrier(12)
    outcomes: list[str] = []
    lock = threading.Lock()

    def attempt(person) -> None:
        try:
            barrier.wait(timeout=20)
            services.reward_redeem(user=person, reward_id=reward.pk)
            result = "ok"
        except ConflictError as error:
            result = error.message
        finally:
            connection.close()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=attempt, args=(p,)) for p in people for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(outcomes) == 12
    assert outcomes.count("ok") == 3
    reward.refresh_from_db()
    assert reward.stock == 0
    assert Redemption.objects.filter(reward=reward).count() == 3
    per_person = [Redemption.objects.filter(user=p).count() for p in people]
    assert max(per_person) <= 2
    spent = sum(100 - spendable(p) for p in people)
    assert spent == 30


@pytest.mark.django_db(transaction=True)
def test_concurrent_redemptions_of_the_last_points_spend_them_once(personas):
    me = personas.teammate
    give_points(me, 10)
    first = make_reward(personas.organization, title="Mug", cost=10)
    second = make_reward(personas.organization, title="Cap", cost=10)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def attempt(reward: Reward) -> None:
        try:
            barrier.wait(timeout=20)
            services.reward_redeem(user=me, reward_id=reward.pk)
            outcomes.append("ok")
        except DomainError:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=(r,)) for r in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["ok", "refused"]
    assert spendable(me) == 0
    assert Redemption.objects.count() == 1


# --- pages and API ----------------------------------------------------------------------------


def test_catalogue_page_redeem_and_my_requests(personas, django_assert_max_num_queries):
    me = personas.teammate
    give_points(me, 120)
    for index in range(8):
        make_reward(personas.organization, title=f"Reward {index}", cost=50 + index, stock=5)
    make_reward(personas.other_organization, title="Their secret gift", cost=1)
    client = client_for(me)
    with django_assert_max_num_queries(12):
        page = client.get("/rewards/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Reward 7" in html and "Their secret gift" not in html
    reward = Reward.objects.get(title="Reward 0")
    response = client.post(f"/rewards/{reward.pk}/redeem/")
    assert response.status_code == 302 and response.url == "/rewards/mine/"
    mine = client.get("/rewards/mine/").content.decode()
    assert "Reward 0" in mine and 'data-status="requested"' in mine
    expensive = make_reward(personas.organization, title="A trip", cost=500)
    again = client.post(f"/rewards/{expensive.pk}/redeem/", follow=True)
    assert "You do not have enough points" in again.content.decode()
    other = Reward.objects.get(title="Their secret gift")
    assert client.post(f"/rewards/{other.pk}/redeem/").status_code == 404


def test_empty_catalogue_and_admin_pages(personas):
    assert (
        "The catalogue is empty" in client_for(personas.teammate).get("/rewards/").content.decode()
    )
    for url in ("/admin/rewards/", "/admin/rewards/new/", "/admin/redemptions/"):
        assert client_for(personas.teammate).get(url).status_code == 404
        assert client_for(personas.owner).get(url).status_code == 200


def test_admin_adds_a_reward_with_a_form_error_first(personas):
    client = client_for(personas.owner)
    bad = client.post("/admin/rewards/new/", {"title": "Mug", "cost": "0", "is_active": "on"})
    assert bad.status_code == 200 and not Reward.objects.exists()
    assert "errorlist" in bad.content.decode()
    good = client.post(
        "/admin/rewards/new/", {"title": "Mug", "cost": "30", "stock": "", "is_active": "on"}
    )
    assert good.status_code == 302
    reward = Reward.objects.get()
    assert reward.stock is None and reward.cost == 30
    other_admin = client_for(personas.outsider)
    assert other_admin.get(f"/admin/rewards/{reward.pk}/").status_code == 404


def test_admin_queue_fulfils_and_refuses(personas, django_assert_max_num_queries):
    reward = make_reward(personas.organization, cost=10)
    people = [UserFactory(organization=personas.organization) for _ in range(6)]
    for person in people:
        give_points(person, 20)
        services.reward_redeem(user=person, reward_id=reward.pk)
    client = client_for(personas.owner)
    with django_assert_max_num_queries(10):
        assert client.get("/admin/redemptions/").status_code == 200
    first, second = Redemption.objects.order_by("pk")[:2]
    client.post(f"/admin/redemptions/{first.pk}/fulfil/", {"note": "In your mailbox"})
    client.post(f"/admin/redemptions/{second.pk}/refuse/", {"note": ""})
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == RedemptionStatus.FULFILLED and first.note == "In your mailbox"
    assert second.status == RedemptionStatus.REFUSED
    assert spendable(second.user) == 20


def test_api_catalogue_redeem_and_decide(personas, django_assert_max_num_queries):
    me = personas.teammate
    give_points(me, 100)
    reward = make_reward(personas.organization, cost=40, stock=1)
    make_reward(personas.other_organization, cost=1)
    api = api_client_for(me)
    with django_assert_max_num_queries(6):
        listed = api.get("/api/v1/rewards/").json()
    assert [row["id"] for row in listed["results"]] == [reward.pk]
    created = api.post("/api/v1/redemptions/", {"reward": reward.pk}, format="json")
    assert created.status_code == 201, created.json()
    assert created.json()["status"] == "requested" and created.json()["cost"] == 40
    sold_out = api.post("/api/v1/redemptions/", {"reward": reward.pk}, format="json")
    assert sold_out.status_code == 409
    assert sold_out.json()["errors"][0]["field"] == "reward"
    missing = api.post("/api/v1/redemptions/", {"reward": "x"}, format="json")
    assert missing.status_code == 400 and missing.json()["errors"][0]["field"] == "reward"
    assert api.post("/api/v1/redemptions/", {"reward": 999999}, format="json").status_code == 404
    pk = created.json()["id"]
    assert api.post(f"/api/v1/redemptions/{pk}/refuse/").status_code == 403
    assert api.get("/api/v1/redemptions/?scope=queue").status_code == 403
    admin = api_client_for(personas.owner)
    queue = admin.get("/api/v1/redemptions/?scope=queue").json()
    assert [row["id"] for row in queue["results"]] == [pk]
    assert api_client_for(personas.outsider).get(f"/api/v1/redemptions/{pk}/").status_code == 404
    refused = admin.post(f"/api/v1/redemptions/{pk}/refuse/", {"note": "Sorry"}, format="json")
    assert refused.status_code == 200 and refused.json()["status"] == "refused"
    assert admin.post(f"/api/v1/redemptions/{pk}/refuse/").status_code == 409
    assert spendable(me) == 100
    mine = api.get("/api/v1/redemptions/").json()
    assert [row["status"] for row in mine["results"]] == ["refused"]


def test_removing_a_person_or_the_organisation_is_not_blocked_by_redemptions(personas):
    me = personas.teammate
    give_points(me, 100)
    reward = make_reward(personas.organization, cost=10)
    services.reward_redeem(user=me, reward_id=reward.pk)
    me.delete()
    assert not Redemption.objects.exists()
    other = UserFactory(organization=personas.organization)
    give_points(other, 100)
    services.reward_redeem(user=other, reward_id=reward.pk)
    personas.organization.delete()
    assert not Reward.objects.exists() and not Redemption.objects.exists()
