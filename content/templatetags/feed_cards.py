"""`{% feed_card content %}`: a feed card, rendered once and kept by this process.

A card is the same HTML for everyone who sees the same item in the same language and time
zone with the same extras, actions, "New" badge and sharing pause: its key holds all of
these and the organisation's feed version (content/feed_cache.py), which any change to the
item, its captions, topics or images replaces. A kept card is used for a minute at most
(its image addresses may be signed for a limited time)."""

from __future__ import annotations

import time
from collections import OrderedDict
from typing import Any

from django import template
from django.utils import timezone, translation
from django.utils.safestring import SafeString, mark_safe

from content import feed_cache

register = template.Library()

CARD_TEMPLATE = "content/_card.html"
_KEPT_SECONDS = 60
_KEPT_MAX = 512  # the oldest kept goes first
_kept: OrderedDict[tuple[Any, ...], tuple[float, SafeString]] = OrderedDict()


def _key(context: template.Context, content: Any) -> tuple[Any, ...]:
    previous_visit = context.get("previous_visit")
    pause = context.get("sharing_pause")
    return (
        context["feed_version"],
        content.pk,
        translation.get_language(),
        timezone.get_current_timezone_name(),
        bool(previous_visit and content.publish_at > previous_visit),
        tuple(
            (str(action.label), action.url, action.primary, action.sheet_url)
            for action in getattr(content, "card_actions", ())
        ),
        tuple(
            (extra.kind, str(extra.text), extra.url)
            for extra in getattr(content, "card_extras", ())
        ),
        None if pause is None else str(getattr(pause, "reason", "") or ""),
    )


@register.simple_tag(takes_context=True)
def feed_card(context: template.Context, content: Any) -> SafeString:
    if "feed_version" not in context:
        context["feed_version"] = feed_cache.feed_version(content.organization_id)
    key = _key(context, content)
    now = time.monotonic()
    kept = _kept.get(key)
    if kept is not None and kept[0] > now:
        return kept[1]
    card = context.template.engine.get_template(CARD_TEMPLATE)
    with context.push(content=content):
        html = mark_safe(card.render(context))  # the card template escapes what it shows
    _kept[key] = (now + _KEPT_SECONDS, html)
    if len(_kept) > _KEPT_MAX:
        _kept.popitem(last=False)
    return html
