"""The lobby screen (/display/<secret>/), its intranet widget, and the org admin's page
that creates the screen's URL, rotates it and lists the intranet origins.

The screen has no sign-in: the secret in its URL is the key. Its pages are rendered
without the request's context processors, so they never read the session or the signed-in
person, set no cookie and run the same queries whoever looks."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template import loader
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.http import require_safe

from challenges.display import (
    display_data,
    display_origins_set,
    display_screen_for_secret,
    display_screen_issue,
    display_screen_of,
)
from challenges.display_forms import DisplayOriginsForm
from challenges.models import DisplayScreen
from organizations.errors import DomainError
from organizations.http import MemberRequest
from organizations.models import Organization
from organizations.views import org_admin_required


def _render(
    request: HttpRequest,
    template: str,
    organization: Organization,
    context: dict[str, Any],
    *,
    status: int = 200,
) -> HttpResponse:
    language = organization.default_language or settings.LANGUAGE_CODE
    with translation.override(language), timezone.override(organization.time_zone):
        body = loader.get_template(template).render(
            {
                **context,
                "organization": organization,
                "language": language,
                "csp_nonce": request.csp_nonce,  # type: ignore[attr-defined]
                "refresh_seconds": settings.DISPLAY_REFRESH_SECONDS,
            }
        )
    response = HttpResponse(body, status=status)
    # The URL is the key: kept out of caches, referrers and search engines.
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "no-referrer"
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Content-Language"] = language
    return response


def _gone(*, partial: bool) -> HttpResponse:
    """The same answer for a secret that never existed and one that was rotated."""
    with translation.override(settings.LANGUAGE_CODE):
        body = loader.get_template(
            "challenges/display_gone_partial.html" if partial else "challenges/display_gone.html"
        ).render({"language": settings.LANGUAGE_CODE})
    response = HttpResponse(body, status=404)
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "no-referrer"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _frame_ancestors(response: HttpResponse, screen: DisplayScreen) -> HttpResponse:
    # Per organisation, so not a static csp_replace decorator: django-csp reads the same
    # attribute from the response. No origin listed: no site may frame it.
    response._csp_replace = {  # type: ignore[attr-defined]
        "frame-ancestors": list(screen.intranet_origins) or ["'none'"]
    }
    return response


@require_safe
def display_screen(request: HttpRequest, secret: str) -> HttpResponse:
    screen = display_screen_for_secret(secret)
    if screen is None:
        return _gone(partial=False)
    data = display_data(screen.organization)
    return _render(
        request,
        "challenges/display.html",
        screen.organization,
        {"data": data, "live_url": reverse("display_live", args=[secret])},
    )


@require_safe
def display_live(request: HttpRequest, secret: str) -> HttpResponse:
    screen = display_screen_for_secret(secret)
    if screen is None:
        return _gone(partial=True)
    data = display_data(screen.organization)
    return _render(request, "challenges/display_board.html", screen.organization, {"data": data})


@require_safe
@xframe_options_exempt
def display_widget(request: HttpRequest, secret: str) -> HttpResponse:
    screen = display_screen_for_secret(secret)
    if screen is None:
        return _gone(partial=False)
    data = display_data(screen.organization, compact=True)
    response = _render(
        request,
        "challenges/display_widget.html",
        screen.organization,
        {"data": data, "live_url": reverse("display_widget_live", args=[secret])},
    )
    return _frame_ancestors(response, screen)


@require_safe
@xframe_options_exempt
def display_widget_live(request: HttpRequest, secret: str) -> HttpResponse:
    screen = display_screen_for_secret(secret)
    if screen is None:
        return _gone(partial=True)
    data = display_data(screen.organization, compact=True)
    response = _render(
        request, "challenges/display_widget_board.html", screen.organization, {"data": data}
    )
    return _frame_ancestors(response, screen)


# --- the org admin's page ------------------------------------------------------------------


@org_admin_required
def display_admin(request: MemberRequest) -> HttpResponse:
    user = request.user
    assert user.organization_id is not None
    screen = display_screen_of(user.organization_id)
    new_secret = ""
    form = DisplayOriginsForm(
        initial={"origins": "\n".join(screen.intranet_origins) if screen else ""}
    )
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "issue":
                rotating = screen is not None
                new_secret = display_screen_issue(actor=user, request=request)
                screen = display_screen_of(user.organization_id)
                messages.success(
                    request,
                    _("The screen has a new address: the previous one no longer works.")
                    if rotating
                    else _("The screen is created."),
                )
            elif action == "origins":
                form = DisplayOriginsForm(request.POST)
                if form.is_valid():
                    screen = display_origins_set(
                        actor=user, origins=form.cleaned_data["origins"], request=request
                    )
                    messages.success(request, _("The intranet origins are saved."))
            else:
                messages.error(request, _("That action is not available."))
        except DomainError as error:
            messages.error(request, error.message)
    screen_url = widget_url = ""
    if new_secret:
        # Shown once, in this answer only: the database keeps the hash.
        screen_url = request.build_absolute_uri(reverse("display_screen", args=[new_secret]))
        widget_url = request.build_absolute_uri(reverse("display_widget", args=[new_secret]))
    response = render(
        request,
        "challenges/display_admin.html",
        {"screen": screen, "form": form, "screen_url": screen_url, "widget_url": widget_url},
    )
    if new_secret:
        response["Cache-Control"] = "no-store"
    return response


@org_admin_required
def display_preview(request: MemberRequest) -> HttpResponse:
    """The screen as the lobby sees it, for the admin, without its secret (not stored)."""
    organization = request.user.organization
    assert organization is not None
    return _render(
        request,
        "challenges/display.html",
        organization,
        {"data": display_data(organization), "live_url": "", "preview": True},
    )
