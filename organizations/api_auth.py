"""API authentication (kept apart from the API views: DRF imports it while loading its
own settings, before any view module may be imported)."""

from __future__ import annotations

from typing import Any

from django.utils import timezone, translation
from django.utils.translation import gettext as _
from knox.auth import TokenAuthentication
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request


def _organization_apply(request: Request, user: Any) -> None:
    """`X-Organization` (an id or a slug) chooses which of the caller's organisations the
    call works in; without it, the home one. Not a member: refused, never data."""
    header = request.META.get("HTTP_X_ORGANIZATION", "")
    if not header:
        return
    from organizations import memberships

    choice = memberships.organization_resolve(user, header)
    if choice is None:
        raise PermissionDenied(
            _("You are not a member of the organisation named in X-Organization.")
        )
    memberships.organization_apply(user, choice.organization, choice.role)


class UserLanguageTokenAuthentication(TokenAuthentication):
    """django-rest-knox tokens (stored as a digest, with an expiry), sent as
    `Authorization: Token <token>`.

    Token clients are authenticated after the middleware that applies the user's
    language; answer them in it too, unless they ask for one with Accept-Language."""

    def authenticate(self, request: Request) -> Any:
        result = super().authenticate(request)
        if result is not None:
            _organization_apply(request, result[0])
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
