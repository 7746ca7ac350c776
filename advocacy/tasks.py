"""Tasks load by id and call a service; JSON arguments only. Celery's own retries are not
used for shares: retry state lives on the row (next_attempt_at) and the sweeper."""

from __future__ import annotations

import socket

from celery import shared_task

from advocacy.services.accounts import accounts_remind_expiry
from advocacy.services.clicks import clicks_drain
from advocacy.services.pipeline import share_delete, share_publish, shares_sweep


@shared_task
def publish_share(share_id: int) -> str:
    return share_publish(share_id=share_id)


@shared_task
def delete_share(share_id: int) -> str:
    return share_delete(share_id=share_id)


@shared_task
def sweep_shares() -> dict[str, int]:
    return shares_sweep()


@shared_task(soft_time_limit=50, time_limit=60)
def drain_clicks() -> int:
    return clicks_drain(consumer=socket.gethostname())


@shared_task
def remind_token_expiry() -> dict[str, int]:
    return accounts_remind_expiry()
