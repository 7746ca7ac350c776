"""One adapter per network behind one interface (`base.NetworkAdapter`). The pipeline only
ever sees the four outcomes of `base.NetworkError`."""

from __future__ import annotations

from advocacy.networks.base import NetworkAdapter


class AdapterNotConfigured(LookupError):
    """No adapter of that name on this server (a setting is missing)."""


def adapter_for(name: str) -> NetworkAdapter:
    """The adapter registered under `name` ("sandbox" now; "x" and "linkedin" plug in here)."""
    from django.conf import settings

    if name == "sandbox":
        from advocacy.networks.sandbox import SandboxAdapter

        if not settings.SANDBOX_NETWORK_URL:
            raise AdapterNotConfigured(
                "The sandbox network is not configured (SANDBOX_NETWORK_URL)."
            )
        return SandboxAdapter(base_url=settings.SANDBOX_NETWORK_URL)
    raise AdapterNotConfigured(f"No adapter for {name!r}")
