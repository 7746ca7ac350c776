"""The sandbox network: a fake social network on loopback that stands in for LinkedIn and
X in the demo and the tests when no real app is set up. Connecting is one click (the fake
issues a token for a handle); it is offered only when SANDBOX_NETWORK_URL is set."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings

from advocacy.networks import NetworkPackage
from advocacy.networks.sandbox.adapter import SandboxAdapter

if TYPE_CHECKING:
    from django.http import HttpRequest, HttpResponse

    from advocacy.networks.credentials import AppCredentials
    from organizations.models import User


def _build(app: AppCredentials | None) -> SandboxAdapter:
    from advocacy.networks import AdapterNotConfigured

    if not settings.SANDBOX_NETWORK_URL:
        raise AdapterNotConfigured("The sandbox network is not configured (SANDBOX_NETWORK_URL).")
    return SandboxAdapter(base_url=settings.SANDBOX_NETWORK_URL)


def _connect_start(request: HttpRequest, user: User, network: str) -> HttpResponse:
    from django.contrib import messages
    from django.shortcuts import redirect
    from django.utils.translation import gettext as _

    from advocacy.networks.sandbox.connect import sandbox_connect

    sandbox_connect(user=user, network=network, request=request)
    messages.success(
        request, _("Connected. Your shares to this network can now be posted for you.")
    )
    return redirect("networks")


PACKAGE = NetworkPackage(
    name="sandbox",
    label="Sandbox",
    networks=("linkedin", "x"),
    build=_build,
    connect_start=_connect_start,
    needs_app=False,
    revocable=False,
    fallback=True,
    is_available=lambda: bool(settings.SANDBOX_NETWORK_URL),
)

__all__ = ["PACKAGE", "SandboxAdapter"]
