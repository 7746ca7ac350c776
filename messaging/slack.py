"""The one place Slack's Web API is called: auth.test (checking a pasted bot token) and
chat.postMessage, through slack_sdk's WebClient, with every answer mapped to the delivery
taxonomy (messaging/delivery.py).

Slack answers most errors with HTTP 200 and {"ok": false, "error": "<code>"}; a rate limit
is HTTP 429 with Retry-After (error "ratelimited"). slack_sdk's own retry handlers are
turned off: its default one re-sends a request after a connection error, which could post
a message twice."""

from __future__ import annotations

import http.client
import re
import socket
import ssl
from dataclasses import dataclass
from typing import Any
from urllib.error import URLError

from django.conf import settings
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from messaging.delivery import (
    SCOPE_CONNECTION,
    SCOPE_DESTINATION,
    Broken,
    Delivered,
    OutcomeUnknown,
    Rejected,
    RetryLater,
    retry_after_seconds,
)

# The token is revoked, invalid, or its workspace or bot was deactivated.
TOKEN_ERRORS = frozenset(
    {"invalid_auth", "token_revoked", "account_inactive", "not_authed", "token_expired"}
)
# The channel is gone, archived, or the bot is not in it (private channels need an invite).
CHANNEL_ERRORS = frozenset({"channel_not_found", "is_archived", "not_in_channel"})
# Slack's own transient failures.
TRANSIENT_ERRORS = frozenset(
    {"internal_error", "fatal_error", "service_unavailable", "request_timeout"}
)

BOT_TOKEN_PATTERN = re.compile(r"^xoxb-[A-Za-z0-9-]{10,250}$")
CHANNEL_ID_PATTERN = re.compile(r"^[CG][A-Z0-9]{6,20}$")


@dataclass(frozen=True)
class SlackIdentity:
    team_id: str
    team: str
    url: str
    user_id: str
    user: str
    bot_id: str


def _client(token: str) -> WebClient:
    return WebClient(
        token=token,
        base_url=settings.SLACK_API_BASE_URL,
        timeout=settings.NETWORK_READ_TIMEOUT,
        retry_handlers=[],
    )


def _api_error(exc: SlackApiError) -> Exception:
    response = exc.response
    status = response.status_code
    data: Any = response.data if isinstance(response.data, dict) else {}
    code = str(data.get("error") or "")
    if status == 429 or code in ("ratelimited", "rate_limited"):
        headers = {key.lower(): value for key, value in (response.headers or {}).items()}
        wait = retry_after_seconds(headers.get("retry-after"))
        return RetryLater("rate_limited", code or "HTTP 429", retry_after=wait, status_code=status)
    if status >= 500 or code in TRANSIENT_ERRORS:
        return RetryLater("server_error", code or f"HTTP {status}", status_code=status)
    if code in TOKEN_ERRORS:
        return Broken(code, code, scope=SCOPE_CONNECTION, status_code=status)
    if code in CHANNEL_ERRORS:
        return Broken(code, code, scope=SCOPE_DESTINATION, status_code=status)
    return Rejected("slack_refused", code or f"HTTP {status}", status_code=status)


def _transport_error(exc: BaseException) -> Exception:
    """A failure below HTTP. Refused, unresolvable or timing out while connecting: nothing
    was sent, so it is safe to try again. Anything later (a read timeout, a reset): the
    request may have been taken."""
    if isinstance(exc, URLError):
        # urllib wraps failures to connect (the request never left) in URLError.
        reason = exc.reason
        if isinstance(
            reason, ConnectionRefusedError | socket.gaierror | ssl.SSLError | TimeoutError
        ):
            return RetryLater("network", str(reason))
        return OutcomeUnknown("timeout", str(reason))
    if isinstance(exc, ConnectionRefusedError):
        return RetryLater("network", str(exc))
    return OutcomeUnknown("timeout", str(exc) or type(exc).__name__)


def slack_identify(*, token: str) -> SlackIdentity:
    """auth.test: who the token is (workspace and bot). Raises a DeliveryError; a token
    Slack refuses raises Broken."""
    try:
        data = _client(token).auth_test().data
    except SlackApiError as exc:
        raise _api_error(exc) from exc
    except SlackClientError as exc:
        raise Rejected("slack_refused", str(exc)) from exc
    except (OSError, http.client.HTTPException) as exc:
        error = _transport_error(exc)
        # Nothing is written by auth.test: any failure to hear back is worth a new try.
        raise RetryLater("network", str(error)) from exc
    assert isinstance(data, dict)
    return SlackIdentity(
        team_id=str(data.get("team_id") or ""),
        team=str(data.get("team") or ""),
        url=str(data.get("url") or ""),
        user_id=str(data.get("user_id") or ""),
        user=str(data.get("user") or ""),
        bot_id=str(data.get("bot_id") or ""),
    )


def slack_post(*, token: str, channel: str, text: str, blocks: list[dict]) -> Delivered:
    """chat.postMessage to a channel id, Block Kit blocks with their text fallback."""
    try:
        response = _client(token).chat_postMessage(
            channel=channel, text=text, blocks=blocks, unfurl_links=False, unfurl_media=False
        )
    except SlackApiError as exc:
        raise _api_error(exc) from exc
    except SlackClientError as exc:
        raise Rejected("slack_refused", str(exc)) from exc
    except (OSError, http.client.HTTPException) as exc:
        raise _transport_error(exc) from exc
    data = response.data if isinstance(response.data, dict) else {}
    return Delivered(external_id=str(data.get("ts") or ""), status_code=response.status_code)
