from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import timezone, translation


class UserLanguageMiddleware:
    """A signed-in user reads the app in their own language and time zone; the language
    switch stores the choice on the account. Anonymous visitors get the browser's choice."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            language = user.language or settings.LANGUAGE_CODE
            translation.activate(language)
            request.LANGUAGE_CODE = language  # type: ignore[attr-defined]
            organization = user.organization
            if organization is not None:
                timezone.activate(organization.time_zone)
        response = self.get_response(request)
        timezone.deactivate()
        return response


class ActiveOrganizationMiddleware:
    """Apply the organisation a person in several organisations works in for this request
    (organizations.memberships): the one chosen in the switcher, or, for an API call
    signed in by session, the one named in the `X-Organization` header. Token-authenticated
    API calls get theirs in organizations.api_auth."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        from organizations import memberships

        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            header = request.headers.get("X-Organization", "")
            if header and request.path.startswith("/api/"):
                choice = memberships.organization_resolve(user, header)
                if choice is None:
                    return _not_a_member(request)
                memberships.organization_apply(user, choice.organization, choice.role)
            else:
                memberships.session_organization_apply(request, user)
        return self.get_response(request)


def _not_a_member(request: HttpRequest) -> HttpResponse:
    from django.http import JsonResponse
    from django.utils.translation import gettext as _

    return JsonResponse(
        {
            "type": "about:blank",
            "title": _("Forbidden"),
            "status": 403,
            "detail": _("You are not a member of the organisation named in X-Organization."),
        },
        status=403,
        content_type="application/problem+json",
    )


class ControlCharacterGuardMiddleware:
    """Query parameters are text: a NUL or another control character in one (never typed
    by a person) is refused here with 400, once for every page and API, instead of
    reaching a database that cannot store it (PostgreSQL refuses NUL in strings)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        for key, values in request.GET.lists():
            if any(_has_control(text) for text in (key, *values)):
                return _bad_request(request)
        return self.get_response(request)


def _has_control(text: str) -> bool:
    return any((ord(c) < 32 and c not in "\t\n\r") or ord(c) == 127 for c in text)


def _bad_request(request: HttpRequest) -> HttpResponse:
    from django.http import HttpResponseBadRequest, JsonResponse
    from django.utils.translation import gettext as _

    message = _("The address holds a character that is not allowed.")
    if request.path.startswith("/api/"):
        return JsonResponse(
            {"type": "about:blank", "title": "Bad Request", "status": 400, "detail": message},
            status=400,
            content_type="application/problem+json",
        )
    return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")
