"""Writes of two-factor sign-in: the organisation's policy and an admin's reset of a
person's second factor (a lost phone or key)."""

from __future__ import annotations

import logging

from allauth.core import ratelimit
from allauth.mfa import signals as mfa_signals
from allauth.mfa.models import Authenticator
from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from organizations.audit import audit_record
from organizations.errors import DomainError, PermissionDeniedError
from organizations.models import Membership, User
from organizations.services import api_tokens_revoke_all, user_sessions_end
from twofactor.models import TwoFactorPolicy
from twofactor.selectors import two_factor_policy_forget

logger = logging.getLogger(__name__)

GUEST_RESET_REFUSED = gettext_lazy(
    "This person is a guest member of your organisation: their second factor belongs to their "
    "whole account. To reset it, ask their home organisation's admin."
)
NOTHING_TO_RESET = gettext_lazy(
    "%(name)s has no second factor: there is nothing to reset, and nothing was changed."
)


class TooManyCodeAttemptsError(DomainError):
    status_code = 429


def two_factor_policy_update(
    *,
    actor: User,
    require_admins: bool,
    require_editors: bool,
    require_reviewers: bool,
    request: HttpRequest | None = None,
) -> TwoFactorPolicy:
    """Set which roles must sign in with a second factor. People already signed in are held
    to it at their next page (the middleware reads the policy on each request)."""
    if not actor.is_org_admin or actor.organization_id is None:
        raise PermissionDeniedError(_("Only an organisation admin can change this."))
    wanted = {
        "require_admins": bool(require_admins),
        "require_editors": bool(require_editors),
        "require_reviewers": bool(require_reviewers),
    }
    with transaction.atomic():
        policy, _created = TwoFactorPolicy.objects.select_for_update().get_or_create(
            organization_id=actor.organization_id
        )
        before = {name: getattr(policy, name) for name in wanted}
        for name, value in wanted.items():
            setattr(policy, name, value)
        policy.updated_by = actor
        policy.save()
        if before != wanted:
            audit_record(
                action="twofactor.policy_updated",
                organization=actor.organization,
                actor=actor,
                request=request,
                details={"roles": sorted(policy.required_roles)},
            )
        # Forgotten now and again once committed: a request between the two could have
        # cached the old policy.
        two_factor_policy_forget(policy.organization_id)
        transaction.on_commit(lambda: two_factor_policy_forget(policy.organization_id))
    return policy


def two_factor_reset(*, actor: User, person: User, request: HttpRequest | None = None) -> int:
    """Remove every second factor of `person` (authenticator app, security keys, passkeys,
    recovery codes), end their sessions and revoke their API tokens: whoever holds the lost
    device can no longer use it, and the person signs in again with their password and sets
    up a new factor. Returns how many authenticators were removed."""
    if not actor.is_org_admin or actor.organization_id is None:
        raise PermissionDeniedError(_("Only an organisation admin can reset a second factor."))
    if person.organization_id != actor.organization_id:
        if Membership.objects.filter(
            user_id=person.pk, organization_id=actor.organization_id
        ).exists():
            # A second factor is the whole account's: resetting it here would open the
            # account in its home organisation too, whose admins vouch for the person.
            raise PermissionDeniedError(str(GUEST_RESET_REFUSED))
        raise PermissionDeniedError(_("This person is not in your organisation."))
    if person.pk == actor.pk:
        raise DomainError(
            _(
                "You cannot reset your own second factor: sign in with a recovery code, "
                "or ask another admin."
            )
        )
    with transaction.atomic():
        removed = list(
            Authenticator.objects.select_for_update()
            .filter(user_id=person.pk)
            .values_list("type", flat=True)
        )
        if not removed:
            # Nothing to reset: sessions and tokens are left alone.
            raise DomainError(str(NOTHING_TO_RESET) % {"name": person})
        Authenticator.objects.filter(user_id=person.pk).delete()
        tokens = api_tokens_revoke_all(
            user=person, reason="two_factor_reset", actor=actor, request=request
        )
        audit_record(
            action="twofactor.reset",
            organization=actor.organization,
            actor=actor,
            target=person,
            request=request,
            details={
                "types": sorted(set(removed)),
                "authenticators": len(removed),
                "api_tokens": tokens,
            },
        )
    # Outside the transaction: it reads every live session in chunks.
    sessions = user_sessions_end(person)
    logger.warning(
        "Second factor of user %s reset by admin %s: %s authenticators removed, "
        "%s sessions ended, %s API tokens revoked",
        person.pk,
        actor.pk,
        len(removed),
        sessions,
        tokens,
    )
    return len(removed)


def two_factor_code_use(*, user: User, code: str, request: HttpRequest | None = None) -> bool:
    """Check a code typed outside the sign-in pages (the API's token request): a current
    code of the person's authenticator app, or one of their unused recovery codes.

    allauth.mfa validates it and marks it used (an app code stays refused for the rest of
    its period, a recovery code for good), so that a code seen once cannot be replayed.
    Failures count against the same per-person limit as allauth's own code page."""
    key = f"mfa-auth-user-{user.pk}"
    if request is not None and not ratelimit.consume(request, action="login_failed", key=key):
        raise TooManyCodeAttemptsError(
            _("Too many incorrect codes. Wait a few minutes, then try again.")
        )
    code = code.strip()
    found: Authenticator | None = None
    # The app first, then the recovery codes (a security key has no code to type).
    candidates = sorted(
        Authenticator.objects.filter(
            user_id=user.pk,
            type__in=(Authenticator.Type.TOTP, Authenticator.Type.RECOVERY_CODES),
        ),
        key=lambda item: item.type != Authenticator.Type.TOTP,
    )
    for authenticator in candidates:
        if authenticator.wrap().validate_code(code):
            found = authenticator
            break
    if found is None:
        return False
    if request is not None:
        ratelimit.clear(request, action="login_failed", key=key)
    found.record_usage()
    found.user = user
    mfa_signals.authenticator_used.send(
        sender=Authenticator,
        request=request,
        user=user,
        authenticator=found,
        reauthenticated=False,
        passwordless=False,
    )
    return True
