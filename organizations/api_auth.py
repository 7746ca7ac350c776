"""API authentication (kept apart from the API views: DRF imports it while loading its
own settings, before any view module may be imported)."""

from __future__ import annotations

from typing import Any

from django.utils import timezone, translation
from knox.auth import TokenAuthentication
from rest_framework.request import Request


class UserLanguageTokenAuthentication(TokenAuthentication):
    """django-rest-knox tokens (stored as a digest, with an expiry), sent as
    `Authorization: Token <token>`.

    Token clients are authenticated after the middleware that applies the user's
    language; answer them in it too, unless they ask for one with Accept-Language."""

    def authenticate(self, request: Request) -> Any:
        result = super().authenticate(request)
        if result is not None and not request.META.get("HTTP_ACCEPT_LANGUAGE"):
            language = getattr(result[0], "language", "")
            if language:
                translation.activate(language)
                request._request.LANGUAGE_CODE = language  # type: ignore[attr-defined]
        return result

    def _cleanup_token(self, auth_token: Any) -> bool:
        """Only the presented token's expiry: knox also reads (and deletes) the person's
        other expired tokens on every request, a query each time; those go when a token is
        issued (organizations.services.api_token_issue) and on sign-out of all."""
        if auth_token.expiry is not None and auth_token.expiry < timezone.now():
            auth_token.delete()
            return True
        return False
