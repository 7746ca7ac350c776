"""Connected accounts: connecting (the sandbox now; X and LinkedIn through allauth later),
disconnecting, and reading credentials under the account's lock."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from advocacy.models import AccountStatus, Share, ShareStatus, SocialAccount
from advocacy.networks import adapter_for
from advocacy.networks.base import Credentials, NeedsReconnect, NetworkError
from advocacy.token_vault import token_decrypt, token_encrypt
from content.models import Network
from notifications.services import notification_create
from organizations.audit import audit_record
from organizations.errors import DomainError
from organizations.models import User

# Networks an app may post to for a person: Facebook allows no posting to personal profiles.
POSTABLE_NETWORKS = (Network.LINKEDIN, Network.X)


def sandbox_available() -> bool:
    return bool(settings.SANDBOX_NETWORK_URL)


def account_connect_sandbox(
    *, user: User, network: str, request: HttpRequest | None = None
) -> SocialAccount:
    """Connect the employee's account on the sandbox network standing in for `network`."""
    from advocacy.networks.sandbox import SandboxAdapter

    if network not in POSTABLE_NETWORKS:
        raise DomainError(
            _("Facebook does not let apps post to personal profiles; use share links."),
            field="network",
        )
    if not sandbox_available():
        raise DomainError(_("The sandbox network is not configured on this server."))
    adapter = adapter_for("sandbox")
    assert isinstance(adapter, SandboxAdapter)
    handle = f"{user.email.split('@')[0]}-{network}"
    try:
        credentials, identity = adapter.connect(handle)
    except NetworkError as exc:
        raise DomainError(
            _("The network could not be reached: %(error)s") % {"error": exc.message}
        ) from exc
    with transaction.atomic():
        account, _created = SocialAccount.objects.update_or_create(
            user=user,
            network=network,
            defaults={
                "organization_id": user.organization_id,
                "adapter": "sandbox",
                "external_id": identity.external_id,
                "display_name": identity.display_name,
                "access_token": token_encrypt(credentials.access_token),
                "refresh_token": token_encrypt(credentials.refresh_token),
                "expires_at": credentials.expires_at,
                "status": AccountStatus.ACTIVE,
            },
        )
        audit_record(
            action="social_account.connected",
            organization=user.organization,
            actor=user,
            target=account,
            request=request,
            details={"network": network, "adapter": "sandbox"},
        )
        # Shares that waited for a reconnection go out again.
        waiting = list(
            Share.objects.filter(
                user=user, network=network, status=ShareStatus.NEEDS_RECONNECT
            ).values_list("pk", flat=True)
        )
        if waiting:
            from advocacy.services.pipeline import share_dispatch

            Share.objects.filter(pk__in=waiting).update(
                status=ShareStatus.SCHEDULED,
                account=account,
                next_attempt_at=timezone.now(),
                attempt_count=0,
                last_error="",
            )
            for share_id in waiting:
                share_dispatch(share_id=share_id)
    return account


def account_disconnect(*, user: User, account: SocialAccount, request: HttpRequest | None = None):
    if account.user_id != user.pk:
        raise DomainError(_("This account is not yours."))
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
            details={"network": account.network},
        )
        account.delete()


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
                url="/networks/",
            )


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
                fresh = adapter_for(account.adapter).refresh_credentials(credentials)
            except NeedsReconnect as exc:
                refused = exc
            else:
                # Saved before anyone uses it: the old refresh token is now dead.
                account.access_token = token_encrypt(fresh.access_token)
                account.refresh_token = token_encrypt(
                    fresh.refresh_token or credentials.refresh_token
                )
                account.expires_at = fresh.expires_at
                account.save(update_fields=["access_token", "refresh_token", "expires_at"])
                credentials = fresh
    if refused is not None:
        account_mark_needs_reconnect(account_id=account_id, reason=refused.message)
        raise refused
    return credentials
