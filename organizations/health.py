"""GET /healthz: the state of the database and the broker, 200 when both answer, 503
otherwise. The worker's last heartbeat is reported too, for information."""

from __future__ import annotations

from celery import current_app
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

HEARTBEAT_KEY = "portevoix:worker-heartbeat"


def heartbeat_record() -> str:
    now = timezone.now().isoformat()
    cache.set(HEARTBEAT_KEY, now, timeout=24 * 3600)
    return now


def _database_state() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any driver error means "down"
        return f"error: {type(exc).__name__}"
    return "ok"


def _broker_state() -> str:
    try:
        with current_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
            # A transport may connect lazily; opening a channel proves it answers.
            conn.default_channel  # noqa: B018
    except Exception as exc:
        return f"error: {type(exc).__name__}"
    return "ok"


def _last_heartbeat() -> str | None:
    try:
        return cache.get(HEARTBEAT_KEY)
    except Exception:
        return None


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    database, broker = _database_state(), _broker_state()
    healthy = database == "ok" and broker == "ok"
    body = {
        "status": "ok" if healthy else "unavailable",
        "database": database,
        "broker": broker,
        "worker_heartbeat": _last_heartbeat(),
    }
    return JsonResponse(body, status=200 if healthy else 503)
