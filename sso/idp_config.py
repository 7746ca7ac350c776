"""The one place where the identity provider's configuration is fetched and read: OpenID
Connect discovery and SAML metadata. Strict: anything missing is a clear error for the
admin, before anything is saved."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
import urllib3.exceptions
from django.conf import settings
from django.utils.translation import gettext as _
from onelogin.saml2.constants import OneLogin_Saml2_Constants
from onelogin.saml2.idp_metadata_parser import OneLogin_Saml2_IdPMetadataParser

from content.linkpreview import AddressPolicy, LinkRefused
from content.linkpreview import url_check as address_check
from organizations.errors import DomainError

MAX_DOCUMENT_BYTES = 1_000_000


class IdpConfigError(DomainError):
    """The IdP's configuration cannot be used; the message says why."""


# Any port: identity providers are often on 8443 and the like. The addresses are what
# matters: only public ones, as for link previews, and loopback (never another private
# address) when SSO_ALLOW_INSECURE_URLS is on (development and tests).
_ALL_PORTS = frozenset(range(1, 65536))
_LOOPBACK = frozenset({"127.0.0.1", "::1"})


def _address_policy() -> AddressPolicy:
    return AddressPolicy(
        allowed_ports=_ALL_PORTS,
        allow_addresses=_LOOPBACK if settings.SSO_ALLOW_INSECURE_URLS else frozenset(),
    )


def url_check(url: str, *, field: str) -> str:
    """https only (http too when SSO_ALLOW_INSECURE_URLS), and a host whose every address
    is public (content.linkpreview's rules): the admin's URL must not make the server
    reach its own network. Resolved when checked; the fetch resolves again (requests), so
    this does not stop a DNS answer that changes in between."""
    url = url.strip()
    parts = urlsplit(url)
    secure = parts.scheme == "https"
    if not parts.hostname or not (
        secure or (parts.scheme == "http" and settings.SSO_ALLOW_INSECURE_URLS)
    ):
        raise IdpConfigError(_("The address must start with https://."), field=field)
    try:
        address_check(url, policy=_address_policy())
    except LinkRefused as refused:
        if refused.code == "unresolvable":
            message = _("%(url)s could not be found. Check the address and try again.")
        elif refused.code in ("invalid", "userinfo", "numeric_form", "scheme", "port"):
            message = _("%(url)s is not a valid web address for an identity provider.")
        else:
            message = _(
                "%(url)s points to a private or reserved network address: an identity "
                "provider must be reachable on the internet."
            )
        raise IdpConfigError(message % {"url": url}, field=field) from None
    return url


def _get(url: str, *, field: str) -> requests.Response:
    unreachable = IdpConfigError(
        _("%(url)s could not be reached. Check the address and try again.") % {"url": url},
        field=field,
    )
    try:
        response = requests.get(
            url,
            timeout=(settings.NETWORK_CONNECT_TIMEOUT, settings.NETWORK_READ_TIMEOUT),
            allow_redirects=False,
            stream=True,
        )
    except requests.RequestException:
        raise unreachable from None
    try:
        # Read from urllib3 directly (to bound the size): its errors (a stalled read, a
        # broken gzip body) are not requests' ones.
        body = response.raw.read(MAX_DOCUMENT_BYTES + 1, decode_content=True)
    except (requests.RequestException, urllib3.exceptions.HTTPError, OSError):
        raise unreachable from None
    finally:
        response.close()
    if response.status_code != 200:
        raise IdpConfigError(
            _("%(url)s answered with the error %(status)s.")
            % {"url": url, "status": response.status_code},
            field=field,
        )
    if len(body) > MAX_DOCUMENT_BYTES:
        raise IdpConfigError(_("%(url)s sent too large a document.") % {"url": url}, field=field)
    response._content = body
    return response


def oidc_discovery_url(issuer: str) -> str:
    return issuer.rstrip("/") + "/.well-known/openid-configuration"


def oidc_discover(issuer: str) -> dict[str, Any]:
    """The provider's discovery document, checked: it names this issuer and the endpoints
    sign-in needs."""
    issuer = url_check(issuer, field="oidc_issuer")
    response = _get(oidc_discovery_url(issuer), field="oidc_issuer")
    try:
        document = response.json()
    except ValueError:
        document = None
    if not isinstance(document, dict):
        raise IdpConfigError(
            _("The discovery document at %(url)s is not JSON.")
            % {"url": oidc_discovery_url(issuer)},
            field="oidc_issuer",
        )
    missing = [
        key
        for key in ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri")
        if not isinstance(document.get(key), str) or not document.get(key)
    ]
    if missing:
        raise IdpConfigError(
            _("The discovery document does not give: %(keys)s.") % {"keys": ", ".join(missing)},
            field="oidc_issuer",
        )
    if document["issuer"].rstrip("/") != issuer.rstrip("/"):
        raise IdpConfigError(
            _("The provider calls itself %(found)s, not %(given)s: enter its exact issuer URL.")
            % {"found": document["issuer"], "given": issuer},
            field="oidc_issuer",
        )
    if "code" not in document.get("response_types_supported", ["code"]):
        raise IdpConfigError(
            _("The provider does not offer the authorisation code flow."), field="oidc_issuer"
        )
    userinfo = document.get("userinfo_endpoint")
    if userinfo is not None and (not isinstance(userinfo, str) or not userinfo):
        raise IdpConfigError(
            _("The discovery document does not give: %(keys)s.") % {"keys": "userinfo_endpoint"},
            field="oidc_issuer",
        )
    for key in OIDC_ENDPOINTS:
        if document.get(key):
            url_check(document[key], field="oidc_issuer")
    return document


# The discovery document's addresses sign-in uses: each one checked like the issuer.
OIDC_ENDPOINTS = ("authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri")


def oidc_checked_endpoints(document: dict[str, Any]) -> dict[str, str]:
    """What allauth is told to use instead of the discovery document it fetches again at
    sign-in (its "openid_configuration_overrides"): the issuer and endpoints checked by
    oidc_discover()."""
    keys = ("issuer", *OIDC_ENDPOINTS)
    return {key: document[key] for key in keys if isinstance(document.get(key), str)}


@dataclass(frozen=True)
class SamlIdp:
    entity_id: str
    sso_url: str
    x509cert: str


def saml_metadata_fetch(url: str) -> str:
    url = url_check(url, field="saml_metadata_url")
    return _get(url, field="saml_metadata_url").content.decode("utf-8", errors="replace")


def saml_metadata_parse(xml: str, *, field: str = "saml_metadata_file") -> SamlIdp:
    """Entity id, sign-in URL (HTTP-Redirect binding) and signing certificate of the IdP."""
    if not xml.strip():
        raise IdpConfigError(_("The metadata is empty."), field=field)
    if "<!DOCTYPE" in xml or "<!ENTITY" in xml:
        raise IdpConfigError(_("Metadata with a DOCTYPE is refused."), field=field)
    try:
        parsed = OneLogin_Saml2_IdPMetadataParser.parse(
            xml, required_sso_binding=OneLogin_Saml2_Constants.BINDING_HTTP_REDIRECT
        )
    except Exception:  # lxml's and python3-saml's errors alike: not readable metadata
        raise IdpConfigError(
            _("This is not readable SAML metadata (XML of an EntityDescriptor)."), field=field
        ) from None
    idp = parsed.get("idp") or {}
    entity_id = idp.get("entityId", "")
    sso_url = (idp.get("singleSignOnService") or {}).get("url", "")
    cert = idp.get("x509cert") or ""
    if not cert:
        signing = (idp.get("x509certMulti") or {}).get("signing") or []
        cert = signing[0] if signing else ""
    if not entity_id:
        raise IdpConfigError(
            _("The metadata describes no identity provider (IDPSSODescriptor)."), field=field
        )
    if not sso_url:
        raise IdpConfigError(
            _("The metadata gives no sign-in address with the HTTP-Redirect binding."),
            field=field,
        )
    if not cert:
        raise IdpConfigError(_("The metadata gives no signing certificate."), field=field)
    return SamlIdp(entity_id=entity_id, sso_url=sso_url, x509cert=cert)
