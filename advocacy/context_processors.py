from __future__ import annotations

from django.http import HttpRequest

from advocacy.selectors import pause_of


def sharing_pause(request: HttpRequest) -> dict[str, object]:
    """The crisis pause, shown as a banner on every page and by every Share button."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not user.organization_id:
        return {"sharing_pause": None}
    return {"sharing_pause": pause_of(user)}
