"""Actions that higher apps offer on a content (sharing offers "Share"), registered in
their AppConfig.ready(), so that content's pages show them without importing those apps."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.urls import reverse
from django.utils.functional import Promise

from content.models import Content
from organizations.models import User


@dataclass(frozen=True)
class ContentAction:
    url_name: str
    label: str | Promise
    visible: Callable[[User, Content], bool]
    primary: bool = False


@dataclass(frozen=True)
class ContentActionLink:
    label: str | Promise
    url: str
    primary: bool


_actions: dict[str, ContentAction] = {}


def content_action_register(
    *,
    url_name: str,
    label: str | Promise,
    visible: Callable[[User, Content], bool] = lambda user, content: True,
    primary: bool = False,
) -> None:
    _actions[url_name] = ContentAction(url_name, label, visible, primary)


def content_actions_for(user: User, content: Content) -> list[ContentActionLink]:
    return [
        ContentActionLink(action.label, reverse(action.url_name, args=[content.pk]), action.primary)
        for action in _actions.values()
        if action.visible(user, content)
    ]
