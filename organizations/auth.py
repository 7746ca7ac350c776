"""Authentication glue: allauth adapter, django-axes identifiers, login audit."""

from __future__ import annotations

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from django.contrib.auth import user_logged_in, user_login_failed
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from organizations.audit import audit_record
from organizations.models import User


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        # People join through their organisation's invitation, never by open sign-up.
        return False


def login_identifier(request: HttpRequest | None, credentials: dict[str, Any] | None) -> str:
    """The account a login attempt is for, whichever form or API sent it."""
    credentials = credentials or {}
    value = credentials.get("email") or credentials.get("username") or credentials.get("login")
    if not value and request is not None and request.method == "POST":
        value = request.POST.get("login") or request.POST.get("email")
    return str(value or "").strip().lower()


def lockout_response(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    from django.conf import settings
    from django.http import JsonResponse
    from django.utils.translation import gettext as _

    retry_after = str(int(settings.AXES_COOLOFF_TIME.total_seconds()))
    if request.path.startswith("/api/"):
        response: HttpResponse = JsonResponse(
            {
                "type": "about:blank",
                "title": _("Too many requests"),
                "status": 429,
                "detail": _("Too many failed sign-in attempts. Try again later."),
            },
            status=429,
            content_type="application/problem+json",
        )
    else:
        response = render(request, "account/lockout.html", status=429)
    response["Retry-After"] = retry_after
    return response


@receiver(user_logged_in)
def _audit_login(sender: object, request: HttpRequest, user: User, **kwargs: Any) -> None:
    audit_record(action="auth.login", organization=user.organization, actor=user, request=request)


@receiver(user_login_failed)
def _audit_login_failed(
    sender: object, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    identifier = login_identifier(request, credentials)
    user = User.objects.filter(email__iexact=identifier).select_related("organization").first()
    audit_record(
        action="auth.login_failed",
        organization=user.organization if user else None,
        request=request,
        actor_email=identifier[:254],
        details={"known_account": user is not None},
    )
