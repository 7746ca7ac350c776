"""Engagement polling: one MetricPoll row per published API share says when to ask the
network next; each successful poll appends a MetricSnapshot.

The cadence decays with the post's age, because engagement comes in the first hours and
then flattens: hourly in the first day, every 6 hours in the first week, daily in the
first month, weekly until day 90, a last look at day 120, then polling stops.

Each due poll is claimed with a conditional UPDATE (two workers never poll one share),
takes a call from the same rate-limit windows as publishing (a limited poll waits for the
next run and never calls the network), and calls the network outside any transaction.
A network or token without metrics stops the poll with a note (never an error, never
retried); an account that needs reconnecting pauses it until it is reconnected.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_noop

from advocacy.models import AccountStatus, Share, ShareMode, ShareStatus
from advocacy.networks import AdapterNotConfigured, adapter_for
from advocacy.networks.base import MetricsUnavailable, NeedsReconnect, NetworkError, RetryLater
from advocacy.networks.metrics import METRIC_NAMES
from advocacy.ratelimit import RateLimitUnavailable, rate_limit_acquire
from advocacy.services.accounts import account_credentials, account_mark_needs_reconnect
from analytics.models import MetricPoll, MetricSnapshot, PollStatus

logger = logging.getLogger(__name__)

# (age up to which it applies, time between polls)
CADENCE: tuple[tuple[timedelta, timedelta], ...] = (
    (timedelta(days=1), timedelta(hours=1)),
    (timedelta(days=7), timedelta(hours=6)),
    (timedelta(days=30), timedelta(days=1)),
    (timedelta(days=90), timedelta(days=7)),
    (timedelta(days=120), timedelta(days=30)),
)
# A claimed poll whose worker died is due again after this.
CLAIM_TIMEOUT = timedelta(minutes=10)
MAX_FAILURES = 5
FAILURE_WAIT = timedelta(minutes=15)
RATE_LIMIT_UNKNOWN_WAIT = 60.0

# Stored in English and marked for translation: pages show them with gettext (see
# MetricPoll.note_display).
NOTE_UNSUPPORTED = gettext_noop("This network gives no metrics for this post.")
NOTE_NO_PERMISSION = gettext_noop(
    "The account does not allow reading post metrics; tracked clicks are the measure."
)
NOTE_GONE = gettext_noop("The post is no longer on the network; polling stopped.")
NOTE_RECONNECT = gettext_noop("Paused until the account is reconnected.")
NOTE_DISCONNECTED = gettext_noop("The account was disconnected; polling stopped.")
NOTE_NOT_PUBLISHED = gettext_noop("The post was deleted; polling stopped.")
NOTE_FAILING = gettext_noop("The network kept failing; polling stopped.")
NOTE_FINISHED = gettext_noop("Final figures: the post is old enough, polling stopped.")


def poll_next_at(*, published_at: datetime, after: datetime) -> datetime | None:
    """When to poll a post published at `published_at`, last polled at `after` (None once
    the post is older than the cadence)."""
    age = after - published_at
    for limit, interval in CADENCE:
        if age < limit:
            return max(after + interval, published_at + interval)
    return None


def metric_poll_create(*, share: Share) -> MetricPoll | None:
    """The polling row of a published API share (once; a repeat returns the existing one)."""
    if share.mode != ShareMode.API or share.published_at is None or not share.external_id:
        return None
    existing = MetricPoll.objects.filter(share=share).first()
    if existing is not None:
        return existing
    first = poll_next_at(published_at=share.published_at, after=share.published_at)
    try:
        with transaction.atomic():
            return MetricPoll.objects.create(
                organization_id=share.organization_id,
                share=share,
                next_poll_at=max(first or timezone.now(), share.published_at),
            )
    except IntegrityError:
        return MetricPoll.objects.filter(share=share).first()


def metric_polls_backfill(*, now: datetime | None = None) -> int:
    """Polling rows for published API shares that have none (a signal lost, shares from
    before this feature). A share past the cadence is polled once for its final figures."""
    now = now or timezone.now()
    missing = Share.objects.filter(
        mode=ShareMode.API,
        status=ShareStatus.PUBLISHED,
        published_at__isnull=False,
        metric_poll__isnull=True,
    ).exclude(external_id="")
    rows = []
    for share_id, organization_id, published_at in missing.values_list(
        "pk", "organization_id", "published_at"
    ).iterator():
        due = poll_next_at(published_at=published_at, after=published_at) or now
        rows.append(
            MetricPoll(organization_id=organization_id, share_id=share_id, next_poll_at=due)
        )
    MetricPoll.objects.bulk_create(rows, ignore_conflicts=True, batch_size=500)
    return len(rows)


def metric_polls_resume(*, now: datetime | None = None) -> int:
    """Paused polls whose account is connected again are due now."""
    now = now or timezone.now()
    return MetricPoll.objects.filter(
        status=PollStatus.PAUSED,
        share__account__status=AccountStatus.ACTIVE,
        share__status=ShareStatus.PUBLISHED,
    ).update(status=PollStatus.OK, next_poll_at=now, note="", failure_count=0)


@dataclass
class PollOutcome:
    name: str
    snapshot: MetricSnapshot | None = None


def _stop(poll_id: int, status: str, note: str, **extra: object) -> None:
    MetricPoll.objects.filter(pk=poll_id).update(
        status=status, note=note, next_poll_at=None, **extra
    )


def _claim(poll: MetricPoll, now: datetime) -> bool:
    return bool(
        MetricPoll.objects.filter(pk=poll.pk, next_poll_at=poll.next_poll_at).update(
            next_poll_at=now + CLAIM_TIMEOUT
        )
    )


def metric_poll_run(*, poll_id: int, now: datetime | None = None) -> PollOutcome:
    """Poll one due share: claim, check the rate limits, call the network (outside any
    transaction), record the snapshot or the reason there is none."""
    now = now or timezone.now()
    poll = MetricPoll.objects.filter(pk=poll_id, next_poll_at__lte=now).first()
    if poll is None:
        return PollOutcome("not-due")
    if not _claim(poll, now):
        return PollOutcome("taken")
    share = Share.objects.select_related("account").get(pk=poll.share_id)
    if share.status != ShareStatus.PUBLISHED or not share.external_id:
        _stop(poll.pk, PollStatus.OK, NOTE_NOT_PUBLISHED)
        return PollOutcome("stopped")
    account = share.account
    if account is None:
        _stop(poll.pk, PollStatus.PAUSED, NOTE_DISCONNECTED)
        return PollOutcome("paused")
    if account.status != AccountStatus.ACTIVE:
        _stop(poll.pk, PollStatus.PAUSED, NOTE_RECONNECT)
        return PollOutcome("paused")
    try:
        adapter = adapter_for(account.adapter, organization_id=account.organization_id)
    except AdapterNotConfigured:
        _stop(poll.pk, PollStatus.UNSUPPORTED, NOTE_UNSUPPORTED)
        return PollOutcome("unsupported")
    try:
        wait = rate_limit_acquire(
            adapter=account.adapter, account_key=str(account.pk), action="read"
        )
    except RateLimitUnavailable:
        wait = RATE_LIMIT_UNKNOWN_WAIT
    if wait > 0:
        # Not an attempt: back in the queue for when the window has room.
        MetricPoll.objects.filter(pk=poll.pk).update(next_poll_at=now + timedelta(seconds=wait))
        return PollOutcome("rate-limited")
    try:
        credentials = account_credentials(account_id=account.pk)
        metrics = adapter.fetch_metrics(credentials, share.external_id)
    except NeedsReconnect as exc:
        account_mark_needs_reconnect(account_id=account.pk, reason=exc.message)
        _stop(poll.pk, PollStatus.PAUSED, NOTE_RECONNECT)
        return PollOutcome("paused")
    except MetricsUnavailable as exc:
        if exc.reason == "no_permission":
            _stop(poll.pk, PollStatus.NO_PERMISSION, NOTE_NO_PERMISSION)
            return PollOutcome("no-permission")
        if exc.reason == "gone":
            _stop(poll.pk, PollStatus.ERROR, NOTE_GONE)
            return PollOutcome("gone")
        _stop(poll.pk, PollStatus.UNSUPPORTED, NOTE_UNSUPPORTED)
        return PollOutcome("unsupported")
    except NetworkError as exc:
        return _failed(poll, now, exc)
    if not metrics:
        _stop(poll.pk, PollStatus.UNSUPPORTED, NOTE_UNSUPPORTED)
        return PollOutcome("unsupported")
    return _record(poll, share, now, metrics)


def _failed(poll: MetricPoll, now: datetime, exc: NetworkError) -> PollOutcome:
    failures = poll.failure_count + 1
    if failures >= MAX_FAILURES:
        _stop(poll.pk, PollStatus.ERROR, NOTE_FAILING, failure_count=failures)
        return PollOutcome("failed")
    wait = FAILURE_WAIT * 2 ** (failures - 1)
    if isinstance(exc, RetryLater):
        wait = max(wait, timedelta(seconds=exc.retry_after))
    MetricPoll.objects.filter(pk=poll.pk).update(next_poll_at=now + wait, failure_count=failures)
    logger.info("Metrics of share %s failed (%s); again in %s", poll.share_id, exc.message, wait)
    return PollOutcome("retry")


def _record(poll: MetricPoll, share: Share, now: datetime, metrics: dict[str, int]) -> PollOutcome:
    counts = {name: metrics.get(name) for name in METRIC_NAMES}
    assert share.published_at is not None
    next_at = poll_next_at(published_at=share.published_at, after=now)
    with transaction.atomic():
        snapshot = MetricSnapshot.objects.create(
            organization_id=share.organization_id,
            share=share,
            network=share.network,
            fetched_at=now,
            raw={name: value for name, value in counts.items() if value is not None},
            **counts,
        )
        MetricPoll.objects.filter(pk=poll.pk).update(
            status=PollStatus.OK,
            note="" if next_at else NOTE_FINISHED,
            next_poll_at=next_at,
            last_polled_at=now,
            poll_count=F("poll_count") + 1,
            failure_count=0,
        )
        if counts["followers"] is not None:
            # Followers at share time: the first figure the network gave.
            MetricPoll.objects.filter(pk=poll.pk, followers__isnull=True).update(
                followers=counts["followers"]
            )
    return PollOutcome("polled", snapshot)


def metric_polls_run(*, now: datetime | None = None, limit: int = 500) -> dict[str, int]:
    """The beat job: create missing polling rows, resume reconnected ones, poll what is
    due (oldest first, at most `limit`). Returns how many polls ended each way."""
    now = now or timezone.now()
    results: dict[str, int] = {}
    backfilled = metric_polls_backfill(now=now)
    if backfilled:
        results["created"] = backfilled
    resumed = metric_polls_resume(now=now)
    if resumed:
        results["resumed"] = resumed
    due = list(
        MetricPoll.objects.filter(next_poll_at__lte=now)
        .filter(Q(status=PollStatus.OK) | Q(status=PollStatus.PENDING))
        # Among polls due together, the one that waited longest for data goes first: a
        # rate-limited poll is not starved by its account's other posts.
        .order_by("next_poll_at", F("last_polled_at").asc(nulls_first=True), "pk")
        .values_list("pk", flat=True)[:limit]
    )
    for poll_id in due:
        try:
            name = metric_poll_run(poll_id=poll_id, now=now).name
        except Exception:
            # A bug or an unexpected answer: counted as a failure, so it backs off and
            # stops like any other instead of coming back every claim timeout.
            logger.exception("Metric poll %s crashed", poll_id)
            poll = MetricPoll.objects.filter(pk=poll_id).first()
            name = "crashed"
            if poll is not None:
                _failed(poll, now, NetworkError("Unexpected failure."))
        results[name] = results.get(name, 0) + 1
    return results
