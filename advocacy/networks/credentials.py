"""An organisation's app credentials at a network: the org admin's NetworkApp row, or the
server-wide defaults from the environment (`X_CLIENT_ID`, `LINKEDIN_CLIENT_ID`, ...)."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings


@dataclass(frozen=True)
class AppCredentials:
    name: str
    client_id: str
    client_secret: str
    api_posting: bool = True
    community_management: bool = False
    organization_id: int | None = None


def app_credentials(*, organization_id: int | None, name: str) -> AppCredentials | None:
    """The credentials to use for `name` in that organisation, None when there are none."""
    from advocacy.models import NetworkApp
    from advocacy.token_vault import token_decrypt

    row = (
        NetworkApp.objects.filter(organization_id=organization_id, adapter=name).first()
        if organization_id
        else None
    )
    if row is not None and row.client_id:
        secret = token_decrypt(row.client_secret)
        if row.client_secret and not secret:
            return None  # encrypted with a key no longer listed: set it again
        return AppCredentials(
            name=name,
            client_id=row.client_id,
            client_secret=secret,
            api_posting=row.api_posting,
            community_management=row.community_management,
            organization_id=organization_id,
        )
    default = settings.NETWORK_APP_DEFAULTS.get(name, {})
    if default.get("client_id"):
        return AppCredentials(
            name=name,
            client_id=default["client_id"],
            client_secret=default.get("client_secret", ""),
            api_posting=True,
            organization_id=organization_id,
        )
    return None
