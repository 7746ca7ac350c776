"""Request types for views that only signed-in members reach."""

from __future__ import annotations

from django.http import HttpRequest

from organizations.models import User


class MemberRequest(HttpRequest):
    """A request behind login_required: `user` is a signed-in User, not AnonymousUser."""

    user: User  # type: ignore[assignment]
