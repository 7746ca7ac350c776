"""Connected accounts: saving a connection (whichever package made it), disconnecting
(revoking at the network where it allows it), reading credentials under the account's
lock, and the reminders for tokens that cannot be refreshed."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from advocacy.models import AccountStatus, Share, ShareStatus, SocialAccount
from advocacy.networks import AdapterNotConfigured, adapter_for, package_for
from advocacy.networks.base import AccountIdentity, Credentials, NeedsReconnect, NetworkError
from advocacy.services.dispatch import shares_resume_after_reconnect
from advocacy.token_vault import token_decrypt, token_encrypt
from content.models import Network
from notifications.services import notification_create
from organizations.audit import audit_record
from organizations.errors import DomainError
from organizations.models import User

logger = logging.getLogger(__name__)

# Networks an app may post to for a person: Facebook allows no posting to personal profiles.
POSTABLE_NETWORKS = (Network.LINKEDIN, Network.X)


def account_usable(account: SocialAccount | None) -> bool:
    """Whether Portevoix may post through this account now: connected, and its network
    still set up for API posting by the organisation."""
    if account is None or account.status != AccountStatus.ACTIVE:
        return False
    try:
        return package_for(account.adapter).configured(account.organization_id)
    except AdapterNotConfigured:
        return False


def account_save(
    *,
    user: User,
    network: str,
    adapter: str,
    identity: AccountIdentity,
    credentials: Credentials,
    request: HttpRequest | None = None,
) -> SocialAccount:
    """Keep a new or renewed connection (tokens encrypted) and send the shares that were
    waiting for it."""
    if network not in POSTABLE_NETWORKS:
        raise DomainError(
            _("Facebook does not let apps post to personal profiles; use share links."),
            field="network",
        )
    with transaction.atomic():
        account, _created = SocialAccount.objects.update_or_create(
            user=user,
            network=network,
            defaults={
                "organization_id": user.organization_id,
                "adapter": adapter,
                "external_id": identity.external_id,
                "display_name": identity.display_name,
                "access_token": token_encrypt(credentials.access_token),
                "refresh_token": token_encrypt(credentials.refresh_token),
                "expires_at": credentials.expires_at,
                "status": AccountStatus.ACTIVE,
                "expiry_warned_at": None,
                "expired_notified_at": None,
            },
        )
        audit_record(
            action="social_account.connected",
            organization=user.organization,
            actor=user,
            target=account,
            request=request,
            details={"network": network, "adapter": adapter},
        )
        shares_resume_after_reconnect(account=account)
    return account


def account_disconnect(
    *, user: User, account: SocialAccount, request: HttpRequest | None = None
) -> bool:
    """Revoke the token at the network where it allows it, then forget the account here.
    Returns whether the network revoked it (False: it cannot, or it failed: the token is
    deleted here all the same)."""
    if account.user_id != user.pk:
        raise DomainError(_("This account is not yours."))
    revoked = False
    try:
        package = package_for(account.adapter)
        if package.revocable:
            revoked = adapter_for(account.adapter, organization_id=account.organization_id).revoke(
                Credentials(
                    external_id=account.external_id,
                    access_token=token_decrypt(account.access_token),
                    refresh_token=token_decrypt(account.refresh_token),
                )
            )
    except (NetworkError, AdapterNotConfigured) as exc:
        logger.warning("Could not revoke the token of account %s: %s", account.pk, exc)
    with transaction.atomic():
        # Waiting shares cannot go out without the account.
        Share.objects.filter(
            account=account, status__in=[ShareStatus.SCHEDULED, ShareStatus.NEEDS_RECONNECT]
        ).update(status=ShareStatus.CANCELLED, last_error=_("The account was disconnected."))
        audit_record(
            action="social_account.disconnected",
            organization=user.organization,
            actor=user,
            target=account,
            request=request,
            details={"network": account.network, "revoked": revoked},
        )
        _forget_allauth_link(account)
        account.delete()
    return revoked


def _forget_allauth_link(account: SocialAccount) -> None:
    """allauth's record of the connection goes with ours."""
    from allauth.socialaccount.models import SocialAccount as AllauthAccount

    try:
        package = package_for(account.adapter)
    except AdapterNotConfigured:
        return
    if package.allauth_provider_id:
        AllauthAccount.objects.filter(
            user_id=account.user_id, provider=package.allauth_provider_id
        ).delete()


def _reconnect_url(account: SocialAccount) -> str:
    return reverse("network_reconnect", kwargs={"network": account.network})


def account_mark_needs_reconnect(*, account_id: int, reason: str) -> None:
    with transaction.atomic():
        changed = SocialAccount.objects.filter(pk=account_id, status=AccountStatus.ACTIVE).update(
            status=AccountStatus.NEEDS_RECONNECT
        )
        if not changed:
            return
        account = SocialAccount.objects.select_related("user").get(pk=account_id)
        with translation.override(account.user.language):
            notification_create(
                recipient=account.user,
                kind="advocacy.reconnect",
                title=_("Reconnect your %(network)s account")
                % {"network": account.get_network_display()},
                body=_(
                    "%(network)s refused our access (%(reason)s). Reconnect it so that your "
                    "waiting shares can go out."
                )
                % {"network": account.get_network_display(), "reason": reason},
                url=_reconnect_url(account),
            )


def _expiry_warning(account: SocialAccount) -> tuple[str, str, str]:
    # The day as the person reads dates, in their organisation's time zone.
    zone = ZoneInfo(account.user.organization.time_zone)
    day = date_format(timezone.localtime(account.expires_at, zone).date(), "DATE_FORMAT")
    network = account.get_network_display()
    return (
        "advocacy.token_expiring",
        _("Your %(network)s connection ends on %(date)s") % {"network": network, "date": day},
        _(
            "%(network)s access lasts 60 days. Reconnect in one click to keep posting for "
            "you without a gap."
        )
        % {"network": network},
    )


def _expiry_notice(account: SocialAccount) -> tuple[str, str, str]:
    network = account.get_network_display()
    return (
        "advocacy.token_expired",
        _("Your %(network)s connection has ended") % {"network": network},
        _("Reconnect %(network)s in one click: your waiting shares go out as soon as you do.")
        % {"network": network},
    )


def accounts_remind_expiry(*, now: datetime | None = None) -> dict[str, int]:
    """Tokens that cannot be refreshed (LinkedIn's 60 days): tell the employee a week
    before and on the day, once each; at expiry the account needs reconnecting, and the
    notification's link reconnects it in one click."""
    now = now or timezone.now()
    soon = now + timedelta(days=settings.TOKEN_EXPIRY_WARNING_DAYS)
    unrefreshable = SocialAccount.objects.filter(refresh_token="", expires_at__isnull=False)
    steps = [
        # (count, accounts due, the claim that marks it sent, the notification)
        (
            "warned",
            unrefreshable.filter(
                status=AccountStatus.ACTIVE, expires_at__gt=now, expires_at__lte=soon
            ),
            "expiry_warned_at",
            {"expiry_warned_at": now},
            _expiry_warning,
        ),
        (
            "expired",
            unrefreshable.filter(expires_at__lte=now),
            "expired_notified_at",
            {"expired_notified_at": now, "status": AccountStatus.NEEDS_RECONNECT},
            _expiry_notice,
        ),
    ]
    counts = {"warned": 0, "expired": 0}
    for name, due, marker, claim, message in steps:
        for account_id in due.filter(**{f"{marker}__isnull": True}).values_list("pk", flat=True):
            with transaction.atomic():
                # Claimed once: a second run (or a second worker) sends nothing.
                if not SocialAccount.objects.filter(
                    pk=account_id, **{f"{marker}__isnull": True}
                ).update(**claim):
                    continue
                account = SocialAccount.objects.select_related("user__organization").get(
                    pk=account_id
                )
                with translation.override(account.user.language):
                    kind, title, body = message(account)
                    notification_create(
                        recipient=account.user,
                        kind=kind,
                        title=title,
                        body=body,
                        url=_reconnect_url(account),
                    )
                counts[name] += 1
    return counts


def account_credentials(*, account_id: int) -> Credentials:
    """The account's credentials, refreshed first when they expire within a minute. Runs
    under the account's row lock: X refresh tokens are single use, and two workers
    refreshing at once would kill the chain."""
    refused: NeedsReconnect | None = None
    with transaction.atomic():
        # NO KEY UPDATE still serialises refreshes, but does not block the foreign-key
        # checks of shares being created for this account while a refresh is in flight.
        account = SocialAccount.objects.select_for_update(no_key=True).get(pk=account_id)
        if account.status != AccountStatus.ACTIVE:
            raise NeedsReconnect(_("The account needs reconnecting."))
        credentials = Credentials(
            external_id=account.external_id,
            access_token=token_decrypt(account.access_token),
            refresh_token=token_decrypt(account.refresh_token),
            expires_at=account.expires_at,
        )
        if not credentials.access_token:
            refused = NeedsReconnect(_("The stored token cannot be read; reconnect."))
        elif credentials.expires_at and credentials.expires_at < timezone.now() + timedelta(
            minutes=1
        ):
            try:
                fresh = adapter_for(
                    account.adapter, organization_id=account.organization_id
                ).refresh_credentials(credentials)
            except NeedsReconnect as exc:
                refused = exc
            else:
                # Saved before anyone uses it: the old refresh token is now dead. A
                # network that sends no new refresh token leaves the old one in place.
                account.access_token = token_encrypt(fresh.access_token)
                account.refresh_token = token_encrypt(
                    fresh.refresh_token or credentials.refresh_token
                )
                account.expires_at = fresh.expires_at
                account.save(update_fields=["access_token", "refresh_token", "expires_at"])
                credentials = Credentials(
                    external_id=account.external_id,
                    access_token=fresh.access_token,
                    refresh_token=fresh.refresh_token or credentials.refresh_token,
                    expires_at=fresh.expires_at,
                )
    if refused is not None:
        account_mark_needs_reconnect(account_id=account_id, reason=refused.message)
        raise refused
    return credentials
