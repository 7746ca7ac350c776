from __future__ import annotations

from django.http import HttpRequest

from organizations.agency import AGENCY_ROLES
from organizations.memberships import SESSION_COUNT_KEY, organizations_of
from organizations.navigation import navigation_for


def shell(request: HttpRequest) -> dict[str, object]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {
            "nav_items": [],
            "current_organization": None,
            "organization_choices": [],
            "agency_available": False,
        }
    session = getattr(request, "session", None)
    several = session is not None and session.get(SESSION_COUNT_KEY, 1) > 1
    choices = organizations_of(user) if several else []
    return {
        "nav_items": navigation_for(user, request.path),
        "current_organization": user.organization,
        # The header's switcher, for people in several organisations only.
        "organization_choices": choices if len(choices) > 1 else [],
        "agency_available": sum(c.role in AGENCY_ROLES for c in choices) > 1,
    }
