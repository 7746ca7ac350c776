"""Relative moments in words: "just now" under a minute, then Django's timesince
("5 minutes ago"), never "0 minutes"."""

from __future__ import annotations

from datetime import datetime, timedelta

from django import template
from django.utils import timezone
from django.utils.timesince import timesince
from django.utils.translation import gettext as _

register = template.Library()

JUST_NOW = timedelta(minutes=1)


@register.filter
def ago(value: datetime | None, now: datetime | None = None) -> str:
    """`{{ n.created_at|ago }}`: "just now", "5 minutes ago", "2 days ago"."""
    if not isinstance(value, datetime):
        return ""
    now = now or timezone.now()
    if now - value < JUST_NOW:
        return _("just now")
    return _("%(delta)s ago") % {"delta": timesince(value, now, depth=1)}
