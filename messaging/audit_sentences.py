"""The audit log's sentences for the Slack and Teams channels (registered in
AppConfig.ready())."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.utils.translation import gettext_lazy

from organizations.audit_text import AuditLine, audit_sentence_register

_PLAIN: dict[str, Any] = {
    "channels.slack_connected": gettext_lazy("%(actor)s connected Slack (workspace “%(target)s”)."),
    "channels.slack_disconnected": gettext_lazy(
        "%(actor)s disconnected Slack (workspace “%(target)s”)."
    ),
    "channels.destination_created": gettext_lazy(
        "%(actor)s added the channel destination “%(target)s”."
    ),
    "channels.destination_updated": gettext_lazy(
        "%(actor)s changed the channel destination “%(target)s”."
    ),
    "channels.destination_deleted": gettext_lazy(
        "%(actor)s removed the channel destination “%(target)s”."
    ),
    "channels.test_sent": gettext_lazy("%(actor)s sent a test message to “%(target)s”."),
    "channels.message_resent": gettext_lazy(
        "%(actor)s sent the channel message “%(target)s” again."
    ),
}


def _plain(message: Any) -> Callable[[AuditLine], str]:
    return lambda line: str(message) % {"actor": line.actor, "target": line.target}


def register() -> None:
    for action, message in _PLAIN.items():
        audit_sentence_register(action, _plain(message))
