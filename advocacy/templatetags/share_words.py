"""Shares and accounts in words for templates: `{{ share.status|state_label }}`,
`{{ share|share_sentence }}`; the one mapping is `advocacy.outcome_text`."""

from __future__ import annotations

from django import template

from advocacy import outcome_text
from advocacy.models import Share

register = template.Library()


@register.filter
def state_label(value: str) -> str:
    return outcome_text.state_label(str(value or ""))


@register.filter
def state_tone(value: str) -> str:
    return outcome_text.state_tone(str(value or ""))


@register.filter
def share_sentence(share: Share) -> str:
    """What happened to the share, for lists: reads the attempts only when the list
    prefetched them, so it never costs a query per row."""
    cache = getattr(share, "_prefetched_objects_cache", {})
    attempts = list(cache["attempts"]) if "attempts" in cache else []
    return outcome_text.share_summary(share, attempts).text
