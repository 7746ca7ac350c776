"""The main navigation, filled by each app in its AppConfig.ready(), so that the shell
(in this lowest app) never imports the apps above it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.urls import reverse
from django.utils.functional import Promise

from organizations.models import User


@dataclass(frozen=True)
class NavEntry:
    order: int
    label: str | Promise
    url_name: str
    visible: Callable[[User], bool]
    icon: str = ""


@dataclass(frozen=True)
class NavItem:
    label: str | Promise
    url: str
    active: bool
    icon: str


_registry: dict[str, NavEntry] = {}


def nav_register(
    *,
    url_name: str,
    label: str | Promise,
    order: int,
    visible: Callable[[User], bool] = lambda user: True,
    icon: str = "",
) -> None:
    _registry[url_name] = NavEntry(order, label, url_name, visible, icon)


def navigation_for(user: User, path: str) -> list[NavItem]:
    items = []
    for entry in sorted(_registry.values(), key=lambda e: e.order):
        if not entry.visible(user):
            continue
        url = reverse(entry.url_name)
        items.append(NavItem(entry.label, url, path.startswith(url), entry.icon))
    return items
