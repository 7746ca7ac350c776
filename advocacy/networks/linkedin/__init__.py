"""LinkedIn: employees connect through allauth's `openid_connect` provider with an app
whose provider id is `linkedin` (scopes openid, profile, email, w_member_social); the
member is `urn:li:person:<sub>`. Posting, images and deletion go through our own client
of the versioned REST API (adapter.py). Settings: LINKEDIN_API_BASE_URL,
LINKEDIN_OAUTH_BASE_URL, LINKEDIN_API_VERSION, LINKEDIN_SCOPES, LINKEDIN_CLIENT_ID /
LINKEDIN_CLIENT_SECRET (server-wide defaults)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.urls import reverse

from advocacy.networks import NetworkPackage
from advocacy.networks.base import AccountIdentity
from advocacy.networks.connect import allauth_connect_start
from advocacy.networks.credentials import AppCredentials


def _build(app: AppCredentials | None) -> Any:
    from advocacy.networks.linkedin.adapter import LinkedInAdapter

    assert app is not None
    return LinkedInAdapter(app)


def _social_app(credentials: AppCredentials) -> Any:
    from allauth.socialaccount.models import SocialApp

    return SocialApp(
        provider="openid_connect",
        provider_id="linkedin",
        name="LinkedIn",
        client_id=credentials.client_id,
        secret=credentials.client_secret,
        settings={
            "server_url": settings.LINKEDIN_OAUTH_BASE_URL,
            "scope": list(settings.LINKEDIN_SCOPES),
            # LinkedIn takes the client secret in the form body.
            "token_auth_method": "client_secret_post",
        },
    )


def _identity(data: dict[str, Any]) -> AccountIdentity:
    # allauth keeps {"userinfo": ..., "id_token": ...}; the userinfo is LinkedIn's profile.
    profile = data.get("userinfo") or data.get("id_token") or data
    name = (
        str(profile.get("name") or "").strip()
        or " ".join(str(profile.get(key) or "") for key in ("given_name", "family_name")).strip()
    )
    return AccountIdentity(external_id=str(profile["sub"]), display_name=name)


PACKAGE = NetworkPackage(
    name="linkedin",
    label="LinkedIn",
    networks=("linkedin",),
    build=_build,
    connect_start=allauth_connect_start("linkedin"),
    portal_url="https://www.linkedin.com/developers/apps",
    scopes=tuple(settings.LINKEDIN_SCOPES),
    revocable=False,
    allauth_provider_id="linkedin",
    social_app=_social_app,
    identity=_identity,
    consent_url=lambda: settings.LINKEDIN_OAUTH_BASE_URL,
    callback_path=lambda: reverse("openid_connect_callback", kwargs={"provider_id": "linkedin"}),
)
