"""One package per network, `advocacy/networks/<name>/`, behind one registry. Each package
holds its adapter (publish, delete, find_post, fetch_metrics, refresh_credentials, revoke),
its connect flow and its settings, and names them in a `PACKAGE` (a `NetworkPackage`) in
its `__init__.py`. Adding a network is adding a folder: the registry finds it.

The pipeline only ever sees the four outcomes of `base.NetworkError`."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

from advocacy.networks.base import AccountIdentity, NetworkAdapter

if TYPE_CHECKING:
    from django.http import HttpRequest, HttpResponse

    from advocacy.networks.credentials import AppCredentials
    from organizations.models import User


class AdapterNotConfigured(LookupError):
    """No adapter of that name on this server, or the organisation has not set it up."""


@dataclass(frozen=True)
class NetworkPackage:
    # Stored on SocialAccount.adapter: which code talks to the network for that account.
    name: str
    label: str
    # The content networks (content.Network values) it posts for.
    networks: tuple[str, ...]
    # The adapter for an organisation's app credentials (None: the package needs none).
    build: Callable[[AppCredentials | None], NetworkAdapter]
    # Starts connecting an employee's account: a redirect to the network's consent page,
    # or (the sandbox) the connection itself and a redirect back.
    connect_start: Callable[[HttpRequest, User, str], HttpResponse]
    # Whether the organisation must enter a client id and secret first (X, LinkedIn).
    needs_app: bool = True
    # Shown to the org admin: where the network's developer portal is, which scopes.
    portal_url: str = ""
    scopes: tuple[str, ...] = ()
    # Whether the network can revoke a token (LinkedIn cannot).
    revocable: bool = True
    # Connecting through django-allauth: the provider id allauth files the account under,
    # allauth's app for the organisation's credentials, and our identity from the profile
    # allauth fetched (its `extra_data`).
    allauth_provider_id: str = ""
    social_app: Callable[[AppCredentials], Any] | None = None
    identity: Callable[[dict[str, Any]], AccountIdentity] | None = None
    # Where the network sends the employee back (to register at the network's portal).
    callback_path: Callable[[], str] | None = None
    # The address of the network's consent page: the page with the Connect button must
    # allow its origin as a form target (CSP form-action also covers the redirect).
    consent_url: Callable[[], str] | None = None
    # Only for demos and tests: offered when no real package is set up for a network.
    fallback: bool = False
    # Packages without app credentials (the sandbox) say whether the server has them.
    is_available: Callable[[], bool] = lambda: True

    def configured(self, organization_id: int | None) -> bool:
        """Whether employees of the organisation may connect and post through it."""
        from advocacy.networks.credentials import app_credentials

        if not self.needs_app:
            return self.is_available()
        credentials = app_credentials(organization_id=organization_id, name=self.name)
        return credentials is not None and credentials.api_posting


@cache
def packages() -> dict[str, NetworkPackage]:
    """Every network package under advocacy/networks/, by name."""
    found: dict[str, NetworkPackage] = {}
    for module in pkgutil.iter_modules(__path__):
        if not module.ispkg:
            continue
        package = getattr(importlib.import_module(f"{__name__}.{module.name}"), "PACKAGE", None)
        if isinstance(package, NetworkPackage):
            found[package.name] = package
    return found


def package_for(name: str) -> NetworkPackage:
    try:
        return packages()[name]
    except KeyError:
        raise AdapterNotConfigured(f"No network package named {name!r}") from None


def adapter_for(name: str, *, organization_id: int | None = None) -> NetworkAdapter:
    """The adapter registered under `name`, with the organisation's app credentials when
    the package needs them. Raises AdapterNotConfigured when it cannot be used."""
    from advocacy.networks.credentials import app_credentials

    package = package_for(name)
    credentials = None
    if package.needs_app:
        credentials = app_credentials(organization_id=organization_id, name=name)
        if credentials is None:
            raise AdapterNotConfigured(
                f"{package.label} is not set up for this organisation (client id and secret)."
            )
    return package.build(credentials)


def connector_for(*, organization_id: int | None, network: str) -> NetworkPackage | None:
    """The package an employee of the organisation connects `network` with: a real one
    set up by the org admin first, else the sandbox (demo, tests), else none."""
    candidates = [p for p in packages().values() if network in p.networks]
    for package in sorted(candidates, key=lambda p: p.fallback):
        if package.configured(organization_id):
            return package
    return None
