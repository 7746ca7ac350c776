"""Sending channel messages against the loopback fakes: success, each failure mode, the
Retry-After of a rate limit, back-off, idempotency, and a worker killed mid-call."""

from __future__ import annotations

import socket
from datetime import timedelta

import pytest
from django.utils import timezone

from messaging import composer
from messaging.models import (
    ChannelAttempt,
    ChannelMessage,
    ConnectionStatus,
    DestinationStatus,
    MessageStatus,
    SlackConnection,
)
from messaging.outbox import message_resend, message_send, messages_enqueue, messages_sweep
from notifications.models import Notification
from tests.content.factories import ContentFactory
from tests.messaging.conftest import slack_destination, teams_destination

pytestmark = pytest.mark.django_db


def _enqueue(personas, destination, content=None):
    # A published post: a message about one that is withdrawn by now is not sent.
    content = content or ContentFactory(organization=personas.organization)
    rows = messages_enqueue(
        organization=personas.organization,
        event="content.published",
        ref=str(content.pk),
        destinations=[destination],
        compose=lambda: composer.Composed(
            kicker="New to share", title="Our new lab", button_label="Share",
            button_url="https://portevoix.example/share/1/",
        ),
    )  # fmt: skip
    return rows[0] if rows else None


def _reload(message):
    message.refresh_from_db()
    return message


# --- Slack ---------------------------------------------------------------------------------


def test_a_slack_message_is_posted_once_with_its_blocks(personas, connected, fake_slack):
    destination = slack_destination(personas)
    message = _enqueue(personas, destination)
    assert message_send(message_id=message.pk) == "sent"
    message = _reload(message)
    assert message.status == MessageStatus.SENT
    assert message.external_id == fake_slack.posted[0].ts
    posted = fake_slack.posted[0]
    assert posted.channel == "C0123456789"
    assert posted.text.startswith("New to share: Our new lab")
    assert posted.blocks[-1]["elements"][0]["url"] == "https://portevoix.example/share/1/"
    # Sent is sent: a second task for the same row does nothing.
    assert message_send(message_id=message.pk) == "taken"
    assert len(fake_slack.posted) == 1
    assert ChannelAttempt.objects.filter(message=message, outcome="sent").count() == 1


def test_an_event_heard_twice_makes_one_row(personas, connected):
    destination = slack_destination(personas)
    content = ContentFactory(organization=personas.organization)
    assert _enqueue(personas, destination, content) is not None
    assert _enqueue(personas, destination, content) is None
    assert ChannelMessage.objects.filter(destination=destination).count() == 1


@pytest.mark.parametrize("error", ["invalid_auth", "token_revoked", "account_inactive"])
def test_a_dead_token_breaks_the_connection_and_tells_the_admins(
    personas, connected, fake_slack, error
):
    destination = slack_destination(personas)
    message = _enqueue(personas, destination)
    fake_slack.fail_next(error)
    assert message_send(message_id=message.pk) == "broken"
    message = _reload(message)
    assert (message.status, message.failure) == (MessageStatus.FAILED, error)
    connection = SlackConnection.objects.get(organization=personas.organization)
    assert connection.status == ConnectionStatus.BROKEN
    notes = Notification.objects.filter(kind="messaging.channel_broken")
    assert list(notes.values_list("recipient_id", flat=True)) == [personas.owner.pk]
    assert "Slack connection" in notes.get().title
    # No retry: nothing is due, and a second message is refused before any call.
    assert message.next_attempt_at <= timezone.now()
    other = _enqueue(personas, destination)
    assert message_send(message_id=other.pk) == "failed"
    assert _reload(other).failure == "connection_broken"
    assert len(fake_slack.posted) == 0
    assert fake_slack.calls.count("chat.postMessage") == 1


@pytest.mark.parametrize("error", ["channel_not_found", "is_archived", "not_in_channel"])
def test_a_lost_channel_breaks_the_destination_only(personas, connected, fake_slack, error):
    destination = slack_destination(personas)
    message = _enqueue(personas, destination)
    fake_slack.fail_next(error)
    assert message_send(message_id=message.pk) == "broken"
    assert _reload(message).failure == error
    destination.refresh_from_db()
    assert (destination.status, destination.problem) == (DestinationStatus.BROKEN, error)
    connection = SlackConnection.objects.get(organization=personas.organization)
    assert connection.status == ConnectionStatus.CONNECTED
    assert Notification.objects.filter(kind="messaging.channel_broken").count() == 1


def test_an_archived_channel_answers_as_slack_does(personas, connected, fake_slack):
    fake_slack.archive("C0ARCHIVED1")
    destination = slack_destination(personas, channel="C0ARCHIVED1")
    message = _enqueue(personas, destination)
    assert message_send(message_id=message.pk) == "broken"
    assert _reload(message).failure == "is_archived"


def test_a_rate_limit_is_honoured_to_the_second_and_uses_no_attempt(
    personas, connected, fake_slack, time_machine
):
    time_machine.move_to(timezone.now(), tick=False)
    destination = slack_destination(personas)
    message = _enqueue(personas, destination)
    fake_slack.rate_limit_next(retry_after=600)
    assert message_send(message_id=message.pk) == "retry"
    message = _reload(message)
    assert message.status == MessageStatus.PENDING
    assert message.failure == "rate_limited"
    assert message.attempt_count == 0
    assert message.next_attempt_at == timezone.now() + timedelta(seconds=600)
    # Not due before then: neither a task nor the sweeper sends it.
    assert message_send(message_id=message.pk) == "taken"
    assert messages_sweep()["dispatched"] == 0
    time_machine.shift(timedelta(seconds=601))
    assert messages_sweep()["dispatched"] == 1
    assert message_send(message_id=message.pk) == "sent"
    assert len(fake_slack.posted) == 1


def test_server_errors_back_off_then_give_up(personas, connected, fake_slack, time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    destination = slack_destination(personas)
    message = _enqueue(personas, destination)
    fake_slack.server_error_next(status=503, times=3)
    waits = []
    for _attempt in range(2):
        assert message_send(message_id=message.pk) == "retry"
        message = _reload(message)
        waits.append((message.next_attempt_at - timezone.now()).total_seconds())
        time_machine.shift(timedelta(seconds=waits[-1] + 1))
    assert 5 <= waits[0] <= 10 and 10 <= waits[1] <= 20  # base 10 s, doubling, jittered
    assert message_send(message_id=message.pk) == "failed"  # third attempt: the limit
    message = _reload(message)
    assert (message.status, message.failure) == (MessageStatus.FAILED, "server_error")
    assert message.attempts.count() == 3
    assert len(fake_slack.posted) == 0


def test_a_refused_connection_is_retried(personas, connected, settings):
    settings.SLACK_API_BASE_URL = "http://127.0.0.1:9/api/"  # nothing listens on port 9
    destination = slack_destination(personas)
    message = _enqueue(personas, destination)
    assert message_send(message_id=message.pk) == "retry"
    assert _reload(message).failure == "network"


def test_a_timeout_after_sending_is_unknown_and_never_posted_again(personas, connected, fake_slack):
    destination = slack_destination(personas)
    message = _enqueue(personas, destination)
    fake_slack.hang_next(2.5)  # the client gives up after 1 s; the message is posted
    assert message_send(message_id=message.pk) == "unknown"
    message = _reload(message)
    assert (message.status, message.failure) == (MessageStatus.UNKNOWN, "timeout")
    assert messages_sweep()["dispatched"] == 0
    assert message_send(message_id=message.pk) == "taken"
    assert len(fake_slack.posted) == 1
    # The admin looked: one click sends it again.
    message_resend(actor=personas.owner, message=message)
    assert message_send(message_id=message.pk) == "sent"
    assert len(fake_slack.posted) == 2


def test_a_worker_killed_after_sending_leaves_the_message_unknown(
    personas, connected, fake_slack, time_machine
):
    """Killed between the call and the record: the row is `sending` with request_sent_at;
    once the lease has expired the sweeper marks it unknown, and nothing posts it again."""
    time_machine.move_to(timezone.now(), tick=False)
    destination = slack_destination(personas)
    message = _enqueue(personas, destination)
    now = timezone.now()
    ChannelMessage.objects.filter(pk=message.pk).update(
        status=MessageStatus.SENDING, claimed_at=now, request_sent_at=now, attempt_count=1
    )
    assert messages_sweep() == {"recovered": 0, "unknown": 0, "dispatched": 0}  # lease runs
    time_machine.shift(timedelta(hours=1))
    assert messages_sweep()["unknown"] == 1
    message = _reload(message)
    assert (message.status, message.failure) == (MessageStatus.UNKNOWN, "worker_stopped")
    assert message_send(message_id=message.pk) == "taken"
    assert messages_sweep()["dispatched"] == 0
    assert fake_slack.calls.count("chat.postMessage") == 0


def test_a_worker_killed_before_sending_is_sent_once_by_the_sweeper(
    personas, connected, fake_slack, time_machine
):
    time_machine.move_to(timezone.now(), tick=False)
    destination = slack_destination(personas)
    message = _enqueue(personas, destination)
    ChannelMessage.objects.filter(pk=message.pk).update(
        status=MessageStatus.SENDING, claimed_at=timezone.now(), attempt_count=1
    )
    time_machine.shift(timedelta(hours=1))
    counts = messages_sweep()
    assert counts["recovered"] == 1 and counts["dispatched"] == 1
    assert message_send(message_id=message.pk) == "sent"
    assert message_send(message_id=message.pk) == "taken"
    assert len(fake_slack.posted) == 1


def test_the_claim_of_a_stale_worker_is_lost_not_recorded_twice(personas, connected, fake_slack):
    destination = slack_destination(personas)
    message = _enqueue(personas, destination)
    assert message_send(message_id=message.pk) == "sent"
    # A second claim at another moment: the first worker's outcome would not override it.
    from messaging.outbox import _record

    result = _record(
        message.pk, claim=timezone.now() - timedelta(days=1), outcome="sent",
        started=timezone.now(), duration=0.0,
    )  # fmt: skip
    assert result == "claim-lost"
    assert _reload(message).status == MessageStatus.SENT


def test_slack_destinations_wait_for_a_connection(personas, fake_slack):
    destination = slack_destination(personas)
    message = _enqueue(personas, destination)
    assert message_send(message_id=message.pk) == "failed"
    assert _reload(message).failure == "not_connected"
    assert fake_slack.calls == []


# --- Teams ---------------------------------------------------------------------------------


def test_a_teams_card_is_accepted(personas, fake_teams):
    destination = teams_destination(personas, fake_teams.add_flow())
    message = _enqueue(personas, destination)
    assert message_send(message_id=message.pk) == "sent"
    payload = fake_teams.received[0].payload
    assert payload["type"] == "message"
    attachment = payload["attachments"][0]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert attachment["content"]["type"] == "AdaptiveCard"
    assert ChannelAttempt.objects.get(message=message).status_code == 202


def test_a_teams_rate_limit_is_honoured(personas, fake_teams, time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    destination = teams_destination(personas, fake_teams.add_flow())
    message = _enqueue(personas, destination)
    fake_teams.fail_next(429, retry_after=120)
    assert message_send(message_id=message.pk) == "retry"
    message = _reload(message)
    assert message.next_attempt_at == timezone.now() + timedelta(seconds=120)
    time_machine.shift(timedelta(seconds=121))
    assert message_send(message_id=message.pk) == "sent"
    assert len(fake_teams.received) == 1


def test_a_teams_server_error_is_retried(personas, fake_teams):
    destination = teams_destination(personas, fake_teams.add_flow())
    message = _enqueue(personas, destination)
    fake_teams.fail_next(500)
    assert message_send(message_id=message.pk) == "retry"
    assert _reload(message).failure == "server_error"


def test_a_deleted_flow_breaks_the_destination(personas, fake_teams):
    url = fake_teams.add_flow()
    destination = teams_destination(personas, url)
    message = _enqueue(personas, destination)
    fake_teams.delete_flow(url)
    assert message_send(message_id=message.pk) == "broken"
    assert _reload(message).failure == "webhook_gone"
    destination.refresh_from_db()
    assert destination.status == DestinationStatus.BROKEN


def test_a_refused_card_fails_without_breaking_the_destination(personas, fake_teams):
    destination = teams_destination(personas, fake_teams.add_flow())
    message = _enqueue(personas, destination)
    fake_teams.fail_next(400)
    assert message_send(message_id=message.pk) == "failed"
    assert _reload(message).failure == "teams_refused"
    destination.refresh_from_db()
    assert destination.status == DestinationStatus.ACTIVE


def test_resend_is_only_for_failed_or_unknown_messages(personas, connected, fake_slack):
    from organizations.errors import ConflictError

    destination = slack_destination(personas)
    message = _enqueue(personas, destination)
    message_send(message_id=message.pk)
    with pytest.raises(ConflictError):
        message_resend(actor=personas.owner, message=_reload(message))


def test_a_failed_connection_keeps_no_part_of_the_address(personas, settings):
    """requests writes the whole address into its errors; the webhook's signature is a
    secret stored encrypted, so none of the error text is kept."""
    settings.MESSAGING_ALLOW_LOOPBACK = True
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/workflows/abc/triggers/manual/paths/invoke?sig=S3CRET"
    destination = teams_destination(personas, url)
    message = _enqueue(personas, destination)
    assert message_send(message_id=message.pk) == "retry"
    stored = [_reload(message).detail, *ChannelAttempt.objects.values_list("detail", flat=True)]
    assert stored and not any("S3CRET" in text or "workflows" in text for text in stored)
