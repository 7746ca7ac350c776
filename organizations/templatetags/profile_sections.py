from __future__ import annotations

from typing import Any

from django import template
from django.utils.safestring import SafeString, mark_safe

from organizations.profile_sections import profile_sections_for

register = template.Library()


@register.simple_tag(takes_context=True)
def profile_sections(context: template.Context, user: Any) -> SafeString:
    """Each section rendered in the page's own context (its context processors ran once
    for the page, not once more per section)."""
    engine = context.template.engine
    parts = []
    for template_name, section_context in profile_sections_for(user):
        with context.push(**section_context, profile_user=user):
            parts.append(engine.get_template(template_name).render(context))
    return mark_safe("".join(parts))  # each part is a rendered template, already escaped
