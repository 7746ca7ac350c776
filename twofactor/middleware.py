"""Holds a signed-in person to their organisation's two-factor policy: an admin, editor or
reviewer whom the policy covers and who has no authenticator app or security key yet is
sent to a page that explains why, and from there to the set-up pages, until they have one.

What stays reachable meanwhile: the set-up pages themselves (allauth's /accounts/2fa/…),
re-authentication, sign-out, the language switch, static files and /healthz.

API requests with a token are not held: the middleware runs before Django REST framework
authenticates the token, so it sees nobody signed in. The token endpoint holds the policy
instead (twofactor.api_tokens): it asks a person with a factor for a code, and refuses a
token to a person the policy covers who has none, so a token can only be obtained once the
second factor is set up (or before the policy was switched on: an admin's reset, or the
person's sign-out everywhere, revokes those).
API requests riding on a browser session are refused with a 403 problem answer."""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _

from twofactor.selectors import two_factor_enrolled, two_factor_required_for

# Set once the person is known to have a factor: later requests then cost no query. Cleared
# when they remove a factor (twofactor.receivers); an admin's reset ends their sessions.
SESSION_ENROLLED = "twofactor_enrolled"


class TwoFactorRequiredMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    @cached_property
    def allowed_prefixes(self) -> tuple[str, ...]:
        return (
            reverse("mfa_index"),
            reverse("account_logout"),
            reverse("account_reauthenticate"),
            reverse("account_login"),
            reverse("set_language"),
            reverse("two_factor_required"),
            reverse("healthz"),
            "/static/",
            reverse("service_worker"),
            reverse("web_manifest"),
            reverse("offline"),
        )

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and not request.session.get(SESSION_ENROLLED)
            and two_factor_required_for(user)
            and not request.path.startswith(self.allowed_prefixes)
        ):
            if two_factor_enrolled(user):
                request.session[SESSION_ENROLLED] = True
            else:
                return self._refuse(request)
        return self.get_response(request)

    def _refuse(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith("/api/"):
            return JsonResponse(
                {
                    "type": "about:blank",
                    "title": _("Two-factor sign-in required"),
                    "status": 403,
                    "detail": _(
                        "Your organisation requires a second factor for your role: set one "
                        "up in the web app first."
                    ),
                },
                status=403,
                content_type="application/problem+json",
            )
        target = reverse("two_factor_required")
        if request.headers.get("HX-Request"):
            answer = HttpResponse(status=204)
            answer["HX-Redirect"] = target
            return answer
        return redirect(target)
