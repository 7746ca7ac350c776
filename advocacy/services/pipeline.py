"""The share pipeline: dispatch, claim, publish, record; retries, recall and the sweeper.

Invariants (see docs/architecture.md):
- a share is claimed by one conditional UPDATE; zero rows means someone else has it;
- the network is called outside any transaction, and only after `request_sent_at` is
  committed, so a claim found abandoned tells whether the post may exist;
- only RetryLater (and failures before sending) are retried; an unknown outcome is
  reconciled with the network or shown to the employee, never posted again blindly.
"""

from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from advocacy.dropped_connections import on_live_connection
from advocacy.models import (
    ActivityKind,
    AttemptKind,
    Share,
    ShareAttempt,
    ShareMode,
    ShareStatus,
    SharingPause,
    SocialAccount,
)
from advocacy.networks import AdapterNotConfigured, adapter_for, package_for
from advocacy.networks.base import (
    CallRecord,
    NeedsReconnect,
    NetworkError,
    OutcomeUnknown,
    PermanentRejection,
    PostRequest,
    PublishedPost,
    RetryLater,
)
from advocacy.ratelimit import RateLimitUnavailable, rate_limit_acquire
from advocacy.services.accounts import account_credentials, account_mark_needs_reconnect
from advocacy.services.activity import activity_record, share_state_announce
from advocacy.services.dispatch import share_dispatch
from advocacy.services.network_apps import network_app_problem, network_app_problem_clear
from content.models import ContentStatus
from notifications.services import notification_create

logger = logging.getLogger(__name__)


# --- dispatch ---------------------------------------------------------------------------


def _backoff(attempt: int) -> float:
    """Exponential with jitter: between half and all of base × 2^(attempt-1), so that gaps
    grow and simultaneous failures do not come back together."""
    ceiling = settings.SHARE_RETRY_BASE_SECONDS * (2 ** max(0, attempt - 1))
    return ceiling * (0.5 + random.random() / 2)  # noqa: S311 - jitter, not security


def _reschedule(share_id: int, wait: float, *, recall: bool = False) -> None:
    """Put a share back for later: a short wait rides in the broker, a long one is stored
    for the sweeper (Redis redelivers messages held past its visibility timeout)."""
    if wait <= settings.SHARE_BROKER_MAX_WAIT_SECONDS:
        share_dispatch(share_id=share_id, countdown=wait, recall=recall)


def organization_paused(organization_id: int) -> bool:
    return SharingPause.objects.filter(
        organization_id=organization_id, paused_at__isnull=False
    ).exists()


def _limited(
    share_id: int, *, adapter: str, account_id: int, claim: datetime, recall: bool = False
) -> bool:
    """Take a call from the rate limits; when limited, release the claim (back in the
    queue without calling the network, and it is no attempt) and say so."""
    try:
        wait = rate_limit_acquire(
            adapter=adapter, account_key=str(account_id), action="delete" if recall else "post"
        )
    except RateLimitUnavailable:
        wait = 30.0
    if wait <= 0:
        return False
    Share.objects.filter(pk=share_id, claimed_at=claim).update(
        status=ShareStatus.RECALL_PENDING if recall else ShareStatus.SCHEDULED,
        next_attempt_at=timezone.now() + timedelta(seconds=wait),
        attempt_count=F("attempt_count") - 1,
    )
    _reschedule(share_id, wait, recall=recall)
    return True


# --- publish ----------------------------------------------------------------------------


@dataclass
class _Outcome:
    name: str
    call: CallRecord
    error: NetworkError | None = None
    post: PublishedPost | None = None


def _attempt_log(
    share_id: int, kind: str, outcome: _Outcome, started: datetime, duration: float
) -> None:
    ShareAttempt.objects.create(
        share_id=share_id,
        kind=kind,
        outcome=outcome.name,
        status_code=outcome.call.status_code,
        body=(outcome.call.body or (outcome.error.message if outcome.error else ""))[:500],
        duration_ms=int(duration * 1000),
        started_at=started,
    )


def _notify(share: Share, title: str, body: str) -> None:
    with translation.override(share.user.language):
        notification_create(
            recipient=share.user,
            kind="advocacy.share_problem",
            title=title % {"title": share.content.title, "network": share.get_network_display()},
            body=body,
            url="/shares/",
        )


def _paused_organizations() -> QuerySet[SharingPause, dict[str, Any]]:
    return SharingPause.objects.filter(paused_at__isnull=False).values("organization_id")


def _unclaimed(share_id: int) -> str:
    """Why a claim found nothing to take."""
    share = Share.objects.filter(pk=share_id).only("organization_id", "status").first()
    if share is None or share.status not in (ShareStatus.SCHEDULED, ShareStatus.PUBLISHING):
        return "not-scheduled"
    if share.status == ShareStatus.SCHEDULED and organization_paused(share.organization_id):
        return "paused"  # the sweeper sends it after the pause
    return "taken"  # someone else has it, or it is not due yet


def share_publish(*, share_id: int) -> str:
    """Publish one due share through its account's adapter. Returns what happened."""
    now = timezone.now()
    # The claim checks the pause itself: the common case costs one statement, and the
    # reason a claim failed is only looked up when it did.
    claimed = (
        Share.objects.filter(pk=share_id, status=ShareStatus.SCHEDULED, account__isnull=False)
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .exclude(organization_id__in=_paused_organizations())
        .update(
            status=ShareStatus.PUBLISHING,
            claimed_at=now,
            request_sent_at=None,
            attempt_count=F("attempt_count") + 1,
        )
    )
    if not claimed:
        return _unclaimed(share_id)
    share = Share.objects.select_related("account", "content", "user", "tracked_link").get(
        pk=share_id
    )
    content = share.content
    if content.status != ContentStatus.APPROVED or (
        content.expires_at is not None and content.expires_at <= now
    ):
        Share.objects.filter(pk=share_id, claimed_at=now).update(
            status=ShareStatus.CANCELLED,
            last_error=_("The content is no longer available to share."),
        )
        return "cancelled"
    account = share.account
    if account is None:  # disconnected since the claim
        Share.objects.filter(pk=share_id, claimed_at=now).update(
            status=ShareStatus.CANCELLED, last_error=_("The account was disconnected.")
        )
        return "cancelled"
    if _limited(share_id, adapter=account.adapter, account_id=account.pk, claim=now):
        return "rate-limited"

    started = timezone.now()
    clock = time.monotonic()
    outcome: _Outcome
    # Nothing is sent before the post itself: any failure to get the adapter or the
    # credentials (a refresh that timed out included) is safe to retry.
    try:
        if not package_for(account.adapter).configured(account.organization_id):
            # The org admin turned API posting off since (X bills each post).
            raise AdapterNotConfigured(
                _("Your organisation now shares to %(network)s by link only: share it again.")
                % {"network": share.get_network_display()}
            )
        adapter = adapter_for(account.adapter, organization_id=account.organization_id)
        credentials = account_credentials(account_id=account.pk)
    except AdapterNotConfigured as exc:
        outcome = _Outcome("rejected", CallRecord(), PermanentRejection(str(exc)))
    except (NeedsReconnect, SocialAccount.DoesNotExist) as exc:
        error = exc if isinstance(exc, NeedsReconnect) else NeedsReconnect(str(exc))
        outcome = _Outcome("needs_reconnect", error.call, error)
    except NetworkError as exc:
        # A refresh that failed before the post was sent: safe to try again (after the
        # wait the network asked for); an app problem keeps its name for the admin pages.
        retry = RetryLater(exc.message, retry_after=getattr(exc, "retry_after", 0.0), call=exc.call)
        retry.app_problem = exc.app_problem
        outcome = _Outcome("retry_later", exc.call, retry)
    else:
        # The last moment to notice a pause: a claimed share does not go out meanwhile.
        sent = (
            Share.objects.filter(pk=share_id, status=ShareStatus.PUBLISHING, claimed_at=now)
            .exclude(organization__sharing_pause__paused_at__isnull=False)
            .update(request_sent_at=timezone.now())
        )
        if not sent:
            released = Share.objects.filter(
                pk=share_id, status=ShareStatus.PUBLISHING, claimed_at=now
            ).update(status=ShareStatus.SCHEDULED, attempt_count=F("attempt_count") - 1)
            return "paused" if released else "taken"
        try:
            post = adapter.publish(credentials, _post_request(share))
            outcome = _Outcome("published", post.call, post=post)
        except OutcomeUnknown as exc:
            outcome = _Outcome("unknown", exc.call, exc)
            reconciled = _reconcile(share)
            if reconciled is not None:
                outcome = _Outcome("published", reconciled.call, exc, post=reconciled)
        except RetryLater as exc:
            outcome = _Outcome("retry_later", exc.call, exc)
        except NeedsReconnect as exc:
            outcome = _Outcome("needs_reconnect", exc.call, exc)
        except PermanentRejection as exc:
            outcome = _Outcome("rejected", exc.call, exc)
    if outcome.error is not None and outcome.error.app_problem:
        # Only the org admin or the operator can fix it: their pages say so.
        problem, detail = outcome.error.app_problem, outcome.error.message
        on_live_connection(
            lambda _attempt: network_app_problem(
                organization_id=account.organization_id,
                adapter=account.adapter,
                problem=problem,
                detail=detail,
            ),
            what=f"recording the app problem of share {share_id}",
        )
    result = _record_publish(
        share, claim=now, outcome=outcome, started=started, duration=time.monotonic() - clock
    )
    if result == "published":
        # A post went through: whatever the app's alert said is fixed now.
        network_app_problem_clear(organization_id=account.organization_id, adapter=account.adapter)
    return result


def _image_path(share: Share) -> str:
    """The content's image, in the rendition made for this network when there is one."""
    content = share.content
    if not content.image:
        return ""
    rendition = content.renditions.filter(name=share.network).first()
    try:
        return (rendition.file if rendition else content.image).path
    except (NotImplementedError, ValueError):  # a storage without local paths
        return ""


def _post_request(share: Share) -> PostRequest:
    content = share.content
    link_url = _tracked_url(share)
    return PostRequest(
        text=share.text,
        link_url=link_url,
        image_path=_image_path(share),
        idempotency_key=str(share.idempotency_key),
        link_title=(content.preview_title or content.title) if link_url else "",
        link_description=content.preview_description if link_url else "",
        # The link preview's image, fetched and cleaned when the preview was made.
        link_image_path=_file_path(content.preview_image) if link_url else "",
    )


def _file_path(field_file: object) -> str:
    try:
        return field_file.path if field_file else ""  # type: ignore[attr-defined]
    except (NotImplementedError, ValueError):  # a storage without local paths
        return ""


def _tracked_url(share: Share) -> str:
    link = getattr(share, "tracked_link", None)
    return f"{settings.SITE_URL}/s/{link.code}" if link else ""


def _reconcile(share: Share) -> PublishedPost | None:
    """Ask the network whether the post exists (when it can tell). Runs after a network
    call, when the database connection may have been dropped meanwhile."""
    if share.account is None:
        return None
    account = share.account

    def ask(_attempt: int) -> PublishedPost | None:
        try:
            credentials = account_credentials(account_id=account.pk)
            adapter = adapter_for(account.adapter, organization_id=share.organization_id)
            return adapter.find_post(credentials, _post_request(share))
        except (NetworkError, AdapterNotConfigured, SocialAccount.DoesNotExist):
            return None

    return on_live_connection(ask, what=f"reconciling share {share.pk}")


def _attempt_recorded(share_id: int, kind: str, started: datetime) -> bool:
    """Whether an earlier run of a recording committed before its connection dropped (the
    commit went through, its answer did not): then it is not written twice."""
    return ShareAttempt.objects.filter(share_id=share_id, kind=kind, started_at=started).exists()


def _record_publish(
    share: Share,
    *,
    claim: datetime,
    outcome: _Outcome,
    started: datetime,
    duration: float,
    kind: str = AttemptKind.PUBLISH,
) -> str:
    """Write the outcome in one short transaction; if the connection was dropped during the
    network call (or during this transaction), again on a new one: a post that went out is
    never forgotten, nor left `publishing` until the claim times out."""
    return on_live_connection(
        lambda attempt: _record_publish_once(
            share.pk,
            claim=claim,
            outcome=outcome,
            started=started,
            duration=duration,
            kind=kind,
            retried=attempt > 1,
        ),
        what=f"recording the outcome of share {share.pk}",
    )


def _record_publish_once(
    share_id: int,
    *,
    claim: datetime,
    outcome: _Outcome,
    started: datetime,
    duration: float,
    kind: str,
    retried: bool,
) -> str:
    with transaction.atomic():
        if retried and _attempt_recorded(share_id, kind, started):
            return "recorded"
        _attempt_log(share_id, kind, outcome, started, duration)
        # Lock the share alone: locking the joined content would serialise every
        # employee's share of the same content behind each other.
        current = (
            Share.objects.select_for_update(of=("self",)).select_related("content").get(pk=share_id)
        )
        if current.status != ShareStatus.PUBLISHING or current.claimed_at != claim:
            # Our claim was taken over after it timed out; the newer owner decides.
            return "claim-lost"
        now = timezone.now()
        if outcome.post is not None:
            current.status = ShareStatus.PUBLISHED
            current.external_id = outcome.post.external_id
            # Shown as a link: only a web address the network gave us.
            url = outcome.post.url
            current.external_url = url if url.lower().startswith(("https://", "http://")) else ""
            current.published_at = now
            current.last_error = ""
            current.save(
                update_fields=[
                    "status", "external_id", "external_url", "published_at", "last_error",
                    "updated_at",
                ]
            )  # fmt: skip
            activity_record(kind=ActivityKind.SHARE_PUBLISHED, share=current, occurred_at=now)
            share_state_announce(current.pk)
            if current.content.status == ContentStatus.WITHDRAWN:
                # Withdrawn while we were posting: delete it straight away.
                _recall_published(current)
            return "published"
        error = outcome.error
        assert error is not None
        current.last_error = error.message[:500]
        if outcome.name == "retry_later":
            assert isinstance(error, RetryLater)
            # A problem of the app (LinkedIn's expired API version) is not this share's:
            # it waits, without using up its attempts, until the operator fixes it.
            held = bool(error.app_problem)
            if current.attempt_count >= settings.SHARE_MAX_ATTEMPTS and not held:
                current.status = ShareStatus.FAILED
                current.save()
                share_state_announce(current.pk)
                _notify(
                    current,
                    _("Your share of “%(title)s” on %(network)s failed"),
                    _("The network kept failing; you can try again from My shares."),
                )
                return "failed"
            wait = (
                error.retry_after
                if held
                else max(error.retry_after, _backoff(current.attempt_count))
            )
            current.status = ShareStatus.SCHEDULED
            current.request_sent_at = None
            current.next_attempt_at = now + timedelta(seconds=wait)
            current.save()
            _reschedule(share_id, wait)
            return "retry"
        if outcome.name == "needs_reconnect":
            current.status = ShareStatus.NEEDS_RECONNECT
            current.save()
            if current.account_id:
                account_mark_needs_reconnect(account_id=current.account_id, reason=error.message)
            return "needs-reconnect"
        if outcome.name == "rejected":
            current.status = ShareStatus.FAILED
            current.save()
            share_state_announce(current.pk)
            _notify(current, _("%(network)s refused your share of “%(title)s”"), error.message)
            return "failed"
        current.status = ShareStatus.OUTCOME_UNKNOWN
        current.save()
        share_state_announce(current.pk)
        _notify(
            current,
            _("Check your %(network)s profile: did “%(title)s” go out?"),
            _(
                "The network did not answer in time. Look at your profile, then tell us in My "
                "shares whether the post is there; we will not post it again on our own."
            ),
        )
        return "unknown"


# --- recall -----------------------------------------------------------------------------


def _recall_published(share: Share) -> None:
    """Inside a transaction: a published API share goes to deletion."""
    activity_record(kind=ActivityKind.SHARE_RECALLED, share=share, occurred_at=timezone.now())
    Share.objects.filter(pk=share.pk).update(
        status=ShareStatus.RECALL_PENDING,
        attempt_count=0,
        next_attempt_at=timezone.now(),
    )
    share_state_announce(share.pk)
    share_dispatch(share_id=share.pk, recall=True)


def _recall_ask(share_id: int, *, claim: datetime) -> None:
    with transaction.atomic():
        share = (
            Share.objects.select_for_update(of=("self",))
            .select_related("content", "user")
            .filter(pk=share_id, claimed_at=claim, status=ShareStatus.RECALLING)
            .first()
        )
        if share is None:
            return
        share.status = ShareStatus.RECALL_FAILED
        share.last_error = _("The account was disconnected.")
        share.save()
        share_state_announce(share.pk)
        _notify(
            share,
            _("Please delete your %(network)s post of “%(title)s”"),
            _(
                "The content was withdrawn; your account is no longer connected, so please "
                "delete the post from your profile."
            ),
        )


def share_delete(*, share_id: int) -> str:
    """Delete a recalled share's post. Deleting is idempotent (a post already gone counts
    as deleted), so an unknown outcome is simply tried again."""
    now = timezone.now()
    claimed = (
        Share.objects.filter(pk=share_id, status=ShareStatus.RECALL_PENDING)
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .update(status=ShareStatus.RECALLING, claimed_at=now, attempt_count=F("attempt_count") + 1)
    )
    if not claimed:
        return "taken"
    share = Share.objects.select_related("account", "content", "user").get(pk=share_id)
    account = share.account
    if account is None:  # disconnected since: only the employee can delete it now
        _recall_ask(share_id, claim=now)
        return "asked"
    if _limited(share_id, adapter=account.adapter, account_id=account.pk, claim=now, recall=True):
        return "rate-limited"
    started, clock = timezone.now(), time.monotonic()
    try:
        credentials = account_credentials(account_id=account.pk)
        adapter = adapter_for(account.adapter, organization_id=account.organization_id)
        call = adapter.delete(credentials, share.external_id)
        outcome = _Outcome("deleted", call)
    except (RetryLater, OutcomeUnknown) as exc:
        outcome = _Outcome("retry_later", exc.call, exc)
    except (NeedsReconnect, PermanentRejection) as exc:
        outcome = _Outcome("refused", exc.call, exc)
    except (AdapterNotConfigured, SocialAccount.DoesNotExist) as exc:
        outcome = _Outcome("refused", CallRecord(), PermanentRejection(str(exc)))
    duration = time.monotonic() - clock
    return on_live_connection(
        lambda attempt: _record_delete_once(
            share_id,
            claim=now,
            outcome=outcome,
            started=started,
            duration=duration,
            retried=attempt > 1,
        ),
        what=f"recording the deletion of share {share_id}",
    )


def _record_delete_once(
    share_id: int,
    *,
    claim: datetime,
    outcome: _Outcome,
    started: datetime,
    duration: float,
    retried: bool,
) -> str:
    """The deletion's outcome, in one short transaction (see `_record_publish`)."""
    with transaction.atomic():
        if retried and _attempt_recorded(share_id, AttemptKind.DELETE, started):
            return "recorded"
        _attempt_log(share_id, AttemptKind.DELETE, outcome, started, duration)
        current = (
            Share.objects.select_for_update(of=("self",))
            .select_related("content", "user")
            .get(pk=share_id)
        )
        if current.status != ShareStatus.RECALLING or current.claimed_at != claim:
            return "claim-lost"
        if outcome.name == "deleted":
            current.status = ShareStatus.RECALLED
            current.last_error = ""
            current.save()
            share_state_announce(current.pk)
            return "deleted"
        error = outcome.error
        assert error is not None
        current.last_error = error.message[:500]
        if outcome.name == "retry_later" and current.attempt_count < settings.SHARE_MAX_ATTEMPTS:
            wait = max(getattr(error, "retry_after", 0.0), _backoff(current.attempt_count))
            current.status = ShareStatus.RECALL_PENDING
            current.next_attempt_at = timezone.now() + timedelta(seconds=wait)
            current.save()
            _reschedule(share_id, wait, recall=True)
            return "retry"
        current.status = ShareStatus.RECALL_FAILED
        current.save()
        share_state_announce(current.pk)
        _notify(
            current,
            _("Please delete your %(network)s post of “%(title)s”"),
            _(
                "The content was withdrawn and we could not delete your post (%(error)s). "
                "Please delete it from your profile."
            )
            % {"error": error.message},
        )
        return "recall-failed"


# --- the sweeper ------------------------------------------------------------------------


def shares_sweep(*, now: datetime | None = None, batch: int = 200) -> dict[str, int]:
    """Once a minute: send every due share whose message was lost (or never sent, or held
    by a pause), and take back claims abandoned by a dead worker."""
    now = now or timezone.now()
    counts = {"dispatched": 0, "recovered": 0}
    stale = now - timedelta(seconds=settings.SHARE_CLAIM_TIMEOUT_SECONDS)
    for share_id in Share.objects.filter(
        status__in=[ShareStatus.PUBLISHING, ShareStatus.RECALLING], claimed_at__lt=stale
    ).values_list("pk", flat=True)[:batch]:
        try:
            counts["recovered"] += _recover(share_id, stale, now)
        except Exception:
            # One bad row must not stop the sweep for everyone else.
            logger.exception("Could not recover share %s", share_id)

    # Recall's safety net: a post that went out while its content was being withdrawn.
    for share_id in (
        Share.objects.filter(
            status=ShareStatus.PUBLISHED,
            mode=ShareMode.API,
            content__status=ContentStatus.WITHDRAWN,
            account__isnull=False,
        )
        .exclude(external_id="")
        .values_list("pk", flat=True)[:batch]
    ):
        with transaction.atomic():
            share = (
                Share.objects.select_for_update(of=("self",))
                .filter(pk=share_id, status=ShareStatus.PUBLISHED)
                .first()
            )
            if share is not None:
                _recall_published(share)
                counts["recalled"] = counts.get("recalled", 0) + 1

    redispatch = now - timedelta(seconds=settings.SHARE_REDISPATCH_AFTER_SECONDS)
    with transaction.atomic():
        due = list(
            Share.objects.select_for_update(skip_locked=True)
            .filter(
                Q(status=ShareStatus.SCHEDULED, account__isnull=False)
                | Q(status=ShareStatus.RECALL_PENDING),
                next_attempt_at__lte=now,
            )
            .filter(Q(dispatched_at__isnull=True) | Q(dispatched_at__lte=redispatch))
            # A subquery, not a join: PostgreSQL refuses FOR UPDATE on an outer join.
            # Paused organisations post nothing; deletions still go out (crisis recall).
            .exclude(
                status=ShareStatus.SCHEDULED,
                organization_id__in=SharingPause.objects.filter(paused_at__isnull=False).values(
                    "organization_id"
                ),
            )
            .order_by("next_attempt_at")
            .values_list("pk", "status")[:batch]
        )
        for share_id, status in due:
            share_dispatch(share_id=share_id, recall=status == ShareStatus.RECALL_PENDING)
        counts["dispatched"] = len(due)
    return counts


def _recover(share_id: int, stale: datetime, now: datetime) -> int:
    """A claim older than any task may run: its worker died. Never sent: due again. Sent:
    ask the network; without an answer the employee decides."""
    with transaction.atomic():
        share = (
            # Only the share row: PostgreSQL refuses FOR UPDATE on the nullable account join.
            Share.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(pk=share_id, claimed_at__lt=stale)
            .select_related("account", "content", "user")
            .first()
        )
        if share is None:
            return 0
        if share.status == ShareStatus.RECALLING:
            share.status = ShareStatus.RECALL_PENDING
            # Due at the sweep's own time, so that this same sweep dispatches it.
            share.next_attempt_at = now
            share.dispatched_at = None
            share.save()
            return 1
        if share.status != ShareStatus.PUBLISHING:
            return 0
        if share.request_sent_at is None and share.account_id is None:
            share.status = ShareStatus.CANCELLED
            share.last_error = _("The account was disconnected.")
            share.save()
            return 1
        if share.request_sent_at is None:
            share.status = ShareStatus.SCHEDULED
            share.next_attempt_at = now
            share.dispatched_at = None
            share.save()
            return 1
        claim = share.claimed_at
    # Sent before the worker died: the network alone knows. Asked outside the lock.
    started, clock = timezone.now(), time.monotonic()
    found = _reconcile(share)
    outcome = (
        _Outcome("published", found.call, post=found)
        if found
        else _Outcome(
            "unknown", CallRecord(), OutcomeUnknown(_("The worker stopped after sending the post."))
        )
    )
    assert claim is not None
    # Written like a publish outcome, for the claim we found.
    _record_publish(
        share,
        claim=claim,
        outcome=outcome,
        started=started,
        duration=time.monotonic() - clock,
        kind=AttemptKind.RECONCILE,
    )
    return 1
