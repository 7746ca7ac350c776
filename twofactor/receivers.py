"""allauth's MFA signals turned into audit entries, and the profile page's section."""

from __future__ import annotations

from typing import Any

from allauth.mfa.models import Authenticator
from django.http import HttpRequest

from organizations.audit import audit_record
from organizations.models import User
from twofactor.middleware import SESSION_ENROLLED
from twofactor.selectors import two_factor_required_for, two_factor_summary


def _record(action: str, request: HttpRequest | None, user: User, authenticator: Any) -> None:
    details: dict[str, Any] = {"type": authenticator.type}
    if authenticator.type == Authenticator.Type.WEBAUTHN:
        wrapped = authenticator.wrap()
        details["name"] = str(wrapped.name)[:100]
        details["passkey"] = wrapped.is_passwordless
    audit_record(
        action=action,
        organization=user.organization,
        actor=user,
        target=user,
        request=request,
        details=details,
    )


def on_authenticator_added(
    sender: Any, request: HttpRequest, user: User, authenticator: Any, **kwargs: Any
) -> None:
    _record("twofactor.added", request, user, authenticator)


def on_authenticator_removed(
    sender: Any, request: HttpRequest, user: User, authenticator: Any, **kwargs: Any
) -> None:
    _record("twofactor.removed", request, user, authenticator)
    # The person may have removed their last factor: the middleware checks again.
    session = getattr(request, "session", None)
    if session is not None:
        session.pop(SESSION_ENROLLED, None)


def on_authenticator_reset(
    sender: Any, request: HttpRequest, user: User, authenticator: Any, **kwargs: Any
) -> None:
    _record("twofactor.recovery_codes_regenerated", request, user, authenticator)


def on_authenticator_used(
    sender: Any, request: HttpRequest, user: User, authenticator: Any, **kwargs: Any
) -> None:
    # A recovery code in use means a lost or forgotten device: worth a line in the log.
    # Everyday uses of the app or key are not recorded (the sign-in itself is).
    if authenticator.type == Authenticator.Type.RECOVERY_CODES:
        audit_record(
            action="twofactor.recovery_code_used",
            organization=user.organization,
            actor=user,
            target=user,
            request=request,
            details={"unused": _unused_recovery_codes(authenticator)},
        )


def _unused_recovery_codes(authenticator: Any) -> int:
    # allauth marked the code used on a fresh copy of the row: read it again.
    current = Authenticator.objects.filter(pk=authenticator.pk).first()
    return len(current.wrap().get_unused_codes()) if current else 0


def on_user_logged_in(sender: Any, request: HttpRequest | None, user: User, **kwargs: Any) -> None:
    # Reads the policy into the cache now, so that the person's next pages cost no query.
    two_factor_required_for(user)


def profile_two_factor_context(user: User) -> dict[str, Any]:
    return {"two_factor": two_factor_summary(user)}
