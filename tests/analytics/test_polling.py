"""Engagement polling against the fake network over HTTP: a published API share gets its
polling row, polls follow the decaying cadence (time frozen and moved), snapshots grow,
and every way a network says no ends in a visible state, never in a loop."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise

import pytest
import time_machine
from django.utils import timezone

from advocacy.models import AccountStatus, Share, ShareStatus
from advocacy.ratelimit import rate_limit_reset
from advocacy.services.pipeline import share_publish
from analytics.models import MetricPoll, MetricSnapshot, PollStatus
from analytics.services import polling
from analytics.services.polling import metric_polls_run, poll_next_at
from tests.advocacy.conftest import connect, make_content, share_now
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 5, 4, 8, 0, tzinfo=UTC)


@pytest.fixture
def published(personas, network_settings, django_capture_on_commit_callbacks):
    """A share posted for the teammate on the sandbox network at T0, with its signal run."""

    def publish(user=None, network="linkedin", content=None) -> Share:
        user = user or personas.teammate
        if content is None:
            content = make_content(personas.organization)
            # The network refuses the same text twice from one account.
            content.captions.update(text=f"Proud of our teams ({content.pk}).")
        if not user.social_accounts.filter(network=network).exists():
            connect(user, network)
        [share] = share_now(user, content, networks=(network,))
        with django_capture_on_commit_callbacks(execute=True):
            assert share_publish(share_id=share.pk) == "published"
        share.refresh_from_db()
        return share

    with time_machine.travel(T0, tick=False) as traveller:
        yield publish, traveller


@pytest.mark.parametrize(
    ("age", "interval"),
    [
        (timedelta(0), timedelta(hours=1)),
        (timedelta(hours=23), timedelta(hours=1)),
        (timedelta(days=1), timedelta(hours=6)),
        (timedelta(days=6, hours=23), timedelta(hours=6)),
        (timedelta(days=7), timedelta(days=1)),
        (timedelta(days=29), timedelta(days=1)),
        (timedelta(days=30), timedelta(days=7)),
        (timedelta(days=89), timedelta(days=7)),
        (timedelta(days=90), timedelta(days=30)),
    ],
)
def test_cadence_decays_with_age(age, interval):
    assert poll_next_at(published_at=T0, after=T0 + age) == T0 + age + interval


def test_cadence_stops_after_four_months():
    assert poll_next_at(published_at=T0, after=T0 + timedelta(days=120)) is None


def test_publication_creates_the_poll_and_the_cadence_is_kept(published, fake_network):
    publish, traveller = published
    share = publish()
    poll = MetricPoll.objects.get(share=share)
    assert poll.status == PollStatus.PENDING
    assert poll.next_poll_at == share.published_at + timedelta(hours=1)

    traveller.shift(timedelta(minutes=30))
    assert metric_polls_run() == {}
    assert fake_network.metrics_requests() == []

    polled_at = []
    deadline = T0 + timedelta(days=125)
    while timezone.now() < deadline:
        poll.refresh_from_db()
        if poll.next_poll_at is None:
            break
        traveller.move_to(poll.next_poll_at)
        assert metric_polls_run().get("polled") == 1
        polled_at.append(timezone.now())
    poll.refresh_from_db()
    assert poll.next_poll_at is None and poll.status == PollStatus.OK
    assert poll.note == polling.NOTE_FINISHED
    assert poll.poll_count == len(polled_at) == MetricSnapshot.objects.filter(share=share).count()
    gaps = [later - earlier for earlier, later in pairwise(polled_at)]
    assert set(gaps[:22]) == {timedelta(hours=1)}
    assert timedelta(hours=6) in gaps and timedelta(days=1) in gaps
    assert timedelta(days=7) in gaps and gaps[-1] == timedelta(days=30)

    snapshots = list(MetricSnapshot.objects.filter(share=share).order_by("fetched_at"))
    first, last = snapshots[0], snapshots[-1]
    assert first.organization_id == share.organization_id and first.network == "linkedin"
    assert poll.followers == first.followers and first.followers > 0
    for field in ("impressions", "reactions", "comments", "reshares", "clicks"):
        values = [getattr(s, field) for s in snapshots]
        assert values == sorted(values), field
    assert last.impressions > first.impressions > 0
    # Most of it comes in the first day, then it flattens.
    day_one = next(s for s in snapshots if s.fetched_at >= share.published_at + timedelta(days=1))
    assert day_one.impressions >= 0.7 * last.impressions
    assert last.raw["impressions"] == last.impressions


def test_no_permission_stops_with_a_note_and_is_not_retried(published, fake_network):
    publish, traveller = published
    share = publish()
    fake_network.script_metrics({"status": 403})
    traveller.shift(timedelta(hours=1))
    assert metric_polls_run() == {"no-permission": 1}
    poll = MetricPoll.objects.get(share=share)
    assert poll.status == PollStatus.NO_PERMISSION and poll.next_poll_at is None
    assert "tracked clicks" in poll.note_display
    assert not MetricSnapshot.objects.exists()
    traveller.shift(timedelta(days=2))
    assert metric_polls_run() == {}
    assert len(fake_network.metrics_requests()) == 1


def test_a_network_without_counts_is_unsupported(published, fake_network):
    publish, traveller = published
    share = publish()
    fake_network.script_metrics({"empty": True})
    traveller.shift(timedelta(hours=1))
    assert metric_polls_run() == {"unsupported": 1}
    poll = MetricPoll.objects.get(share=share)
    assert (poll.status, poll.next_poll_at) == (PollStatus.UNSUPPORTED, None)
    assert poll.note == polling.NOTE_UNSUPPORTED


def test_revoked_token_pauses_until_reconnected(published, fake_network, personas):
    publish, traveller = published
    share = publish()
    fake_network.revoke(share.account.external_id)
    traveller.shift(timedelta(hours=1))
    assert metric_polls_run() == {"paused": 1}
    poll = MetricPoll.objects.get(share=share)
    assert poll.status == PollStatus.PAUSED and poll.next_poll_at is None
    share.account.refresh_from_db()
    assert share.account.status == AccountStatus.NEEDS_RECONNECT
    traveller.shift(timedelta(hours=5))
    asked = len(fake_network.metrics_requests())
    assert metric_polls_run() == {}
    assert len(fake_network.metrics_requests()) == asked

    connect(personas.teammate)  # reconnected: the same account, a new token
    assert metric_polls_run() == {"resumed": 1, "polled": 1}
    poll.refresh_from_db()
    assert poll.status == PollStatus.OK and poll.next_poll_at > timezone.now()


def test_a_rate_limited_poll_waits_without_calling(published, fake_network, network_settings):
    publish, traveller = published
    first, second = publish(), publish()  # the same account
    # One call an hour for the account: the first poll takes it, the second waits.
    network_settings.NETWORK_RATE_LIMITS = {"sandbox": {"account": "1/3600", "app": "600/60"}}
    rate_limit_reset()
    traveller.shift(timedelta(hours=1))
    assert metric_polls_run() == {"polled": 1, "rate-limited": 1}
    assert len(fake_network.metrics_requests()) == 1
    waiting = MetricPoll.objects.get(share=second)
    assert waiting.poll_count == 0 and waiting.status == PollStatus.PENDING
    assert waiting.next_poll_at == timezone.now() + timedelta(hours=1)
    assert MetricPoll.objects.get(share=first).poll_count == 1
    # The next run before the window frees up asks nothing; after it, the poll goes.
    traveller.shift(timedelta(minutes=30))
    assert metric_polls_run() == {}
    traveller.shift(timedelta(minutes=31))
    assert metric_polls_run() == {"polled": 1, "rate-limited": 1}
    # The one that waited goes first; the other waits its turn.
    assert MetricPoll.objects.get(share=second).poll_count == 1
    assert MetricPoll.objects.get(share=first).poll_count == 1


def test_network_failures_back_off_then_stop(published, fake_network):
    publish, traveller = published
    share = publish()
    fake_network.script_metrics(*[{"status": 500}] * polling.MAX_FAILURES)
    traveller.shift(timedelta(hours=1))
    waits = []
    for _attempt in range(polling.MAX_FAILURES):
        results = metric_polls_run()
        poll = MetricPoll.objects.get(share=share)
        if poll.next_poll_at is None:
            break
        assert results == {"retry": 1}
        waits.append(poll.next_poll_at - timezone.now())
        traveller.move_to(poll.next_poll_at)
    assert waits == [timedelta(minutes=15 * 2**n) for n in range(polling.MAX_FAILURES - 1)]
    assert results == {"failed": 1}
    assert (poll.status, poll.note) == (PollStatus.ERROR, polling.NOTE_FAILING)


def test_a_deleted_post_stops_polling(published, fake_network):
    publish, traveller = published
    share = publish()
    for post in fake_network.live_posts():
        post.deleted = True
    traveller.shift(timedelta(hours=1))
    assert metric_polls_run() == {"gone": 1}
    poll = MetricPoll.objects.get(share=share)
    assert (poll.status, poll.note, poll.next_poll_at) == (
        PollStatus.ERROR,
        polling.NOTE_GONE,
        None,
    )


def test_a_recalled_share_is_not_polled(published, fake_network):
    publish, traveller = published
    share = publish()
    Share.objects.filter(pk=share.pk).update(status=ShareStatus.RECALLED)
    traveller.shift(timedelta(hours=1))
    assert metric_polls_run() == {"stopped": 1}
    assert fake_network.metrics_requests() == []


def test_the_job_backfills_missing_polls(published, fake_network, personas):
    publish, traveller = published
    share = publish()
    MetricPoll.objects.all().delete()  # as if the signal had been lost
    link_share = share_now(
        UserFactory(organization=personas.organization),
        make_content(personas.organization),
        networks=("facebook",),
    )[0]
    traveller.shift(timedelta(hours=1))
    assert metric_polls_run() == {"created": 1, "polled": 1}
    assert MetricPoll.objects.get().share_id == share.pk
    assert not MetricPoll.objects.filter(share=link_share).exists()
    assert metric_polls_run() == {}


def test_an_unexpected_failure_backs_off_like_the_others(published, fake_network, monkeypatch):
    from advocacy.networks.sandbox import SandboxAdapter

    publish, traveller = published
    share = publish()

    def broken(self, credentials, external_id):
        raise ValueError("unexpected answer")

    monkeypatch.setattr(SandboxAdapter, "fetch_metrics", broken)
    traveller.shift(timedelta(hours=1))
    assert metric_polls_run() == {"crashed": 1}
    poll = MetricPoll.objects.get(share=share)
    assert poll.failure_count == 1
    assert poll.next_poll_at == timezone.now() + polling.FAILURE_WAIT
