"""The outbox of channel messages: enqueue, dispatch, send, record, sweep, resend.

Invariants (as for shares, docs/architecture.md):
- one row per (destination, event), unique by its idempotency key: an event heard twice
  makes one row;
- a row is claimed by one conditional UPDATE (pending → sending); zero rows means someone
  else has it;
- `request_sent_at` is committed before the network call, which runs outside any
  transaction; the outcome is written in a new short transaction, with an attempt row;
- a claim found abandoned (its worker died) goes back to pending only if nothing was sent;
  otherwise the message is "unknown": neither Slack nor a Workflows webhook is idempotent,
  so it is never posted again on our own, and the admin resends with one click;
- long waits (Retry-After) live in `next_attempt_at`; the sweeper sends what is due.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.http import HttpRequest
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from advocacy.models import SharingPause
from advocacy.token_vault import token_decrypt
from content.models import Content, Lifecycle
from messaging import composer
from messaging.delivery import (
    SCOPE_CONNECTION,
    Broken,
    Delivered,
    DeliveryError,
    OutcomeUnknown,
    Rejected,
    RetryLater,
)
from messaging.failures import failure_text
from messaging.models import (
    ChannelAttempt,
    ChannelMessage,
    ConnectionStatus,
    Destination,
    DestinationKind,
    DestinationStatus,
    EventKind,
    MessageStatus,
    SlackConnection,
)
from messaging.slack import slack_post
from messaging.teams import teams_post
from notifications.services import notification_create_many
from organizations.audit import audit_record
from organizations.errors import ConflictError, DomainError, PermissionDeniedError
from organizations.models import Organization, Role, User

logger = logging.getLogger(__name__)

KIND_CHANNEL_BROKEN = "messaging.channel_broken"


def _setting(name: str, default: float) -> float:
    return float(getattr(settings, name, default))


def max_attempts() -> int:
    return int(_setting("MESSAGING_MAX_ATTEMPTS", 6))


def retry_base_seconds() -> float:
    return _setting("MESSAGING_RETRY_BASE_SECONDS", 30)


def broker_max_wait() -> float:
    return _setting("MESSAGING_BROKER_MAX_WAIT_SECONDS", settings.SHARE_BROKER_MAX_WAIT_SECONDS)


def claim_timeout() -> float:
    return _setting("MESSAGING_CLAIM_TIMEOUT_SECONDS", settings.SHARE_CLAIM_TIMEOUT_SECONDS)


def redispatch_after() -> float:
    return _setting("MESSAGING_REDISPATCH_AFTER_SECONDS", settings.SHARE_REDISPATCH_AFTER_SECONDS)


def _backoff(attempt: int) -> float:
    ceiling = retry_base_seconds() * (2 ** max(0, attempt - 1))
    return ceiling * (0.5 + random.random() / 2)  # noqa: S311 - jitter, not security


# --- enqueue and dispatch -----------------------------------------------------------------


def _enqueue(message_id: int, countdown: float) -> None:
    from messaging import tasks

    try:
        # One attempt, no retry: the row is the outbox, and the sweeper sends it when the
        # broker was down.
        tasks.send_message.apply_async(args=[message_id], countdown=countdown or None, retry=False)
    except Exception:
        logger.warning("Could not enqueue channel message %s; the sweeper will", message_id)


def message_dispatch(*, message_id: int, countdown: float = 0.0) -> None:
    """Hand the message to a worker once the current transaction commits; remembered on
    the row so that the sweeper does not send it as well."""
    ChannelMessage.objects.filter(pk=message_id).update(
        dispatched_at=timezone.now() + timedelta(seconds=countdown)
    )
    transaction.on_commit(lambda: _enqueue(message_id, countdown), robust=True)


def messages_enqueue(
    *,
    organization: Organization,
    event: str,
    ref: str,
    destinations: list[Destination],
    compose: Callable[[], composer.Composed],
) -> list[ChannelMessage]:
    """One message per destination for this event (`ref` names it: a content's id, a
    week), written in the organisation's default language. An event heard again creates
    nothing: the idempotency key is unique. Returns the rows created now."""
    if not destinations:
        return []
    with translation.override(organization.default_language or settings.LANGUAGE_CODE):
        composed = compose()
    slack_payload = composer.slack_message(composed)
    teams_payload = composer.teams_message(composed)
    created: list[ChannelMessage] = []
    for destination in destinations:
        key = f"{event}:{ref}:{destination.pk}"
        payload = slack_payload if destination.kind == DestinationKind.SLACK else teams_payload
        try:
            with transaction.atomic():
                message, made = ChannelMessage.objects.get_or_create(
                    idempotency_key=key,
                    defaults={
                        "organization_id": organization.pk,
                        "destination": destination,
                        "event": event,
                        "title": f"{composed.kicker}: {composed.title}"[:300],
                        "payload": payload,
                        "next_attempt_at": timezone.now(),
                    },
                )
        except IntegrityError:
            continue  # another worker wrote it between our read and our insert
        if made:
            message_dispatch(message_id=message.pk)
            created.append(message)
    return created


# --- send ---------------------------------------------------------------------------------


def _attempt_log(
    message_id: int,
    outcome: str,
    *,
    started: datetime,
    duration: float,
    error: DeliveryError | None = None,
    status_code: int | None = None,
) -> None:
    ChannelAttempt.objects.create(
        message_id=message_id,
        outcome=outcome,
        failure=error.failure if error else "",
        status_code=error.status_code if error else status_code,
        detail=error.detail if error else "",
        started_at=started,
        duration_ms=int(duration * 1000),
    )


def _call(message: ChannelMessage, connection: SlackConnection | None) -> Delivered:
    destination = message.destination
    if destination.kind == DestinationKind.SLACK:
        assert connection is not None
        token = token_decrypt(connection.bot_token)
        if not token:
            # A key was dropped too early: the token cannot be read, as good as revoked.
            raise Broken("token_unreadable", scope=SCOPE_CONNECTION)
        return slack_post(
            token=token,
            channel=destination.slack_channel_id,
            text=str(message.payload.get("text", "")),
            blocks=list(message.payload.get("blocks", [])),
        )
    url = token_decrypt(destination.webhook_url)
    if not url:
        raise Broken("token_unreadable", scope="destination")
    return teams_post(url=url, payload=message.payload)


def _not_sendable(message: ChannelMessage, connection: SlackConnection | None) -> str:
    """Why a message cannot go out without the admin (checked before any call)."""
    if message.event == EventKind.CONTENT_PUBLISHED:
        # A post announced with a Share button must still be shareable when the message
        # leaves (a retry after a 429, the sweeper, a resend): not after a recall or during
        # the crisis pause.
        reason = _content_not_shareable(message)
        if reason:
            return reason
    destination = message.destination
    if destination.status == DestinationStatus.BROKEN:
        return "destination_broken"
    if destination.kind == DestinationKind.SLACK:
        if connection is None:
            return "not_connected"
        if connection.status == ConnectionStatus.BROKEN:
            return "connection_broken"
    return ""


def _content_not_shareable(message: ChannelMessage) -> str:
    content_id = message.idempotency_key.split(":")[-2]  # "<event>:<content id>:<destination>"
    content = Content.objects.filter(
        pk=int(content_id) if content_id.isdigit() else 0,
        organization_id=message.organization_id,
    ).first()
    if content is None or content.lifecycle != Lifecycle.PUBLISHED:
        return "content_unavailable"
    if SharingPause.objects.filter(
        organization_id=message.organization_id, paused_at__isnull=False
    ).exists():
        return "sharing_paused"
    return ""


def message_send(*, message_id: int) -> str:
    """Send one due message. Returns what happened."""
    now = timezone.now()
    claimed = (
        ChannelMessage.objects.filter(pk=message_id, status=MessageStatus.PENDING)
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .update(
            status=MessageStatus.SENDING,
            claimed_at=now,
            request_sent_at=None,
            attempt_count=F("attempt_count") + 1,
        )
    )
    if not claimed:
        return "taken"
    message = ChannelMessage.objects.select_related("destination").get(pk=message_id)
    connection = (
        SlackConnection.objects.filter(organization_id=message.organization_id).first()
        if message.destination.kind == DestinationKind.SLACK
        else None
    )
    started, clock = timezone.now(), time.monotonic()
    reason = _not_sendable(message, connection)
    if reason:
        return _record(
            message_id,
            claim=now,
            outcome="blocked",
            error=Rejected(reason),
            started=started,
            duration=0.0,
        )
    # Committed before the call: a claim found abandoned later knows it may have been sent.
    sent = ChannelMessage.objects.filter(
        pk=message_id, status=MessageStatus.SENDING, claimed_at=now
    ).update(request_sent_at=timezone.now())
    if not sent:
        return "taken"
    error: DeliveryError | None = None
    delivered: Delivered | None = None
    try:
        delivered = _call(message, connection)
    except DeliveryError as exc:
        error = exc
    except Exception as exc:  # a bug in a transport must not leave the row "sending"
        logger.exception("Channel message %s: unexpected failure", message_id)
        error = OutcomeUnknown("timeout", type(exc).__name__)  # its text may hold secrets
    return _record(
        message_id,
        claim=now,
        outcome="sent" if delivered else type(error).__name__.lower(),
        error=error,
        delivered=delivered,
        started=started,
        duration=time.monotonic() - clock,
    )


def _record(
    message_id: int,
    *,
    claim: datetime,
    outcome: str,
    started: datetime,
    duration: float,
    error: DeliveryError | None = None,
    delivered: Delivered | None = None,
) -> str:
    """The outcome, in one short transaction."""
    broken: Broken | None = None
    with transaction.atomic():
        _attempt_log(
            message_id,
            outcome,
            started=started,
            duration=duration,
            error=error,
            status_code=delivered.status_code if delivered else None,
        )
        current = (
            ChannelMessage.objects.select_for_update(of=("self",))
            .select_related("destination")
            .get(pk=message_id)
        )
        if current.status != MessageStatus.SENDING or current.claimed_at != claim:
            return "claim-lost"  # the sweeper took it over; it decides
        now = timezone.now()
        if delivered is not None:
            current.status = MessageStatus.SENT
            current.sent_at = now
            current.external_id = delivered.external_id[:100]
            current.failure = current.detail = ""
            current.save()
            return "sent"
        assert error is not None
        current.failure = error.failure
        current.detail = error.detail
        if isinstance(error, RetryLater):
            if error.retry_after is not None:
                # The service said when: that wait is honoured, and it uses up no attempt.
                wait = error.retry_after
                current.attempt_count = max(0, current.attempt_count - 1)
            elif current.attempt_count >= max_attempts():
                current.status = MessageStatus.FAILED
                current.save()
                return "failed"
            else:
                wait = _backoff(current.attempt_count)
            current.status = MessageStatus.PENDING
            current.request_sent_at = None
            current.next_attempt_at = now + timedelta(seconds=wait)
            current.dispatched_at = None
            current.save()
            if wait <= broker_max_wait():
                message_dispatch(message_id=message_id, countdown=wait)
            return "retry"
        if isinstance(error, OutcomeUnknown):
            current.status = MessageStatus.UNKNOWN
            current.save()
            return "unknown"
        current.status = MessageStatus.FAILED
        current.save()
        if isinstance(error, Broken):
            broken = error
            _mark_broken(current, error)
    if broken is not None:
        return "broken"
    return "failed"


def _mark_broken(message: ChannelMessage, error: Broken) -> None:
    """Inside the recording transaction: the connection or the destination needs the
    admin; they are told once, when it breaks."""
    now = timezone.now()
    destination = message.destination
    if error.scope == SCOPE_CONNECTION:
        changed = (
            SlackConnection.objects.filter(organization_id=message.organization_id)
            .exclude(status=ConnectionStatus.BROKEN)
            .update(status=ConnectionStatus.BROKEN, problem=error.failure, broken_at=now)
        )
        what = _("the Slack connection")
    else:
        changed = (
            Destination.objects.filter(pk=destination.pk)
            .exclude(status=DestinationStatus.BROKEN)
            .update(status=DestinationStatus.BROKEN, problem=error.failure, broken_at=now)
        )
        what = destination.label
    if changed:
        _tell_admins(message.organization_id, what=what, failure=error.failure)


def _tell_admins(organization_id: int, *, what: str, failure: str) -> None:
    from django.urls import reverse

    admins = list(
        User.objects.filter(
            organization_id=organization_id, role=Role.ORG_ADMIN, is_active=True
        ).only("id", "organization_id", "language", "is_active")
    )
    by_language: dict[str, list[User]] = {}
    for admin in admins:
        by_language.setdefault(admin.language, []).append(admin)
    for language, people in by_language.items():
        with translation.override(language or None):
            notification_create_many(
                recipients=people,
                kind=KIND_CHANNEL_BROKEN,
                title=_("Slack and Teams: %(what)s stopped working") % {"what": what},
                body=str(failure_text(failure)),
                url=reverse("channels_admin"),
            )


# --- the sweeper --------------------------------------------------------------------------


def messages_sweep(*, now: datetime | None = None, batch: int = 200) -> dict[str, int]:
    """Once a minute: take back claims abandoned by a dead worker, and dispatch every due
    message whose task was lost, never sent, or waited for a Retry-After."""
    now = now or timezone.now()
    counts = {"recovered": 0, "unknown": 0, "dispatched": 0}
    stale = now - timedelta(seconds=claim_timeout())
    for message_id in ChannelMessage.objects.filter(
        status=MessageStatus.SENDING, claimed_at__lt=stale
    ).values_list("pk", flat=True)[:batch]:
        with transaction.atomic():
            message = (
                ChannelMessage.objects.select_for_update(skip_locked=True)
                .filter(pk=message_id, status=MessageStatus.SENDING, claimed_at__lt=stale)
                .first()
            )
            if message is None:
                continue
            if message.request_sent_at is None:
                # The worker died before calling: nothing went out, send it again.
                message.status = MessageStatus.PENDING
                message.next_attempt_at = now
                message.dispatched_at = None
                message.save()
                counts["recovered"] += 1
            else:
                message.status = MessageStatus.UNKNOWN
                message.failure = "worker_stopped"
                message.detail = ""
                message.save()
                counts["unknown"] += 1

    redispatch = now - timedelta(seconds=redispatch_after())
    with transaction.atomic():
        due = list(
            ChannelMessage.objects.select_for_update(skip_locked=True)
            .filter(status=MessageStatus.PENDING)
            .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
            .filter(Q(dispatched_at__isnull=True) | Q(dispatched_at__lte=redispatch))
            .order_by("next_attempt_at")
            .values_list("pk", flat=True)[:batch]
        )
        for message_id in due:
            message_dispatch(message_id=message_id)
        counts["dispatched"] = len(due)
    return counts


# --- the admin's resend -------------------------------------------------------------------


def message_resend(
    *, actor: User, message: ChannelMessage, request: HttpRequest | None = None
) -> ChannelMessage:
    """Send a failed message, or one whose outcome is unknown, again: the admin checked the
    channel. The destination is given another chance with it."""
    if not actor.is_org_admin or actor.organization_id is None:
        raise PermissionDeniedError(_("Only organisation administrators can do this."))
    if message.organization_id != actor.organization_id:
        raise DomainError(_("This message belongs to another organisation."))
    with transaction.atomic():
        destination = Destination.objects.select_for_update().get(pk=message.destination_id)
        if destination.kind == DestinationKind.SLACK:
            connection = SlackConnection.objects.filter(
                organization_id=actor.organization_id
            ).first()
            if connection is None or connection.status == ConnectionStatus.BROKEN:
                raise DomainError(_("Connect Slack again first: its token no longer works."))
        updated = ChannelMessage.objects.filter(
            pk=message.pk, status__in=(MessageStatus.FAILED, MessageStatus.UNKNOWN)
        ).update(
            status=MessageStatus.PENDING,
            attempt_count=0,
            next_attempt_at=timezone.now(),
            claimed_at=None,
            request_sent_at=None,
            failure="",
            detail="",
            resent_count=F("resent_count") + 1,
        )
        if not updated:
            raise ConflictError(_("This message is no longer waiting for a decision."))
        if destination.status == DestinationStatus.BROKEN:
            destination.status = DestinationStatus.ACTIVE
            destination.problem = ""
            destination.broken_at = None
            destination.save(update_fields=["status", "problem", "broken_at", "updated_at"])
        message_dispatch(message_id=message.pk)
        audit_record(
            action="channels.message_resent",
            organization=actor.organization,
            actor=actor,
            target=message,
            request=request,
            details={"destination": destination.label},
        )
    message.refresh_from_db()
    return message
