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

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

import requests


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
    # The link's preview, for networks that post a link as an article card (LinkedIn).
    link_title: str = ""
    link_description: str = ""
    link_image_path: str = ""


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
    # A problem of the organisation's app rather than of this post ("version_expired",
    # "missing_permission"): the administration pages show it.
    app_problem = ""

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

    def find_post(self, credentials: Credentials, post: PostRequest) -> PublishedPost | None:
        """The post made for this request (its key, or its tracked link), if the network
        can tell; None when it cannot. Used to settle an unknown outcome without posting
        again."""
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

    def revoke(self, credentials: Credentials) -> bool:
        """Revoke the token at the network. False when the network has no way to (the
        employee removes the app from their account settings)."""
        ...


# --- the one HTTP seam every adapter speaks through -------------------------------------

BODY_KEPT = 300


def call_record(response: requests.Response) -> CallRecord:
    return CallRecord(status_code=response.status_code, body=response.text[:BODY_KEPT])


def retry_after(response: requests.Response, default: float = 30.0) -> float:
    """Seconds until the network takes calls again: `x-rate-limit-reset` (an epoch, as X
    sends it) first, then `Retry-After` (seconds)."""
    reset = response.headers.get("x-rate-limit-reset")
    if reset:
        try:
            return max(0.0, float(reset) - time.time())
        except ValueError:
            pass
    value = response.headers.get("Retry-After", "")
    return float(value) if value.isdigit() else default


# A network's own reading of a refusal, before the generic one: returns an outcome, or
# None to fall back on the status code.
Classifier = Callable[[requests.Response, str], "NetworkError | None"]


def outcome_for(response: requests.Response, *, action: str) -> NetworkError | None:
    """The generic mapping of a status code to one of the four outcomes (None: success)."""
    status = response.status_code
    call = call_record(response)
    if status < 400:
        return None
    if status == 401:
        return NeedsReconnect(f"The network refused the token ({action}).", call=call)
    if status in (408, 429):
        return RetryLater(
            "The network is throttling us.",
            retry_after=retry_after(response, 60.0 if status == 429 else 30.0),
            call=call,
        )
    if status >= 500:
        wait = retry_after(response) if response.headers.get("Retry-After") else 0.0
        return RetryLater(f"The network answered {status}.", retry_after=wait, call=call)
    return PermanentRejection(f"The network refused the {action} ({status}).", call=call)


class NetworkHttp:
    """Sends one request and turns whatever happens into a response or one of the four
    outcomes: refused before sending → RetryLater; sent and no answer (timeout, dropped
    connection) → OutcomeUnknown; then the status code, read by the network's classifier
    first and by `outcome_for` after. Every exchange is kept in `calls` for ShareAttempt."""

    def __init__(
        self,
        *,
        session: requests.Session | None = None,
        classify: Classifier | None = None,
        timeout: tuple[float, float] | None = None,
        transport: Callable[..., requests.Response] | None = None,
    ):
        from django.conf import settings

        self.session = session or requests.Session()
        self.classify = classify
        self.timeout = timeout or (
            settings.NETWORK_CONNECT_TIMEOUT,
            settings.NETWORK_READ_TIMEOUT,
        )
        self.transport = transport or self.session.request
        self.calls: list[CallRecord] = []

    @property
    def last_call(self) -> CallRecord:
        return self.calls[-1] if self.calls else CallRecord()

    def send(
        self, method: str, url: str, *, action: str, accept: tuple[int, ...] = (), **kwargs: Any
    ) -> requests.Response:
        """`accept`: refusal codes that are an answer here (404 to a deletion: gone)."""
        kwargs.setdefault("timeout", self.timeout)
        kwargs.setdefault("allow_redirects", False)
        try:
            response = self.transport(method, url, **kwargs)
        except (requests.ConnectTimeout, requests.exceptions.InvalidURL) as exc:
            raise RetryLater(f"Could not reach the network: {exc}", retry_after=0) from exc
        except requests.ConnectionError as exc:
            # Refused before anything was sent is safe to retry; a connection dropped while
            # waiting for the answer is not.
            if never_sent(exc):
                raise RetryLater(f"Could not reach the network: {exc}", retry_after=0) from exc
            raise OutcomeUnknown(f"The connection dropped before the answer: {exc}") from exc
        except requests.Timeout as exc:
            raise OutcomeUnknown("The network did not answer in time.") from exc
        self.calls.append(call_record(response))
        if response.status_code >= 300 and response.status_code not in accept:
            error = self.classify(response, action) if self.classify else None
            error = error or outcome_for(response, action=action)
            if error is None:  # a redirect where an answer was expected
                error = PermanentRejection(
                    f"The network answered {response.status_code} to the {action}.",
                    call=call_record(response),
                )
            raise error
        return response


def json_object(response: requests.Response, *, what: str) -> dict[str, Any]:
    """The body as a JSON object, or OutcomeUnknown: the network answered, but not in a
    shape we can trust (for a write, the post may exist)."""
    try:
        data = response.json()
    except ValueError as exc:
        raise OutcomeUnknown(
            f"The network's answer to the {what} was not JSON.", call=call_record(response)
        ) from exc
    if not isinstance(data, dict):
        raise OutcomeUnknown(
            f"The network's answer to the {what} was not an object.", call=call_record(response)
        )
    return data


def field_str(data: Mapping[str, Any], *path: str) -> str:
    """A non-empty string at `path` in a parsed body, or "" when it is missing or another
    type: callers decide whether its absence is an error."""
    value: Any = data
    for key in path:
        value = value.get(key) if isinstance(value, Mapping) else None
    return value if isinstance(value, str) and value else ""


def never_sent(exc: requests.ConnectionError) -> bool:
    """Whether the connection failed while opening (refused, unreachable, DNS)."""
    from urllib3.exceptions import NameResolutionError, NewConnectionError

    seen: list[BaseException] = []
    pending: list[BaseException | None] = [exc]
    while pending and len(seen) < 20:
        reason = pending.pop()
        if reason is None or any(reason is s for s in seen):
            continue
        seen.append(reason)
        if isinstance(reason, (NewConnectionError, NameResolutionError, ConnectionRefusedError)):
            return True
        pending.extend([getattr(reason, "reason", None), reason.__cause__, reason.__context__])
        pending.extend(arg for arg in reason.args if isinstance(arg, BaseException))
    return False
