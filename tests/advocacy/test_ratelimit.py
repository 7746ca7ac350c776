"""Publishing limits: the sliding windows in Redis and in-process, and the pipeline under a
per-account limit with a queue ten times longer, on a clock the test drives."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import time_machine
from django.test import override_settings
from django.utils import timezone

from advocacy.models import Share, ShareStatus
from advocacy.ratelimit import (
    Limit,
    RateLimitUnavailable,
    rate_limit_acquire,
    rate_limit_reset,
)
from advocacy.services.pipeline import share_publish, shares_sweep
from advocacy.services.sharing import ShareRequest, share_create
from tests.advocacy import workers
from tests.advocacy.conftest import connect, make_content
from tests.conftest import free_port

dispatched = workers.dispatched  # a fixture


@pytest.fixture(params=["redis", "in-process"])
def limiter(request, settings):
    settings.NETWORK_RATE_LIMITS = {"sandbox": {"account": "5/60", "app": "8/60"}}
    if request.param == "in-process":
        settings.REDIS_URL = ""
    elif not settings.REDIS_URL:
        pytest.skip("needs REDIS_URL")
    else:
        settings.REDIS_URL = workers.redis_url_outside_cache(settings.REDIS_URL)
    rate_limit_reset()
    yield request.param
    rate_limit_reset()


def test_limit_parse_rejects_nonsense():
    assert Limit.parse("5/60") == Limit(5, 60.0)
    for text in ("5", "0/60", "5/0", "a/b"):
        with pytest.raises(ValueError):
            Limit.parse(text)


def test_window_grants_the_limit_then_says_how_long_to_wait(limiter):
    for second in range(5):
        assert rate_limit_acquire(adapter="sandbox", account_key="a", now=1000.0 + second) == 0
    assert rate_limit_acquire(adapter="sandbox", account_key="a", now=1010.0) == pytest.approx(50)
    # A refusal takes nothing: asking again changes no answer.
    assert rate_limit_acquire(adapter="sandbox", account_key="a", now=1059.9) == pytest.approx(0.1)
    assert rate_limit_acquire(adapter="sandbox", account_key="a", now=1060.0) == 0
    assert rate_limit_acquire(adapter="sandbox", account_key="a", now=1060.5) == pytest.approx(0.5)


def test_app_window_is_shared_by_every_account(limiter):
    for n in range(8):
        assert rate_limit_acquire(adapter="sandbox", account_key=f"acc{n % 4}", now=2000.0) == 0
    # A fresh account is still held by the application's window.
    assert rate_limit_acquire(adapter="sandbox", account_key="fresh", now=2001.0) == pytest.approx(
        59
    )
    assert rate_limit_acquire(adapter="sandbox", account_key="fresh", now=2060.0) == 0


def test_unknown_adapter_is_not_limited(limiter):
    assert rate_limit_acquire(adapter="nowhere", account_key="a", now=1.0) == 0


def test_redis_down_refuses_rather_than_calling_blind():
    with (
        override_settings(REDIS_URL=f"redis://127.0.0.1:{free_port()}/0"),
        pytest.raises(RateLimitUnavailable),
    ):
        rate_limit_acquire(adapter="sandbox", account_key="a", now=1.0)


@pytest.mark.django_db(transaction=True)
def test_fifty_shares_under_five_a_minute_never_burst_and_all_go_out(
    personas, fake_network, dispatched, settings
):
    settings.NETWORK_RATE_LIMITS = {"sandbox": {"account": "5/60", "app": "600/60"}}
    settings.SHARE_REDISPATCH_AFTER_SECONDS = 0
    if settings.REDIS_URL:
        settings.REDIS_URL = workers.redis_url_outside_cache(settings.REDIS_URL)
    rate_limit_reset()
    connect(personas.teammate)
    shares = []
    for n in range(50):
        # One author for all: a new one each time would hash fifty passwords.
        content = make_content(personas.organization, author=personas.owner)
        shares += share_create(
            user=personas.teammate,
            data=ShareRequest(
                content_id=content.pk, networks=["linkedin"], captions={"linkedin": f"News #{n}"}
            ),
        )
    # What the broker holds: (when it delivers, share id). The sweeper runs too, so a
    # message the pipeline forgot to send would still be found.
    clock: datetime = timezone.now()
    queued = [(clock, share_id) for _name, share_id, _countdown in dispatched.take()]
    for _step in range(200):
        with time_machine.travel(clock, tick=False):
            shares_sweep()
            due = [share_id for at, share_id in queued if at <= clock]
            queued = [(at, share_id) for at, share_id in queued if at > clock]
            for share_id in due:
                share_publish(share_id=share_id)
            queued += [
                (clock + timedelta(seconds=countdown), share_id)
                for _name, share_id, countdown in dispatched.take()
            ]
        if not Share.objects.filter(status=ShareStatus.SCHEDULED).exists():
            break
        # Always forward, even when a wait rounds to the same microsecond.
        clock = max(min(at for at, _id in queued), clock + timedelta(milliseconds=1))
    assert Share.objects.filter(status=ShareStatus.PUBLISHED).count() == 50
    assert len(fake_network.live_posts()) == 50
    times = sorted(r.at for r in fake_network.post_requests())
    assert len(times) == 50  # none dropped, none sent twice
    busiest = max(sum(1 for t in times if first <= t < first + 60) for first in times)
    assert busiest == 5
    # About ten minutes of the driven clock, not of the test's.
    assert 9 * 60 <= times[-1] - times[0] <= 11 * 60


def test_each_kind_of_call_has_its_own_window_where_the_network_says_so(limiter, settings):
    """X limits posts (100), deletions (50) and reads (900) per 15 minutes each: using up
    the deletions leaves posting and reading free; a network without its own windows
    shares the posting one."""
    settings.NETWORK_RATE_LIMITS = {
        "x": {
            "account": "3/900",
            "app": "100/900",
            "delete": {"account": "2/900", "app": "100/900"},
            "read": {"account": "4/900", "app": "100/900"},
        },
        "sandbox": {"account": "2/60", "app": "100/60"},
    }
    now = 1_000_000.0
    take = lambda adapter, action: rate_limit_acquire(  # noqa: E731
        adapter=adapter, account_key="7", action=action, now=now
    )
    assert [take("x", "delete") for _ in range(3)][:2] == [0.0, 0.0]
    assert take("x", "delete") > 0
    assert [take("x", "post") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert take("x", "post") > 0
    assert [take("x", "read") for _ in range(4)] == [0.0] * 4
    # The sandbox has one window for everything.
    assert [take("sandbox", "read"), take("sandbox", "delete")] == [0.0, 0.0]
    assert take("sandbox", "post") > 0
