"""From what the identity provider says (OpenID claims, SAML attributes) to a person:
email, names, language, teams, groups. The admin names the attributes; blank fields take
the names most providers use."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from organizations.models import Language
from sso.models import Protocol, SsoConnection

OIDC_DEFAULTS: dict[str, list[str]] = {
    "email": ["email"],
    "first_name": ["given_name"],
    "last_name": ["family_name"],
    "language": ["locale"],
    "team": [],
    "groups": [],
}
SAML_DEFAULTS: dict[str, list[str]] = {
    "email": [
        "email",
        "mail",
        "urn:oid:0.9.2342.19200300.100.1.3",
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress",
    ],
    "first_name": [
        "givenName",
        "urn:oid:2.5.4.42",
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname",
    ],
    "last_name": [
        "sn",
        "surname",
        "urn:oid:2.5.4.4",
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname",
    ],
    "language": ["preferredLanguage", "urn:oid:2.16.840.1.113730.3.1.39"],
    "team": [],
    "groups": [],
}
TRUE_VALUES = {"true", "1", "yes", "y", "t"}


@dataclass
class Profile:
    """One sign-in's identity, as the organisation's IdP states it."""

    uid: str
    email: str
    email_verified: bool
    first_name: str = ""
    last_name: str = ""
    language: str = ""
    teams: list[str] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)
    team_attribute_sent: bool = False
    groups_attribute_sent: bool = False


def _names(connection: SsoConnection, key: str) -> list[str]:
    configured = getattr(connection, f"attr_{key}", "").strip()
    if configured:
        return [configured]
    defaults = OIDC_DEFAULTS if connection.protocol == Protocol.OIDC else SAML_DEFAULTS
    return defaults[key]


def _values(claims: dict[str, Any], names: list[str]) -> list[str] | None:
    for name in names:
        if name in claims and claims[name] not in (None, "", []):
            value = claims[name]
            items = value if isinstance(value, list | tuple) else [value]
            return [str(item).strip() for item in items if str(item).strip()]
    return None


def _first(claims: dict[str, Any], names: list[str]) -> str:
    values = _values(claims, names)
    return values[0] if values else ""


def _language(value: str) -> str:
    code = value.replace("_", "-").split("-")[0].lower()
    return code if code in Language.values else ""


def profile_from_claims(
    connection: SsoConnection, *, uid: str, claims: dict[str, Any], email_verified: bool
) -> Profile:
    teams = _values(claims, _names(connection, "team"))
    groups = _values(claims, _names(connection, "groups"))
    return Profile(
        uid=uid,
        email=_first(claims, _names(connection, "email")).lower(),
        email_verified=email_verified,
        first_name=_first(claims, _names(connection, "first_name"))[:100],
        last_name=_first(claims, _names(connection, "last_name"))[:100],
        language=_language(_first(claims, _names(connection, "language"))),
        teams=teams or [],
        groups=groups or [],
        team_attribute_sent=teams is not None,
        groups_attribute_sent=groups is not None,
    )


def oidc_profile(connection: SsoConnection, extra_data: dict[str, Any], uid: str) -> Profile:
    """The ID token's claims, completed by userinfo's. An email counts as verified only
    when the provider says `email_verified: true`."""
    claims = {**(extra_data.get("id_token") or {}), **(extra_data.get("userinfo") or {})}
    verified = claims.get("email_verified")
    if isinstance(verified, str):
        verified = verified.lower() in TRUE_VALUES
    return profile_from_claims(connection, uid=uid, claims=claims, email_verified=verified is True)


def saml_profile(
    connection: SsoConnection,
    attributes: dict[str, list[str]],
    *,
    nameid: str,
    nameid_format: str,
) -> Profile:
    """The signed assertion's attributes. The IdP of the organisation vouches for the
    email it asserts, unless it sends an `email_verified` attribute saying otherwise; an
    emailAddress NameID stands in for a missing email attribute."""
    claims: dict[str, Any] = dict(attributes)
    if not _values(claims, _names(connection, "email")) and nameid_format.endswith(":emailAddress"):
        claims[_names(connection, "email")[0]] = nameid
    verified_values = _values(claims, ["email_verified", "http://schemas.auth0.com/email_verified"])
    verified = verified_values[0].lower() in TRUE_VALUES if verified_values else True
    return profile_from_claims(connection, uid=nameid, claims=claims, email_verified=verified)
