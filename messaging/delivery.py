"""What a post to Slack or Teams can come to: the small error taxonomy both transports map
every failure to, and the parsing of Retry-After.

- `Broken`: only the org admin can fix it (a revoked token, a deleted channel or webhook);
  the connection or the destination is marked, the admins are told, nothing is retried.
- `RetryLater`: the service asked us to wait (429 and its Retry-After), or failed before or
  without taking the message (5xx, a connection refused): tried again later.
- `Rejected`: the service refused this message for good (a 400): not retried.
- `OutcomeUnknown`: the request went out and no answer came back (a read timeout, a reset
  connection): the message may be in the channel. Neither Slack's chat.postMessage nor a
  Workflows webhook is idempotent, so it is never posted again on our own: the admin looks
  at the channel and resends with one click."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

# Waits asked by a service are honoured within these bounds.
RETRY_AFTER_MIN = 1.0
RETRY_AFTER_MAX = 3600.0
RETRY_AFTER_DEFAULT = 30.0

SCOPE_CONNECTION = "connection"
SCOPE_DESTINATION = "destination"


class DeliveryError(Exception):
    def __init__(self, failure: str, detail: str = "", *, status_code: int | None = None):
        super().__init__(detail or failure)
        self.failure = failure
        self.detail = detail[:500]
        self.status_code = status_code


class Broken(DeliveryError):
    def __init__(
        self, failure: str, detail: str = "", *, scope: str, status_code: int | None = None
    ):
        super().__init__(failure, detail, status_code=status_code)
        self.scope = scope


class RetryLater(DeliveryError):
    def __init__(
        self,
        failure: str,
        detail: str = "",
        *,
        retry_after: float | None = None,
        status_code: int | None = None,
    ):
        super().__init__(failure, detail, status_code=status_code)
        # None: no wait was asked (a 5xx); the sender backs off on its own.
        self.retry_after = retry_after


class Rejected(DeliveryError):
    pass


class OutcomeUnknown(DeliveryError):
    pass


@dataclass(frozen=True)
class Delivered:
    external_id: str = ""
    status_code: int | None = None


def retry_after_seconds(value: str | None, *, now: datetime | None = None) -> float:
    """Retry-After as seconds (delta-seconds or an HTTP date), within the bounds; a
    missing or unreadable header gets the default."""
    text = (value or "").strip()
    if not text:
        return RETRY_AFTER_DEFAULT
    try:
        seconds = float(text)
    except ValueError:
        try:
            moment = parsedate_to_datetime(text)
        except (TypeError, ValueError):
            return RETRY_AFTER_DEFAULT
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        seconds = (moment - (now or datetime.now(UTC))).total_seconds()
    return min(RETRY_AFTER_MAX, max(RETRY_AFTER_MIN, seconds))
