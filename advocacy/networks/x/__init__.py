"""X (API v2): employees connect with OAuth 2.0 + PKCE through allauth's `twitter_oauth2`
provider (provider.py), and Portevoix posts, deletes, refreshes and reads metrics through
tweepy (adapter.py). Settings: X_API_BASE_URL, X_AUTHORIZE_URL, X_SCOPES,
X_APP_DAILY_POST_CAP, X_CLIENT_ID / X_CLIENT_SECRET (server-wide defaults)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.urls import reverse

from advocacy.networks import NetworkPackage
from advocacy.networks.base import AccountIdentity
from advocacy.networks.connect import allauth_connect_start
from advocacy.networks.credentials import AppCredentials


def _build(app: AppCredentials | None) -> Any:
    from advocacy.networks.x.adapter import XAdapter

    assert app is not None
    return XAdapter(app)


def _social_app(credentials: AppCredentials) -> Any:
    from allauth.socialaccount.models import SocialApp

    return SocialApp(
        provider="twitter_oauth2",
        name="X",
        client_id=credentials.client_id,
        secret=credentials.client_secret,
        settings={"scope": list(settings.X_SCOPES)},
    )


def _identity(profile: dict[str, Any]) -> AccountIdentity:
    username = str(profile.get("username") or "")
    return AccountIdentity(
        external_id=str(profile["id"]),
        display_name=f"@{username}" if username else str(profile.get("name") or ""),
    )


PACKAGE = NetworkPackage(
    name="x",
    label="X",
    networks=("x",),
    build=_build,
    connect_start=allauth_connect_start("twitter_oauth2"),
    portal_url="https://developer.x.com/en/portal/dashboard",
    scopes=tuple(settings.X_SCOPES),
    allauth_provider_id="twitter_oauth2",
    social_app=_social_app,
    identity=_identity,
    consent_url=lambda: settings.X_AUTHORIZE_URL,
    callback_path=lambda: reverse("twitter_oauth2_callback"),
)
