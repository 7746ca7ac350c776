"""allauth's `twitter_oauth2` provider with X's addresses read from settings (allauth
hard-codes them) and our scopes: posting needs `tweet.write`, refreshing `offline.access`
and images `media.write`, none of which allauth asks for by default. Registered through
SOCIALACCOUNT_PROVIDERS["twitter_oauth2"]["provider_class"]; allauth then takes this
package's `urls` and `views` for the login and callback."""

from __future__ import annotations

from typing import Any

from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.providers.base.constants import AuthProcess
from allauth.socialaccount.providers.twitter_oauth2.provider import TwitterOAuth2Provider
from allauth.socialaccount.providers.twitter_oauth2.views import TwitterOAuth2Adapter
from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _


class XOAuth2Adapter(TwitterOAuth2Adapter):
    @property  # type: ignore[override]
    def access_token_url(self) -> str:
        return f"{settings.X_API_BASE_URL}/2/oauth2/token"

    @property  # type: ignore[override]
    def authorize_url(self) -> str:
        return settings.X_AUTHORIZE_URL

    @property  # type: ignore[override]
    def profile_url(self) -> str:
        return f"{settings.X_API_BASE_URL}/2/users/me"


class XProvider(TwitterOAuth2Provider):
    oauth2_adapter_class = XOAuth2Adapter
    # PKCE (S256) on: the verifier stays in allauth's state until the callback.
    pkce_enabled_default = True

    def redirect(
        self,
        request: HttpRequest,
        process: str,
        next_url: str | None = None,
        data: Any = None,
        **kwargs: Any,
    ) -> HttpResponse:
        """Only connecting goes to X: a sign-in attempt stops here, before X issues tokens
        that nobody would keep (the callback refuses it too, see connect.py)."""
        if process != AuthProcess.CONNECT:
            # The callback's refusal, already translated.
            messages.error(request, _("Sign in first, then connect your account from My networks."))
            raise ImmediateHttpResponse(HttpResponseRedirect(reverse("networks")))
        return super().redirect(request, process, next_url=next_url, data=data, **kwargs)

    def get_default_scope(self) -> list[str]:
        return list(settings.X_SCOPES)

    def get_fields(self) -> list[str]:
        return ["id", "name", "username", "profile_image_url"]
