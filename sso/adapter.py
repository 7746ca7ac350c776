"""allauth adapters: the organisations' identity providers sign people in, while network
accounts (X, LinkedIn) stay connect-only (advocacy.networks.connect.ConnectOnlyAdapter,
unchanged for them); and password sign-in is refused where an organisation requires SSO.

Each organisation's SocialApp is built in memory from its SsoConnection rather than kept
in allauth's table, which would hold the OpenID client secret in clear and be a second
place for the admin to edit: OpenID Connect as provider id "sso-<slug>"
(/accounts/oidc/sso-<slug>/…), SAML as client id and provider id "<slug>"
(/accounts/saml/<slug>/acs/, /accounts/saml/<slug>/metadata/)."""

from __future__ import annotations

import logging
from typing import Any

from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.models import SocialApp, SocialLogin
from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _

from advocacy.networks.connect import ConnectOnlyAdapter, package_for_provider
from organizations.audit import audit_record
from organizations.auth import AccountAdapter
from organizations.models import Role, User
from sso import selectors, services
from sso.mapping import oidc_profile, saml_profile
from sso.models import Protocol, SsoConnection
from sso.providers import SSO_OIDC_PREFIX, is_sso_oidc

logger = logging.getLogger(__name__)

# OpenID Connect scopes asked of the IdP; "groups" is added when a group claim is mapped.
OIDC_SCOPES = ["openid", "email", "profile"]


def oidc_app(connection: SsoConnection) -> SocialApp:
    scope = list(OIDC_SCOPES)
    return SocialApp(
        provider="openid_connect",
        provider_id=connection.oidc_provider_id,
        name=connection.organization.name,
        client_id=connection.oidc_client_id,
        secret=services.oidc_client_secret(connection),
        settings={
            "server_url": connection.oidc_issuer,
            "oauth_pkce_enabled": True,
            "fetch_userinfo": True,
            "scope": scope,
            # The issuer and endpoints checked when the connection was saved win over
            # the discovery document allauth fetches again.
            "openid_configuration_overrides": dict(connection.oidc_endpoints or {}),
        },
    )


def saml_app(connection: SsoConnection) -> SocialApp:
    slug = connection.organization.slug
    return SocialApp(
        provider="saml",
        provider_id=slug,
        client_id=slug,
        name=connection.organization.name,
        settings={
            "idp": {
                "entity_id": connection.saml_idp_entity_id,
                "sso_url": connection.saml_idp_sso_url,
                "x509cert": connection.saml_idp_x509cert,
            },
            # Attributes are read by sso.mapping from the raw assertion; NameID is the uid.
            "attribute_mapping": {},
            "advanced": {
                "strict": True,
                "want_assertion_signed": True,
                "reject_deprecated_algorithm": True,
                "reject_idp_initiated_sso": True,
                "want_attribute_statement": False,
                # Only python3-saml's syntax check of our own URLs: a host without a dot
                # (an intranet name, "testserver") is a valid one.
                "allow_single_label_domains": True,
            },
        },
    )


def _sso_connection(provider_id: str) -> SsoConnection | None:
    """The connection of an allauth provider id: "sso-<slug>" is only ever OpenID Connect,
    anything else only SAML (an organisation whose slug starts with "sso-" cannot set up
    SSO, see services.SSO_RESERVED_PREFIX, so the two never meet)."""
    if is_sso_oidc(provider_id):
        return selectors.connection_by_slug(
            provider_id.removeprefix(SSO_OIDC_PREFIX), protocol=Protocol.OIDC
        )
    return selectors.connection_by_slug(provider_id, protocol=Protocol.SAML)


def _app_connection(app: SocialApp | None) -> SsoConnection | None:
    """The organisation's connection an allauth app stands for, chosen by the app's
    provider (SAML or OpenID Connect), never guessed from the id alone."""
    if app is None:
        return None
    if app.provider == "saml":
        slug = app.client_id or app.provider_id
        if not slug or is_sso_oidc(slug):
            return None
        return selectors.connection_by_slug(slug, protocol=Protocol.SAML)
    if app.provider == "openid_connect" and is_sso_oidc(app.provider_id):
        return selectors.connection_by_slug(
            app.provider_id.removeprefix(SSO_OIDC_PREFIX), protocol=Protocol.OIDC
        )
    return None


def _is_sso_app(app: SocialApp | None) -> bool:
    return app is not None and (
        app.provider == "saml"
        or (app.provider == "openid_connect" and is_sso_oidc(app.provider_id))
    )


def sso_login_url(connection: SsoConnection) -> str:
    if connection.protocol == Protocol.OIDC:
        return reverse("openid_connect_login", kwargs={"provider_id": connection.oidc_provider_id})
    return reverse("saml_login", kwargs={"organization_slug": connection.organization.slug})


class SsoSocialAccountAdapter(ConnectOnlyAdapter):
    def _sso_apps(self, provider: str | None, client_id: str | None) -> list[SocialApp]:
        if provider is None:
            return []
        if provider == "saml":
            connection = (
                selectors.connection_by_slug(client_id, protocol=Protocol.SAML)
                if client_id and not is_sso_oidc(client_id)
                else None
            )
            return [saml_app(connection)] if connection else []
        if provider == "openid_connect":
            apps = [oidc_app(c) for c in selectors.connections_with_protocol(Protocol.OIDC)]
            return [a for a in apps if not client_id or a.client_id == client_id]
        if package_for_provider(provider) is not None:
            return []  # a network (X, LinkedIn), never an organisation's slug
        connection = _sso_connection(provider)
        if connection is None:
            return []
        app = oidc_app(connection) if connection.protocol == Protocol.OIDC else saml_app(connection)
        return [app] if not client_id or client_id == app.client_id else []

    def list_apps(
        self, request: HttpRequest | None, provider: str | None = None, client_id: str | None = None
    ) -> list[SocialApp]:
        """The network apps of the caller's organisation (the parent's), and the SSO app
        asked for by provider id (sign-in happens before anyone is known)."""
        return super().list_apps(request, provider, client_id) + self._sso_apps(provider, client_id)

    def _is_sso(self, sociallogin: SocialLogin) -> SsoConnection | None:
        app = sociallogin.provider.app if sociallogin.provider else None
        return _app_connection(app) if _is_sso_app(app) else None

    def _refuse(self, request: HttpRequest, message: str) -> None:
        messages.error(request, message)
        raise ImmediateHttpResponse(HttpResponseRedirect(reverse("account_login")))

    def pre_social_login(self, request: HttpRequest, sociallogin: SocialLogin) -> None:
        app = sociallogin.provider.app if sociallogin.provider else None
        if not _is_sso_app(app):
            return super().pre_social_login(request, sociallogin)
        connection = _app_connection(app)
        if connection is None:
            self._refuse(request, _("Single sign-on is not set up for this organisation."))
        assert connection is not None
        if connection.protocol == Protocol.OIDC:
            expected = sociallogin.state.get("sso_nonce")
            id_token = sociallogin.account.extra_data.get("id_token") or {}
            if not expected or id_token.get("nonce") != expected:
                logger.warning("SSO %s: ID token nonce mismatch", connection.oidc_provider_id)
                audit_record(
                    action="sso.sign_in_refused",
                    organization=connection.organization,
                    request=request,
                    details={"reason": "nonce_mismatch"},
                )
                self._refuse(
                    request,
                    _(
                        "Single sign-on failed: the answer of your identity provider could not be checked. Please try again."
                    ),
                )
            profile = oidc_profile(
                connection, sociallogin.account.extra_data, sociallogin.account.uid
            )
        else:
            saml = getattr(sociallogin, "sso_saml", None) or {}
            profile = saml_profile(
                connection,
                saml.get("attributes") or {},
                nameid=saml.get("nameid", ""),
                nameid_format=saml.get("nameid_format", ""),
            )
        linked = sociallogin.user if sociallogin.is_existing else None
        try:
            user, _created = services.sso_user_resolve(
                connection=connection, profile=profile, linked_user=linked, request=request
            )
        except services.SsoRefused as refusal:
            self._refuse(request, refusal.message)
            return
        if linked is None:
            sociallogin.user = user
            sociallogin.save(request, connect=True)
        else:
            sociallogin.user = user

    def on_authentication_error(
        self,
        request: HttpRequest,
        provider: Any,
        error: Any = None,
        exception: Exception | None = None,
        extra_context: dict[str, Any] | None = None,
    ) -> None:
        app = getattr(provider, "app", None)
        if not _is_sso_app(app):
            return super().on_authentication_error(
                request, provider, error, exception, extra_context
            )
        assert app is not None
        reason = (extra_context or {}).get("saml_last_error_reason") or repr(exception or error)
        logger.warning("SSO sign-in with %s failed: %s", app.provider_id, reason)
        connection = _app_connection(app)
        if connection is not None:
            audit_record(
                action="sso.sign_in_refused",
                organization=connection.organization,
                request=request,
                details={"reason": "protocol_error", "error": str(reason)[:500]},
            )
        if str(error) == "cancelled":
            messages.info(request, _("Single sign-on cancelled."))
        else:
            messages.error(
                request,
                _(
                    "Single sign-on did not complete: the answer of your identity provider "
                    "was refused. Please try again, or ask your administrator."
                ),
            )
        raise ImmediateHttpResponse(HttpResponseRedirect(reverse("account_login")))


# --- Password sign-in ---------------------------------------------------------------------

BREAK_GLASS_FLAG = "_sso_break_glass"


def break_glass_admin_of(connection: SsoConnection) -> User | None:
    """The break-glass administrator, only while still an active admin of the organisation
    (checked at every sign-in: a demoted or deactivated person is no longer let through)."""
    admin = connection.break_glass_admin
    if (
        admin is None
        or not admin.is_active
        or admin.role != Role.ORG_ADMIN
        or admin.organization_id != connection.organization_id
    ):
        return None
    return admin


def password_sign_in_refusal(request: HttpRequest | None, email: str) -> str | None:
    """Why a password sign-in for this address is refused (None when it is allowed). The
    break-glass administrator of an enforcing organisation is let through, flagged on the
    request so that the backend lets the password be checked."""
    connection = selectors.enforcement_for_email(email)
    if connection is None:
        return None
    admin = break_glass_admin_of(connection)
    if admin is not None and admin.email == email.strip().lower() and request is not None:
        setattr(request, BREAK_GLASS_FLAG, connection.pk)
        return None
    return _sso_required_message(connection)


def _sso_required_message(connection: SsoConnection) -> str:
    return _(
        "%(organization)s signs in with single sign-on: use “Continue with single sign-on” "
        "with your work email."
    ) % {"organization": connection.organization.name}


def _break_glass_audit(request: HttpRequest, user: User, connection: SsoConnection) -> None:
    """Written when the break-glass administrator's password is accepted: on that very
    request, whether or not a second factor is still to come (the sign-in itself then
    happens on a later request)."""
    logger.warning(
        "BREAK-GLASS: %s signed in with a password although %s requires single sign-on",
        user.email,
        connection.organization,
    )
    audit_record(
        action="sso.break_glass_sign_in",
        organization=connection.organization,
        actor=user,
        target=user,
        request=request,
        details={"severity": "high"},
    )


def _last_authentication_method(request: HttpRequest, user: User) -> str:
    """How this sign-in was proven ("password", "code", "mfa" for a passkey,
    "password_reset", "socialaccount"…): allauth records each step before pre_login."""
    from allauth.account.internal.flows.login import get_authentication_records

    records = get_authentication_records(request, user)
    return str(records[-1].get("method", "")) if records else ""


class SsoAccountAdapter(AccountAdapter):
    def pre_authenticate(self, request: HttpRequest, **credentials: Any) -> None:
        super().pre_authenticate(request, **credentials)
        email = str(credentials.get("email") or credentials.get("username") or "")
        refusal = password_sign_in_refusal(request, email)
        if refusal:
            user = User.objects.filter(email__iexact=email).select_related("organization").first()
            audit_record(
                action="sso.password_refused",
                organization=user.organization if user else None,
                actor_email=email.strip().lower()[:254],
                request=request,
            )
            raise forms.ValidationError(refusal)

    def pre_login(self, request: HttpRequest, user: Any, **kwargs: Any) -> HttpResponse | None:
        """Every kind of sign-in passes here (password, passkey, code by email, password
        reset, SSO), not only those that go through authenticate(): where SSO is required,
        only the organisation's own SSO, or the break-glass administrator's password, gets
        through."""
        response = super().pre_login(request, user, **kwargs)
        if response is not None:
            return response
        connection = selectors.enforcement_for_email(user.email or "")
        if connection is None:
            return None
        sociallogin = (kwargs.get("signal_kwargs") or {}).get("sociallogin")
        if sociallogin is not None:
            app = sociallogin.provider.app if sociallogin.provider else None
            via = _app_connection(app) if _is_sso_app(app) else None
            if via is not None and via.pk == connection.pk:
                return None
        method = _last_authentication_method(request, user)
        admin = break_glass_admin_of(connection)
        if (
            sociallogin is None
            and method == "password"
            and admin is not None
            and admin.pk == user.pk
        ):
            _break_glass_audit(request, user, connection)
            return None
        from allauth.account.internal.stagekit import clear_login

        clear_login(request)
        audit_record(
            action="sso.password_refused",
            organization=connection.organization,
            actor_email=(user.email or "").strip().lower()[:254],
            target=user,
            request=request,
            details={"method": "socialaccount" if sociallogin is not None else method},
        )
        messages.error(request, _sso_required_message(connection))
        return HttpResponseRedirect(reverse("account_login"))
