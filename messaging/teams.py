"""The one place a Microsoft Teams Workflows webhook is called, and the rules for its
address.

Office 365 connectors (…webhook.office.com) are retired: a channel receives messages
through a Workflows flow ("When a Teams webhook request is received" → "Post card in a chat
or channel"), whose trigger has an HTTPS address on Power Automate / Logic Apps hosts. The
flow takes a POST of {"type": "message", "attachments": [{"contentType":
"application/vnd.microsoft.card.adaptive", "content": <Adaptive Card>}]} and answers
202 Accepted. The address carries its own signature (`sig=`): it is a secret, stored
encrypted and shown masked."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.utils.translation import gettext as _
from urllib3.exceptions import LocationParseError
from urllib3.util import parse_url

from messaging.delivery import (
    SCOPE_DESTINATION,
    Broken,
    Delivered,
    OutcomeUnknown,
    Rejected,
    RetryLater,
    retry_after_seconds,
)
from organizations.errors import DomainError

# Power Automate and Logic Apps hosts that serve Workflows triggers (e.g.
# prod-12.westeurope.logic.azure.com, <env>.environment.api.powerplatform.com).
ALLOWED_HOST_SUFFIXES = (".logic.azure.com", ".powerplatform.com", ".powerautomate.com")
RETIRED_HOST_SUFFIXES = (".webhook.office.com", "outlook.office.com", "outlook.office365.com")
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
WEBHOOK_MAX_LENGTH = 2000
# A host name as DNS spells it: letters, digits, hyphens and dots, nothing else.
HOST_NAME = re.compile(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+")


def teams_webhook_clean(raw: str) -> str:
    """The webhook address, checked, or a DomainError naming the field."""
    text = (raw or "").strip()
    if not text:
        raise DomainError(_("Paste the address of the workflow's webhook."), field="webhook_url")
    if len(text) > WEBHOOK_MAX_LENGTH:
        raise DomainError(_("This address is too long."), field="webhook_url")
    try:
        parts = urlsplit(text)
        port = parts.port
        # What requests will connect to: urllib3 ends the host at a backslash that urlsplit
        # keeps, so "https://10.0.0.1\\.logic.azure.com/" would pass a suffix check and
        # reach 10.0.0.1. The two readings must agree on a plain host name.
        connects_to = (parse_url(text).host or "").lower().rstrip(".")
    except (ValueError, LocationParseError) as exc:
        raise DomainError(_("This is not a web address."), field="webhook_url") from exc
    host = (parts.hostname or "").lower().rstrip(".")
    if (
        not host
        or parts.username
        or parts.password
        or parts.fragment
        or connects_to.strip("[]") != host
        or not (HOST_NAME.fullmatch(host) or host in LOOPBACK_HOSTS)
        or any(character in text for character in "\\ \t\r\n")
    ):
        raise DomainError(_("This is not a web address."), field="webhook_url")
    if host.endswith(RETIRED_HOST_SUFFIXES):
        raise DomainError(
            _(
                "This is an Office 365 connector address: Microsoft retired them. In Teams, "
                "create a workflow from the template “Post to a channel when a webhook request "
                "is received” and paste its address."
            ),
            field="webhook_url",
        )
    loopback = host in LOOPBACK_HOSTS and getattr(settings, "MESSAGING_ALLOW_LOOPBACK", False)
    if loopback:
        if parts.scheme not in ("http", "https"):
            raise DomainError(_("This is not a web address."), field="webhook_url")
        return text
    if parts.scheme != "https":
        raise DomainError(_("The address must start with https://."), field="webhook_url")
    if port not in (None, 443) or not host.endswith(ALLOWED_HOST_SUFFIXES):
        raise DomainError(
            _(
                "This is not a Teams Workflows address: it should be on logic.azure.com, "
                "powerplatform.com or powerautomate.com."
            ),
            field="webhook_url",
        )
    return text


def teams_webhook_hint(url: str) -> str:
    """What pages show of a webhook: its host, never its path or signature."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}/…"


def teams_post(*, url: str, payload: dict[str, Any]) -> Delivered:
    try:
        response = requests.post(
            url,
            json=payload,
            timeout=(settings.NETWORK_CONNECT_TIMEOUT, settings.NETWORK_READ_TIMEOUT),
            allow_redirects=False,
        )
    # Only the exception's name is kept: requests writes the whole address, signature
    # included, into its messages, and the detail is stored in clear.
    except requests.exceptions.ConnectTimeout as exc:
        raise RetryLater("network", type(exc).__name__) from exc
    except requests.exceptions.ReadTimeout as exc:
        raise OutcomeUnknown("timeout", type(exc).__name__) from exc
    except requests.exceptions.ConnectionError as exc:
        # Refused or unresolvable: never sent. A connection dropped mid-answer: unknown.
        text = repr(exc)
        if "NewConnectionError" in text or "NameResolutionError" in text:
            raise RetryLater("network", type(exc).__name__) from exc
        raise OutcomeUnknown("timeout", type(exc).__name__) from exc
    except requests.exceptions.RequestException as exc:
        raise Rejected("teams_refused", type(exc).__name__) from exc
    status = response.status_code
    body = response.text[:300]
    if 200 <= status < 300:
        return Delivered(status_code=status)
    if status == 429:
        wait = retry_after_seconds(response.headers.get("Retry-After"))
        raise RetryLater("rate_limited", body, retry_after=wait, status_code=status)
    if status >= 500:
        raise RetryLater("server_error", body, status_code=status)
    if status in (401, 403, 404, 410):
        # The flow was deleted or turned off, or its signature no longer matches.
        raise Broken("webhook_gone", body, scope=SCOPE_DESTINATION, status_code=status)
    raise Rejected("teams_refused", body, status_code=status)
