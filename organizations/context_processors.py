from __future__ import annotations

from django.http import HttpRequest

from organizations.navigation import navigation_for


def shell(request: HttpRequest) -> dict[str, object]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": [], "current_organization": None}
    return {
        "nav_items": navigation_for(user, request.path),
        "current_organization": user.organization,
    }
