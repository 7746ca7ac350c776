"""The audit log's sentences for challenges, points and rewards (registered in
AppConfig.ready())."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from organizations.audit_text import AuditLine, audit_sentence_register

_PLAIN: dict[str, Any] = {
    "challenge.created": gettext_lazy("%(actor)s created the challenge “%(target)s”."),
    "challenge.updated": gettext_lazy("%(actor)s changed the challenge “%(target)s”."),
    "challenge.launched": gettext_lazy("%(actor)s launched the challenge “%(target)s”."),
    "challenge.cancelled": gettext_lazy("%(actor)s cancelled the challenge “%(target)s”."),
    "points.levels_changed": gettext_lazy("%(actor)s changed the levels."),
    "points.rules_changed": gettext_lazy("%(actor)s changed the points rules."),
    "reward.created": gettext_lazy("%(actor)s created the reward “%(target)s”."),
    "reward.updated": gettext_lazy("%(actor)s changed the reward “%(target)s”."),
    "redemption.fulfilled": gettext_lazy("%(actor)s handed over a reward: %(target)s."),
    "redemption.refused": gettext_lazy(
        "%(actor)s refused a reward request and refunded the points: %(target)s."
    ),
    "display.created": gettext_lazy("%(actor)s created the address of the lobby screen."),
    "display.rotated": gettext_lazy(
        "%(actor)s gave the lobby screen a new address: the previous one stopped working."
    ),
    "display.origins_changed": gettext_lazy(
        "%(actor)s changed the intranet sites allowed to show the lobby widget."
    ),
}


def _plain(message: Any) -> Callable[[AuditLine], str]:
    return lambda line: str(message) % {"actor": line.actor, "target": line.target}


def _click_reversed(line: AuditLine) -> str:
    return _("%(points)s points for a click were taken back.") % {
        "points": abs(int(line.details.get("points") or 0))
    }


def register() -> None:
    for action, message in _PLAIN.items():
        audit_sentence_register(action, _plain(message))
    audit_sentence_register("points.click_reversed", _click_reversed)
