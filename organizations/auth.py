"""Authentication glue: allauth adapter, django-axes identifiers, login audit, and the
events that revoke a person's API tokens."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from axes.signals import user_locked_out
from django.contrib.auth import user_logged_in, user_login_failed
from django.db.models.signals import post_save
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from organizations.audit import audit_record
from organizations.models import User
from organizations.services import api_tokens_revoke_all

# Why a person may not be signed in with a password here, asked of the apps that know
# (single sign-on registers its enforcement in its AppConfig.ready(): this app cannot import
# it): a message, or None when nothing stands in the way.
PasswordSignInCheck = Callable[[str], "str | None"]
password_sign_in_checks: list[PasswordSignInCheck] = []


def password_sign_in_refusal(email: str) -> str | None:
    for check in password_sign_in_checks:
        refusal = check(email)
        if refusal:
            return refusal
    return None


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


@receiver(user_logged_in)
def _remember_organization_count(
    sender: object, request: HttpRequest | None, user: User, **kwargs: Any
) -> None:
    """The header shows the organisation switcher only to people in several (one query
    at sign-in, none on every page)."""
    if request is not None:
        from organizations.memberships import session_remember_count

        session_remember_count(request, user)


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


@receiver(post_save, sender=User)
def _revoke_api_tokens_on_credential_change(
    sender: type[User],
    instance: User,
    created: bool,
    update_fields: frozenset[str] | None = None,
    **kwargs: Any,
) -> None:
    """A new password or a deactivation ends every API token of the person.

    Hooked on the save rather than on allauth's password_changed/password_reset signals
    so that every path is covered (allauth's change and reset, the admin, the
    changepassword command, any set_password() in a service). `_password` is what Django
    itself reads to tell a set_password() from other saves; it is None on the hash
    upgrade at sign-in, which must not sign scripts out."""
    if created:
        return  # a new account has no token yet
    if getattr(instance, "_password", None) is not None:
        api_tokens_revoke_all(user=instance, reason="password_changed")
    elif not instance.is_active and (update_fields is None or "is_active" in update_fields):
        api_tokens_revoke_all(user=instance, reason="deactivated")


@receiver(user_locked_out)
def _revoke_api_tokens_on_lockout(
    sender: object, request: HttpRequest | None = None, username: str = "", **kwargs: Any
) -> None:
    """Someone is guessing this person's password: tokens issued before may be theirs."""
    if not username:
        return
    user = User.objects.filter(email__iexact=username).select_related("organization").first()
    if user is not None:
        api_tokens_revoke_all(user=user, reason="locked_out", request=request)
