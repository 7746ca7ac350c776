"""GET /s/<code>: the tracked link redirect (public, no login)."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.views.decorators.http import require_http_methods

from advocacy.services.clicks import click_capture, click_ignored_reason, link_by_code, link_target


@require_http_methods(["GET", "HEAD"])
def follow_link(request: HttpRequest, code: str) -> HttpResponse:
    # Only the code is read from the request: its query string and headers never take part
    # in the destination, so /s/<code> cannot be made to redirect anywhere else.
    link = link_by_code(code)
    if link is None:
        raise Http404
    response = HttpResponseRedirect(link_target(link))
    # Every visit must reach us to be counted; nothing in between may cache the redirect.
    response["Cache-Control"] = "no-store"
    # Search engines should index the article, not our redirect.
    response["X-Robots-Tag"] = "noindex"
    if not click_ignored_reason(request):
        click_capture(link=link, request=request)
    return response
