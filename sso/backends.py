"""Password sign-in refused, on every path (the login page, the API's token endpoint,
anything calling authenticate()), for the addresses an organisation requires SSO for.
Listed in AUTHENTICATION_BACKENDS before the ones that check passwords: raising
PermissionDenied stops Django from trying the others. No get_user(): it never signs anyone
in, and Django's test client's force_login() takes the first backend that has one."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from sso.adapter import BREAK_GLASS_FLAG, password_sign_in_refusal


class SsoEnforcementBackend:
    def authenticate(
        self, request: HttpRequest | None, password: str | None = None, **credentials: Any
    ) -> None:
        if password is None:
            return None  # not a password sign-in (allauth's own, SSO)
        email = str(
            credentials.get("email")
            or credentials.get("username")
            or credentials.get("login")
            or ""
        )
        if not email:
            return None
        # The break-glass flag is set only by the login page's adapter: the API never
        # lets the break-glass administrator in with a password.
        flagged = request is not None and getattr(request, BREAK_GLASS_FLAG, None)
        if password_sign_in_refusal(None, email) and not flagged:
            raise PermissionDenied("single sign-on required")
        return None
