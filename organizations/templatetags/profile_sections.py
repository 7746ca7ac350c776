from __future__ import annotations

from typing import Any

from django import template
from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe

from organizations.profile_sections import profile_sections_for

register = template.Library()


@register.simple_tag(takes_context=True)
def profile_sections(context: template.Context, user: Any) -> SafeString:
    request = context.get("request")
    parts = [
        render_to_string(template_name, {**section_context, "profile_user": user}, request)
        for template_name, section_context in profile_sections_for(user)
    ]
    return mark_safe("".join(parts))  # each part is a rendered template, already escaped
