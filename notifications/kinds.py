"""Kinds of notification. Each app registers its own in AppConfig.ready(); a user chooses,
per kind, whether it also arrives by email, and for the few kinds worth interrupting someone
for (`push=True`), whether it is pushed to the devices where they turned notifications on."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class NotificationKind:
    key: str
    label: str | Promise
    email_default: bool
    push: bool = False


_kinds: dict[str, NotificationKind] = {}

# Kinds registered by apps above this one that are offered by push. Kept here, by key, so
# that those apps' registrations need not change; a new kind passes push=True instead.
PUSH_KINDS = frozenset({"challenges.launched", "challenges.results", "advocacy.reconnect"})


def kind_register(
    key: str, label: str | Promise, *, email_default: bool = True, push: bool = False
) -> None:
    _kinds[key] = NotificationKind(key, label, email_default, push or key in PUSH_KINDS)


def kind_get(key: str) -> NotificationKind:
    try:
        return _kinds[key]
    except KeyError:
        raise ValueError(f"Unknown notification kind {key!r}; register it first") from None


def kinds_all() -> list[NotificationKind]:
    return sorted(_kinds.values(), key=lambda kind: str(kind.label))


kind_register("account.role_changed", _("My role changes"))
kind_register(
    "account.invitation_accepted", _("Someone accepts my invitation"), email_default=False
)
kind_register("system.announcement", _("The administrators post an announcement"))


def kinds_pushable() -> list[NotificationKind]:
    return [kind for kind in kinds_all() if kind.push]
