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
