from __future__ import annotations

from typing import Any

from django import template

from content.extensions import content_actions_for

register = template.Library()


@register.inclusion_tag("content/_actions.html", takes_context=True)
def content_actions(context: dict[str, Any], content: Any) -> dict[str, Any]:
    user = context["request"].user
    # The crisis pause (in every page's context) disables the actions it stops.
    return {
        "actions": content_actions_for(user, content),
        "content": content,
        "sharing_pause": context.get("sharing_pause"),
    }
