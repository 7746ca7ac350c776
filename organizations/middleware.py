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
