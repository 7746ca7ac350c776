"""Tasks load by id and call a service; JSON arguments only. Retries are not Celery's:
they live on the message row (next_attempt_at) and the sweeper."""

from __future__ import annotations

from celery import shared_task

from messaging.outbox import message_send, messages_sweep
from messaging.services import (
    channels_post_challenge,
    channels_post_content,
    channels_post_leaderboards,
)


@shared_task
def send_message(message_id: int) -> str:
    return message_send(message_id=message_id)


@shared_task
def sweep_messages() -> dict[str, int]:
    return messages_sweep()


@shared_task
def post_content(content_id: int) -> int:
    return channels_post_content(content_id=content_id)


@shared_task
def post_challenge(challenge_id: int, event: str) -> int:
    return channels_post_challenge(challenge_id=challenge_id, event=event)


@shared_task
def post_weekly_leaderboards() -> int:
    return channels_post_leaderboards()
