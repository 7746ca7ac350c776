"""The sandbox's stand-in for an OAuth dance: the fake network issues a token for a
handle derived from the employee's address."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.translation import gettext as _

from advocacy.models import SocialAccount
from advocacy.networks.base import NetworkError
from organizations.errors import DomainError
from organizations.models import User


def sandbox_connect(
    *, user: User, network: str, request: HttpRequest | None = None
) -> SocialAccount:
    from advocacy.networks import adapter_for
    from advocacy.networks.sandbox.adapter import SandboxAdapter
    from advocacy.services.accounts import POSTABLE_NETWORKS, account_save

    if network not in POSTABLE_NETWORKS:
        raise DomainError(
            _("Facebook does not let apps post to personal profiles; use share links."),
            field="network",
        )
    try:
        adapter = adapter_for("sandbox")
    except LookupError as exc:
        raise DomainError(_("The sandbox network is not configured on this server.")) from exc
    assert isinstance(adapter, SandboxAdapter)
    handle = f"{user.email.split('@')[0]}-{network}"
    try:
        credentials, identity = adapter.connect(handle)
    except NetworkError as exc:
        raise DomainError(
            _("The network could not be reached: %(error)s") % {"error": exc.message}
        ) from exc
    return account_save(
        user=user,
        network=network,
        adapter="sandbox",
        identity=identity,
        credentials=credentials,
        request=request,
    )
