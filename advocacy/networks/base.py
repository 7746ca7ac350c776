"""The adapter interface and its error family.

Designed for X (tweepy with an OAuth 2.0 user token; refresh tokens rotate and are single
use), LinkedIn (`/rest/posts`, 60-day tokens, no refresh for most apps) and the sandbox.
Every failure an adapter meets is mapped to exactly one of four outcomes, and the pipeline
decides on those alone:

- `NeedsReconnect`: the token is expired or revoked (401); only the employee can fix it.
- `PermanentRejection`: the network refused this post (duplicate, too long, other 4xx).
- `RetryLater(retry_after)`: throttled (429), unavailable (503), or failed before the
  request left (connection refused): safe to try again.
- `OutcomeUnknown`: the request was sent and no answer came back: it may be posted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class Credentials:
    external_id: str
    access_token: str
    refresh_token: str = ""
    expires_at: datetime | None = None


@dataclass(frozen=True)
class PostRequest:
    text: str
    link_url: str = ""
    image_path: str = ""
    # Unique per share: lets a network or our reconciliation recognise a repeat.
    idempotency_key: str = ""


@dataclass(frozen=True)
class CallRecord:
    """What one HTTP exchange looked like, for the ShareAttempt log."""

    status_code: int | None = None
    body: str = ""


@dataclass(frozen=True)
class PublishedPost:
    external_id: str
    url: str
    call: CallRecord = field(default_factory=CallRecord)


@dataclass(frozen=True)
class AccountIdentity:
    external_id: str
    display_name: str


class NetworkError(Exception):
    def __init__(self, message: str, *, call: CallRecord | None = None):
        super().__init__(message)
        self.message = message
        self.call = call or CallRecord()


class NeedsReconnect(NetworkError):
    pass


class PermanentRejection(NetworkError):
    pass


class RetryLater(NetworkError):
    def __init__(self, message: str, *, retry_after: float = 0.0, call: CallRecord | None = None):
        super().__init__(message, call=call)
        self.retry_after = max(0.0, retry_after)


class OutcomeUnknown(NetworkError):
    pass


class MetricsUnavailable(NetworkError):
    """The network will not give metrics for this post, and asking again will not change
    it: `reason` is "unsupported" (the network or post type has none), "no_permission"
    (the token or the organisation lacks the scope or partner access) or "gone" (the post
    is no longer on the network)."""

    def __init__(self, message: str, *, reason: str, call: CallRecord | None = None):
        super().__init__(message, call=call)
        self.reason = reason


class NetworkAdapter(Protocol):
    name: str

    def publish(self, credentials: Credentials, post: PostRequest) -> PublishedPost:
        """Post for the account. Raises one of the four NetworkError outcomes."""
        ...

    def delete(self, credentials: Credentials, external_id: str) -> CallRecord:
        """Delete a post; a post that is already gone counts as deleted."""
        ...

    def find_post(self, credentials: Credentials, idempotency_key: str) -> PublishedPost | None:
        """The post made with this key, if the network can tell; None when it cannot.
        Used to settle an unknown outcome without posting again."""
        ...

    def fetch_metrics(self, credentials: Credentials, external_id: str) -> dict[str, int]:
        """Engagement counts with the names of `networks.metrics` (impressions, reactions,
        comments, reshares, clicks, followers), leaving out what the network does not give;
        an empty dict when it gives nothing. Raises MetricsUnavailable when the network or
        token has no metrics for the post, or one of the four outcomes."""
        ...

    def refresh_credentials(self, credentials: Credentials) -> Credentials:
        """New credentials from the refresh token. Raises NeedsReconnect when there is
        none or it is refused. Callers hold the account's lock (X rotates refresh tokens)."""
        ...
