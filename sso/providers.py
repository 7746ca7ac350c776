"""allauth's OpenID Connect and SAML providers, completed where they fall short for
single sign-on (SOCIALACCOUNT_PROVIDERS[...]["provider_class"] points here).

- OpenID Connect: allauth sends no `nonce` and so cannot check one. For our SSO apps
  (provider id "sso-<slug>") a nonce is sent with each authorisation request and kept in
  the login state; sso.adapter compares it with the ID token's. LinkedIn (connect only)
  goes through unchanged.
- SAML: python3-saml checks signatures, audience, destination and validity, but nothing
  remembers an assertion already used: its id is recorded until it expires and an
  assertion seen before is refused (sso.models.SamlAssertion). allauth's InResponseTo
  check (the state stashed in this browser's session) answers a bare 403 when it fails:
  here it is a message on the login page."""

from __future__ import annotations

import logging
import secrets
from datetime import UTC, datetime
from typing import Any

from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.models import SocialLogin
from allauth.socialaccount.providers.openid_connect.provider import OpenIDConnectProvider
from allauth.socialaccount.providers.saml.provider import SAMLProvider
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _

from organizations.audit import audit_record

logger = logging.getLogger(__name__)

SSO_OIDC_PREFIX = "sso-"


def is_sso_oidc(provider_id: str | None) -> bool:
    return bool(provider_id) and str(provider_id).startswith(SSO_OIDC_PREFIX)


class SsoOpenIDConnectProvider(OpenIDConnectProvider):
    # allauth mounts the urls and views of the provider's package: keep allauth's.
    package = "allauth.socialaccount.providers.openid_connect"

    def redirect(
        self,
        request: HttpRequest,
        process: Any,
        next_url: str | None = None,
        data: Any = None,
        **kwargs: Any,
    ) -> HttpResponse:
        if is_sso_oidc(self.app.provider_id):
            nonce = secrets.token_urlsafe(32)
            auth_params = dict(kwargs.pop("auth_params", None) or self.get_auth_params())
            auth_params["nonce"] = nonce
            kwargs["auth_params"] = auth_params
            # Kept in the stashed state (the session), returned as sociallogin.state.
            kwargs["sso_nonce"] = nonce
        return super().redirect(request, process, next_url, data, **kwargs)


class SsoSAMLProvider(SAMLProvider):
    package = "allauth.socialaccount.providers.saml"

    def sociallogin_from_response(self, request: HttpRequest, response: Any) -> SocialLogin:
        """python3-saml has checked the signature, audience, destination and validity;
        the assertion is now spent, before anything else is looked at."""
        from sso import selectors, services
        from sso.models import Protocol

        connection = selectors.connection_by_slug(self.app.client_id, protocol=Protocol.SAML)
        assertion_id = response.get_last_assertion_id() or ""
        expiry = response.get_last_assertion_not_on_or_after()
        not_on_or_after = datetime.fromtimestamp(expiry, tz=UTC) if expiry else None
        if connection is None or not assertion_id:
            refuse(request, _("Single sign-on is not set up for this organisation."))
        assert connection is not None
        if not services.assertion_record(
            organization=connection.organization,
            assertion_id=assertion_id,
            not_on_or_after=not_on_or_after,
        ):
            logger.warning("SSO %s: SAML assertion replayed", self.app.client_id)
            audit_record(
                action="sso.sign_in_refused",
                organization=connection.organization,
                request=request,
                details={"reason": "assertion_replayed", "assertion": assertion_id[:100]},
            )
            refuse(
                request,
                _(
                    "Single sign-on failed: this sign-in answer was already used. Please sign in again."
                ),
            )
        login = super().sociallogin_from_response(request, response)
        login.sso_saml = {  # type: ignore[attr-defined]
            # By name, and by friendly name where the IdP gives one (mail, givenName…).
            "attributes": {**response.get_friendlyname_attributes(), **response.get_attributes()},
            "nameid": response.get_nameid() or "",
            "nameid_format": response.get_nameid_format() or "",
        }
        return login

    def unstash_redirect_state(self, request: HttpRequest, state_id: str) -> dict[str, Any]:
        """An answer to a sign-in this browser did not start (or already finished): a clear
        refusal rather than allauth's bare 403."""
        try:
            return super().unstash_redirect_state(request, state_id)
        except PermissionDenied:
            refuse(
                request,
                _(
                    "Single sign-on failed: this answer does not match a sign-in started here. Please sign in again."
                ),
            )
            raise


def refuse(request: HttpRequest, message: str) -> None:
    """Back to the login page with the reason; allauth's middleware sends the response."""
    messages.error(request, message)
    raise ImmediateHttpResponse(HttpResponseRedirect(reverse("account_login")))
