"""Every write of the digest: the organisation's schedule (audited), a person's choice,
the one-click unsubscribe, and the sending job.

The job works on DigestDelivery rows, the outbox of each (person, period):
1. rows are created for the people whose period is due in their time zone, with
   INSERT … ON CONFLICT DO NOTHING on the unique (person, period): a period exists once
   whatever the number of runs racing;
2. a batch of rows is claimed with a conditional UPDATE (SKIP LOCKED where the database
   has it) that gives the run a lease; rows of a killed run are claimable again once
   their lease has passed, a row marked sent never is;
3. the batch is built in a bounded number of queries, sent over one connection, and each
   row records its outcome, still under the run's lease.
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.mail import get_connection
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from digests.emails import digest_message
from digests.models import (
    DeliveryStatus,
    DigestDelivery,
    DigestPreference,
    DigestRun,
    DigestSettings,
    Frequency,
    Weekday,
)
from digests.schedule import period_due
from digests.selectors import DigestBuilder, digest_settings_of
from organizations.audit import audit_record
from organizations.errors import DomainError
from organizations.models import Organization, Role, User
from organizations.signals import seeding_demo

logger = logging.getLogger(__name__)

BATCH_SIZE = 200
RECORD_EVERY = 10
MAX_ATTEMPTS = 3
RETRY_AFTER = timedelta(minutes=15)


def _lease() -> timedelta:
    # Longer than a task may live: a row is taken back only from a run that is surely dead.
    seconds = getattr(settings, "DIGEST_LEASE_SECONDS", settings.CELERY_TASK_TIME_LIMIT + 60)
    return timedelta(seconds=seconds)


def _time_budget() -> float:
    """Seconds a run claims new batches for, inside the task's time limit."""
    return float(max(10, settings.CELERY_TASK_TIME_LIMIT - 60))


# --- settings and preferences -------------------------------------------------------------


def digest_settings_update(
    *,
    actor: User,
    default_frequency: str,
    weekday: int,
    hour: int,
    request: HttpRequest | None = None,
) -> DigestSettings:
    if not actor.is_org_admin or actor.organization is None:
        raise DomainError(_("Only an organisation admin can change the digest."))
    if default_frequency not in Frequency.values:
        raise DomainError(_("Choose a frequency from the list."), field="default_frequency")
    if weekday not in Weekday.values:
        raise DomainError(_("Choose a day of the week."), field="weekday")
    if not 0 <= hour <= 23:
        raise DomainError(_("The hour is a number from 0 to 23."), field="hour")
    with transaction.atomic():
        current, _created = DigestSettings.objects.select_for_update().get_or_create(
            organization=actor.organization
        )
        before = {
            "default_frequency": current.default_frequency,
            "weekday": current.weekday,
            "hour": current.hour,
        }
        after = {"default_frequency": default_frequency, "weekday": weekday, "hour": hour}
        if before == after:
            return current
        current.default_frequency = default_frequency
        current.weekday = weekday
        current.hour = hour
        current.save()
        audit_record(
            action="digest.settings_changed",
            organization=actor.organization,
            actor=actor,
            request=request,
            details={"before": before, "after": after},
        )
    return current


def digest_preference_set(*, user: User, frequency: str) -> DigestPreference:
    if user.organization_id is None:
        raise DomainError(_("Your account does not belong to an organisation."))
    if frequency not in Frequency.values:
        raise DomainError(_("Choose daily, weekly or never."), field="frequency")
    preference, _created = DigestPreference.objects.update_or_create(
        user=user, defaults={"frequency": frequency, "organization_id": user.organization_id}
    )
    return preference


def digest_unsubscribe(*, user_id: int) -> User | None:
    """The one-click unsubscribe: the person's digest becomes "never". None when the
    account is gone."""
    user = User.objects.filter(pk=user_id, organization__isnull=False).first()
    if user is None:
        return None
    digest_preference_set(user=user, frequency=Frequency.NEVER)
    return user


# --- the sending job -----------------------------------------------------------------------


def _zone(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name or settings.TIME_ZONE)
    except (ZoneInfoNotFoundError, ValueError):
        logger.warning("Digest: unknown time zone %r", name)
        return None


def deliveries_create_due(*, now: datetime | None = None) -> int:
    """A pending row for each active person whose daily or weekly period is due now in
    their time zone (and who has none for it yet). Returns how many were written."""
    now = now or timezone.now()
    created = 0
    chosen = DigestPreference.objects.filter(user_id=OuterRef("pk")).values("frequency")[:1]
    all_settings = {row.organization_id: row for row in DigestSettings.objects.all()}
    for organization in Organization.objects.only("id", "time_zone").order_by("pk"):
        org_settings = all_settings.get(organization.pk) or digest_settings_of(organization.pk)
        people = User.objects.filter(organization_id=organization.pk, is_active=True)
        zones = set(people.order_by().values_list("time_zone", flat=True).distinct())
        for zone_name in sorted(zones):
            zone = _zone(zone_name or organization.time_zone)
            if zone is None:
                continue
            for frequency in (Frequency.DAILY, Frequency.WEEKLY):
                period = period_due(
                    frequency=frequency,
                    weekday=org_settings.weekday,
                    hour=org_settings.hour,
                    zone=zone,
                    now=now,
                )
                if period is None:
                    continue
                already = DigestDelivery.objects.filter(
                    user_id=OuterRef("pk"), period_key=period.key
                )
                due = (
                    people.filter(time_zone=zone_name)
                    .annotate(
                        frequency=Coalesce(Subquery(chosen), Value(org_settings.default_frequency))
                    )
                    .filter(frequency=frequency)
                    .exclude(Exists(already))
                    .values_list("pk", flat=True)
                )
                rows = [
                    DigestDelivery(
                        organization_id=organization.pk,
                        user_id=user_id,
                        period_key=period.key,
                        created_at=now,
                    )
                    for user_id in due
                ]
                # ON CONFLICT DO NOTHING: a concurrent run that wrote the same period wins.
                DigestDelivery.objects.bulk_create(rows, batch_size=1000, ignore_conflicts=True)
                created += len(rows)
    return created


def _claimable(now: datetime) -> Q:
    return Q(status=DeliveryStatus.PENDING) & (
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    ) | Q(status=DeliveryStatus.SENDING, lease_until__lte=now)


def deliveries_claim(
    *, token: str, now: datetime | None = None, limit: int = BATCH_SIZE
) -> list[DigestDelivery]:
    """Claim up to `limit` rows for the run `token`: those waiting, and those of a run whose
    lease has passed. The UPDATE re-checks the condition: zero rows means another run has
    them."""
    now = now or timezone.now()
    with transaction.atomic():
        ids = list(
            DigestDelivery.objects.filter(_claimable(now))
            .order_by("organization_id", "pk")
            .select_for_update(skip_locked=True)
            .values_list("pk", flat=True)[:limit]
        )
        if not ids:
            return []
        DigestDelivery.objects.filter(_claimable(now), pk__in=ids).update(
            status=DeliveryStatus.SENDING,
            lease_token=token,
            lease_until=now + _lease(),
            attempts=F("attempts") + 1,
        )
    return list(
        DigestDelivery.objects.filter(pk__in=ids, lease_token=token, status=DeliveryStatus.SENDING)
        .select_related("user", "user__organization")
        .order_by("pk")
    )


@dataclass
class JobResult:
    created: int = 0
    sent: int = 0
    skipped: int = 0
    failed: int = 0
    retried: int = 0
    runs: dict[int, DigestRun] = field(default_factory=dict)
    more: bool = False


FINISH_FIELDS = [
    "status",
    "finished_at",
    "covered_until",
    "content_ids",
    "points",
    "rank",
    "error",
    "next_attempt_at",
    "lease_until",
    "run",
]


def _finish(rows: list[DigestDelivery], *, token: str) -> list[DigestDelivery]:
    """Record the outcomes of the rows still held by this run (one lock, one UPDATE)."""
    if not rows:
        return []
    with transaction.atomic():
        held = set(
            DigestDelivery.objects.select_for_update()
            .filter(
                pk__in=[row.pk for row in rows], lease_token=token, status=DeliveryStatus.SENDING
            )
            .values_list("pk", flat=True)
        )
        mine = [row for row in rows if row.pk in held]
        DigestDelivery.objects.bulk_update(mine, FINISH_FIELDS, batch_size=500)
    return mine


def _batch_send(
    deliveries: list[DigestDelivery],
    *,
    builder: DigestBuilder,
    token: str,
    result: JobResult,
) -> None:
    now = builder.now
    digests = builder.build([row.user for row in deliveries if row.user.is_active])
    outgoing = []
    finished: list[DigestDelivery] = []
    for row in deliveries:
        run = result.runs.get(row.organization_id)
        if run is None:
            run = DigestRun.objects.create(organization_id=row.organization_id, started_at=now)
            result.runs[row.organization_id] = run
        row.run = run
        row.finished_at = now
        row.lease_until = None
        digest = digests.get(row.user_id)
        if digest is None or digest.frequency == Frequency.NEVER:
            # Unsubscribed or deactivated since the row was written: nothing to send.
            row.status = DeliveryStatus.SKIPPED
            row.error = "not subscribed"
            finished.append(row)
            continue
        row.covered_until = now
        row.points = digest.points
        row.rank = digest.rank
        if not digest.would_send:
            row.status = DeliveryStatus.SKIPPED
            finished.append(row)
            continue
        row.content_ids = digest.content_ids
        try:
            outgoing.append((row, digest_message(digest)))
        except Exception as error:  # one person's rendering must not stop the batch
            logger.exception("Digest %s could not be rendered", row.pk)
            _failed(row, error, now)
            finished.append(row)
    recorded: list[DigestDelivery] = []
    if outgoing:
        try:
            connection = get_connection()
            connection.open()
        except Exception as error:  # the mail server is down: the whole batch waits
            for row, _message in outgoing:
                _failed(row, error, now)
                finished.append(row)
        else:
            recorded += _finish(finished, token=token)  # what needs no email, at once
            finished = []
            try:
                for row, message in outgoing:
                    message.connection = connection
                    try:
                        # One message a call over the one connection: each row learns its
                        # own outcome (a batch call stops at the first refused address).
                        connection.send_messages([message])
                    except SoftTimeLimitExceeded:
                        raise  # the task is out of time: keep what is recorded, stop
                    except Exception as error:
                        _failed(row, error, now)
                    else:
                        row.status = DeliveryStatus.SENT
                    finished.append(row)
                    if len(finished) >= RECORD_EVERY:
                        # Sent is recorded as it goes: a worker killed mid-batch leaves at
                        # most a few emails unrecorded (sent again after the lease), not
                        # the whole batch.
                        recorded += _finish(finished, token=token)
                        finished = []
            finally:
                connection.close()
                recorded += _finish(finished, token=token)
            finished = []
    recorded += _finish(finished, token=token)
    counts: dict[int, dict[str, int]] = {}
    for row in recorded:
        bucket = counts.setdefault(row.organization_id, {"sent": 0, "skipped": 0, "failed": 0})
        if row.status == DeliveryStatus.SENT:
            bucket["sent"] += 1
            result.sent += 1
        elif row.status == DeliveryStatus.SKIPPED:
            bucket["skipped"] += 1
            result.skipped += 1
        elif row.status == DeliveryStatus.FAILED:
            bucket["failed"] += 1
            result.failed += 1
        else:
            result.retried += 1
    for organization_id, bucket in counts.items():
        DigestRun.objects.filter(pk=result.runs[organization_id].pk).update(
            sent=F("sent") + bucket["sent"],
            skipped=F("skipped") + bucket["skipped"],
            failed=F("failed") + bucket["failed"],
        )


def _failed(row: DigestDelivery, error: Exception, now: datetime) -> None:
    row.error = f"{type(error).__name__}: {error}"[:500]
    row.covered_until = None
    if row.attempts >= MAX_ATTEMPTS:
        row.status = DeliveryStatus.FAILED
    else:
        row.status = DeliveryStatus.PENDING
        row.next_attempt_at = now + RETRY_AFTER * row.attempts


def digests_send_due(
    *, now: datetime | None = None, batch_size: int = BATCH_SIZE, max_batches: int | None = None
) -> JobResult:
    """The beat job: write the due rows, then claim, build and send batch after batch
    until none is left or the time budget is spent (`more` tells that work remains)."""
    result = JobResult()
    if seeding_demo():
        return result
    now = now or timezone.now()
    result.created = deliveries_create_due(now=now)
    token = uuid.uuid4().hex
    builder = DigestBuilder(now=now)
    started = time.monotonic()
    batches = 0
    while True:
        if max_batches is not None and batches >= max_batches:
            result.more = True
            break
        if time.monotonic() - started > _time_budget():
            result.more = True
            break
        claimed = deliveries_claim(token=token, now=now, limit=batch_size)
        if not claimed:
            break
        batches += 1
        _batch_send(claimed, builder=builder, token=token, result=result)
    finished = timezone.now()
    for run in result.runs.values():
        DigestRun.objects.filter(pk=run.pk).update(finished_at=finished)
    return result


# --- demo data ------------------------------------------------------------------------------


def digest_demo_seed(
    sender: object = None, *, organization: Organization, **kwargs: object
) -> None:
    """The demo organisation's schedule and a few people's choices (idempotent; nothing
    is sent: rows are only ever written by the job)."""
    DigestSettings.objects.update_or_create(
        organization=organization,
        defaults={"default_frequency": Frequency.WEEKLY, "weekday": Weekday.MONDAY, "hour": 9},
    )
    employees = list(
        User.objects.filter(organization=organization, is_active=True, role=Role.EMPLOYEE).order_by(
            "pk"
        )[:3]
    )
    for user, frequency in zip(
        employees, (Frequency.DAILY, Frequency.WEEKLY, Frequency.NEVER), strict=False
    ):
        DigestPreference.objects.update_or_create(
            user=user, defaults={"frequency": frequency, "organization": organization}
        )
