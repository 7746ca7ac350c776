from __future__ import annotations

from django.http import HttpRequest

from notifications.selectors import unread_count


def bell(request: HttpRequest) -> dict[str, object]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or user.organization_id is None:
        return {}
    return {"unread_count": unread_count(user)}
