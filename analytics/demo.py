"""Demo analytics for `seed_demo`, run after the content and sharing demo: the metric
history of every published API share over its life so far, then the rollups, so that
every dashboard is alive on first run.

Snapshots follow the polling cadence and the sandbox network's growth curve
(`advocacy.networks.metrics.sandbox_curve`, the same numbers the fake network answers),
computed locally: no network call during seeding. About a third of the LinkedIn accounts
are seeded without the metrics permission, as personal LinkedIn accounts usually are, so
the pages show posts measured by their tracked clicks only.

The demo's polls are stopped: the sandbox network forgets its posts when it restarts, so
asking it about the demo's posts would only answer "gone". Shares made in the demo are
polled live.

Idempotent: a share that has its polling row is skipped; the rollups are idempotent.
"""

from __future__ import annotations

import logging
import zlib
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from advocacy.models import Share, ShareMode, ShareStatus
from advocacy.networks.metrics import sandbox_curve
from analytics.models import MetricPoll, MetricSnapshot, PollStatus
from analytics.services.polling import (
    NOTE_FINISHED,
    NOTE_NO_PERMISSION,
    NOTE_NOT_PUBLISHED,
    poll_next_at,
)
from analytics.services.rollups import rollups_fill
from content.models import Network
from organizations.models import Organization

logger = logging.getLogger(__name__)


def _without_permission(account_external_id: str, network: str) -> bool:
    return network == Network.LINKEDIN and zlib.crc32(account_external_id.encode()) % 3 == 0


def seed_demo_analytics(sender: object, organization: Organization, **kwargs: Any) -> None:
    now = timezone.now()
    with transaction.atomic():
        shares = list(
            Share.objects.filter(
                organization=organization,
                mode=ShareMode.API,
                published_at__isnull=False,
                metric_poll__isnull=True,
                account__isnull=False,
            )
            .exclude(external_id="")
            .select_related("account")
            .order_by("pk")
        )
        polls, snapshots = [], []
        for share in shares:
            poll, taken = _history(share, now)
            polls.append(poll)
            snapshots += taken
        MetricPoll.objects.bulk_create(polls, batch_size=500)
        MetricSnapshot.objects.bulk_create(snapshots, batch_size=1000)
        # Recorded when fetched, as live polling would have: the rollup watermark then
        # sees nothing late.
        MetricSnapshot.objects.filter(
            organization=organization, share__in=[share.pk for share in shares]
        ).update(recorded_at=F("fetched_at"))
    rollups_fill(organization_id=organization.pk, now=now)


def _history(share: Share, now: datetime) -> tuple[MetricPoll, list[MetricSnapshot]]:
    assert share.published_at is not None and share.account is not None
    account_id = share.account.external_id
    poll = MetricPoll(organization_id=share.organization_id, share=share, next_poll_at=None)
    if _without_permission(account_id, share.network):
        poll.status, poll.note = PollStatus.NO_PERMISSION, NOTE_NO_PERMISSION
        return poll, []
    # A recalled share was polled until its deletion.
    until = share.updated_at if share.status != ShareStatus.PUBLISHED else now
    taken = []
    moment = poll_next_at(published_at=share.published_at, after=share.published_at)
    while moment is not None and moment <= until:
        counts = sandbox_curve(
            share.external_id, account_id, (moment - share.published_at).total_seconds()
        )
        taken.append(
            MetricSnapshot(
                organization_id=share.organization_id,
                share=share,
                network=share.network,
                fetched_at=moment,
                raw=counts,
                **counts,
            )
        )
        moment = poll_next_at(published_at=share.published_at, after=moment)
    poll.status = PollStatus.OK
    poll.poll_count = len(taken)
    if taken:
        poll.last_polled_at = taken[-1].fetched_at
        poll.followers = taken[0].followers
    if share.status != ShareStatus.PUBLISHED:
        poll.note = NOTE_NOT_PUBLISHED
    elif moment is None:
        poll.note = NOTE_FINISHED
    return poll, taken
