"""The lean path of the tracked-link redirect: /s/<code> answered right after
SecurityMiddleware (HTTPS redirect, HSTS, nosniff, referrer and opener policies still
apply), without the session, CSRF, locale, messages, allauth, htmx and axes middleware a
redirect does not need. Anything it does not answer (another method, a path that is not
exactly /s/<code>, an unknown code) goes on through the whole stack to `follow_link`,
which gives the same 404 and 405 pages as before."""

from __future__ import annotations

import re
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from advocacy.tracking import tracked_redirect

# advocacy/urls.py's `s/<str:code>` (tests/advocacy/test_lean_redirect.py checks they agree);
# the code's own shape is checked by link_by_code.
_PATH = re.compile(r"/s/([^/]+)")


class TrackedLinkMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method in ("GET", "HEAD") and request.path_info.startswith("/s/"):
            match = _PATH.fullmatch(request.path_info)
            if match is not None:
                # As CommonMiddleware would: a Host outside ALLOWED_HOSTS is a 400.
                request.get_host()
                response = tracked_redirect(request, match[1])
                if response is not None:
                    return response
        return self.get_response(request)
