"""What higher apps add to content's pages without content importing them, registered in
their AppConfig.ready():

- actions on a content (sharing offers "Share");
- card extras on the feed's cards (challenges tells the points a share earns and the
  challenge it counts for), asked once per page for all its cards, never once per card.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache

from django.urls import NoReverseMatch, reverse
from django.utils.functional import Promise

from content.models import Content
from organizations.models import User

# An action whose URL name has a twin "<url_name>_sheet" (same arguments) opens that URL
# in a sheet over the page; without JavaScript it stays a link to its own page. Such an
# action is a sharing flow: it is shown disabled while the organisation's sharing is paused.
SHEET_SUFFIX = "_sheet"


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
    sheet_url: str = ""

    @property
    def pausable(self) -> bool:
        return bool(self.sheet_url)


_actions: dict[str, ContentAction] = {}


def content_action_register(
    *,
    url_name: str,
    label: str | Promise,
    visible: Callable[[User, Content], bool] = lambda user, content: True,
    primary: bool = False,
) -> None:
    _actions[url_name] = ContentAction(url_name, label, visible, primary)


@cache
def _has_sheet(url_name: str) -> bool:
    try:
        reverse(url_name + SHEET_SUFFIX, args=[1])
    except NoReverseMatch:
        return False
    return True


def content_actions_for(user: User, content: Content) -> list[ContentActionLink]:
    return [
        ContentActionLink(
            action.label,
            reverse(action.url_name, args=[content.pk]),
            action.primary,
            reverse(action.url_name + SHEET_SUFFIX, args=[content.pk])
            if _has_sheet(action.url_name)
            else "",
        )
        for action in _actions.values()
        if action.visible(user, content)
    ]


# --- feed card extras -----------------------------------------------------------------------


@dataclass(frozen=True)
class CardExtra:
    """One line under a card's title. `kind` is a style hook ("points", "challenge")."""

    kind: str
    text: str | Promise
    url: str = ""


# Given the user and the page's contents, the extras of each content by its pk. Called once
# per page: a provider reads what it needs for all the cards in a bounded number of queries.
CardExtrasProvider = Callable[[User, Sequence[Content]], Mapping[int, Sequence[CardExtra]]]

_card_extras: dict[str, tuple[int, CardExtrasProvider]] = {}


def card_extras_register(*, key: str, provider: CardExtrasProvider, order: int = 100) -> None:
    _card_extras[key] = (order, provider)


def card_extras_for(user: User, contents: Sequence[Content]) -> dict[int, list[CardExtra]]:
    extras: dict[int, list[CardExtra]] = {content.pk: [] for content in contents}
    if not contents:
        return extras
    for _order, provider in sorted(_card_extras.values(), key=lambda item: item[0]):
        for pk, lines in provider(user, contents).items():
            if pk in extras:
                extras[pk].extend(lines)
    return extras


def feed_cards_prepare(user: User, contents: Sequence[Content]) -> None:
    """Attach `card_actions` and `card_extras` to each content of a feed page."""
    extras = card_extras_for(user, contents)
    for content in contents:
        content.card_actions = content_actions_for(user, content)  # type: ignore[attr-defined]
        content.card_extras = extras.get(content.pk, [])  # type: ignore[attr-defined]
