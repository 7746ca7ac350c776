from __future__ import annotations

from celery import shared_task

from organizations.services import invitation_send


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_invitation(invitation_id: int) -> bool:
    return invitation_send(invitation_id=invitation_id)


@shared_task(ignore_result=True)
def worker_heartbeat() -> str:
    """Fired by beat: proves the scheduler and a worker are alive (shown by /healthz)."""
    from organizations.health import heartbeat_record

    return heartbeat_record()
