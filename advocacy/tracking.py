"""GET /s/<code>: the tracked link redirect (public, no login).

Served twice over: by advocacy.lean.TrackedLinkMiddleware, near the top of the middleware
stack, for every GET or HEAD of a known code (the hot path: no session, CSRF, messages,
locale or allauth work), and by `follow_link` through the whole stack for everything else
(unknown codes get the site's 404 page, other methods a 405)."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.views.decorators.http import require_http_methods

from advocacy.services.clicks import click_capture, click_ignored_reason, link_and_target


def tracked_redirect(request: HttpRequest, code: str) -> HttpResponse | None:
    """The redirect for `code` with its click captured, or None when no link has it."""
    # Only the code is read from the request: its query string and headers never take part
    # in the destination, so /s/<code> cannot be made to redirect anywhere else.
    found = link_and_target(code)
    if found is None:
        return None
    link, target = found
    response = HttpResponseRedirect(target)
    # Every visit must reach us to be counted; nothing in between may cache the redirect.
    response["Cache-Control"] = "no-store"
    # Search engines should index the article, not our redirect.
    response["X-Robots-Tag"] = "noindex"
    if not click_ignored_reason(request):
        click_capture(link=link, request=request)
    return response


@require_http_methods(["GET", "HEAD"])
def follow_link(request: HttpRequest, code: str) -> HttpResponse:
    response = tracked_redirect(request, code)
    if response is None:
        raise Http404
    return response
