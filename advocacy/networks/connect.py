"""Connecting an employee's network account through django-allauth, in connect mode only.

allauth runs the OAuth dance (state, PKCE, the token exchange, the profile); we give it
the organisation's app (client id and secret from NetworkApp or the server defaults),
refuse every use of these providers to sign in, and on success keep the tokens ourselves,
encrypted, on our SocialAccount (allauth stores tokens in clear, so it stores none)."""

from __future__ import annotations

import logging
from typing import Any

from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter, get_adapter
from allauth.socialaccount.models import SocialApp, SocialLogin
from allauth.socialaccount.signals import social_account_added, social_account_updated
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _

from advocacy.networks import NetworkPackage, packages
from advocacy.networks.base import AccountIdentity, Credentials
from advocacy.networks.credentials import app_credentials

logger = logging.getLogger(__name__)

CANCELLED_ERRORS = {"access_denied", "user_cancelled_authorize", "user_cancelled_login"}


def _organization_id(request: HttpRequest | None) -> int | None:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    return user.organization_id


def package_for_provider(provider_id: str) -> NetworkPackage | None:
    for package in packages().values():
        if package.allauth_provider_id == provider_id:
            return package
    return None


class ConnectOnlyAdapter(DefaultSocialAccountAdapter):
    def list_apps(
        self, request: HttpRequest | None, provider: str | None = None, client_id: str | None = None
    ) -> list[SocialApp]:
        """The organisation's apps, never stored in allauth's table: one per network
        package set up for the caller's organisation."""
        organization_id = _organization_id(request)
        if organization_id is None:
            return []
        apps = []
        for package in packages().values():
            if package.social_app is None:
                continue
            credentials = app_credentials(organization_id=organization_id, name=package.name)
            if credentials is None or not credentials.api_posting:
                continue
            app = package.social_app(credentials)
            if provider and provider not in (app.provider, app.provider_id):
                continue
            if client_id and client_id != app.client_id:
                continue
            apps.append(app)
        return apps

    def get_app(
        self, request: HttpRequest | None, provider: str, client_id: str | None = None
    ) -> SocialApp:
        """No app for the caller (signed out, or the organisation has not set the network
        up) is a 404 on allauth's login and callback pages, not a server error."""
        try:
            return super().get_app(request, provider, client_id=client_id)
        except SocialApp.DoesNotExist:
            raise Http404("This network is not set up here.") from None

    def is_open_for_signup(self, request: HttpRequest, sociallogin: SocialLogin) -> bool:
        return False

    def pre_social_login(self, request: HttpRequest, sociallogin: SocialLogin) -> None:
        """Network accounts post for people who are signed in; they never sign anyone in."""
        if sociallogin.state.get("process") != "connect" or not request.user.is_authenticated:
            messages.error(request, _("Sign in first, then connect your account from My networks."))
            raise ImmediateHttpResponse(HttpResponseRedirect(reverse("account_login")))

    def get_connect_redirect_url(self, request: HttpRequest, socialaccount: Any) -> str:
        return reverse("networks")

    def on_authentication_error(
        self,
        request: HttpRequest,
        provider: Any,
        error: Any = None,
        exception: Exception | None = None,
        extra_context: dict[str, Any] | None = None,
    ) -> None:
        """A refused or broken connection goes back to My networks with a message, not
        to allauth's bare error page."""
        if exception is not None:
            logger.warning("Connecting %s failed: %r", getattr(provider, "id", provider), exception)
        # allauth knows OAuth's access_denied; LinkedIn says user_cancelled_*.
        refused = request.GET.get("error", "")
        if str(error) == "cancelled" or refused in CANCELLED_ERRORS:
            messages.info(request, _("Connection cancelled: nothing was changed."))
        else:
            messages.error(
                request,
                _("The connection with %(network)s did not complete. Please try again.")
                % {"network": getattr(provider, "name", "")},
            )
        raise ImmediateHttpResponse(HttpResponseRedirect(reverse("networks")))


def allauth_connect_start(provider_id: str) -> Any:
    """A package's `connect_start` for networks connected through allauth: the redirect to
    the network's consent page, with the state (and PKCE verifier) kept in the session."""

    def start(request: HttpRequest, user: Any, network: str) -> HttpResponse:
        provider = get_adapter(request).get_provider(request, provider_id)
        return provider.redirect(request, process="connect", next_url=reverse("networks"))

    return start


def _connected(request: HttpRequest, sociallogin: SocialLogin, **kwargs: Any) -> None:
    """allauth connected (or re-authorised) an account: keep its tokens on our side."""
    from advocacy.services.accounts import account_save

    if sociallogin.state.get("process") != "connect" or not request.user.is_authenticated:
        return
    if sociallogin.account.user_id not in (None, request.user.pk):
        return
    package = package_for_provider(sociallogin.account.provider)
    token = sociallogin.token
    if package is None or package.identity is None or token is None:
        return
    identity: AccountIdentity = package.identity(sociallogin.account.extra_data)
    account_save(
        user=request.user,
        network=package.networks[0],
        adapter=package.name,
        identity=identity,
        credentials=Credentials(
            external_id=identity.external_id,
            access_token=token.token,
            refresh_token=token.token_secret or "",
            expires_at=token.expires_at,
        ),
        request=request,
    )


def connect_signals() -> None:
    social_account_added.connect(_connected, dispatch_uid="advocacy-network-connected")
    social_account_updated.connect(_connected, dispatch_uid="advocacy-network-reconnected")
