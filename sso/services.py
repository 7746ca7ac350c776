"""Every write of single sign-on: the connection, claimed domains, enforcement, the
assertions already used, and the person an SSO sign-in resolves to (matched or created
just in time)."""

from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from advocacy.token_vault import token_decrypt, token_encrypt
from organizations.audit import audit_record
from organizations.errors import DomainError
from organizations.models import Organization, Role, Team, User
from sso import idp_config, selectors
from sso.mapping import Profile
from sso.models import ROLE_STRENGTH, ClaimedDomain, Protocol, SamlAssertion, SsoConnection

logger = logging.getLogger(__name__)

DOMAIN_RE = re.compile(r"^(?=.{4,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


# allauth's OpenID Connect provider id of an organisation is "sso-<slug>" and its SAML one
# is "<slug>": an organisation whose slug starts with "sso-" would make the two ambiguous.
SSO_RESERVED_PREFIX = "sso-"


def _slug_check(organization: Organization, *, field: str) -> None:
    if organization.slug.startswith(SSO_RESERVED_PREFIX):
        raise DomainError(
            _(
                "Single sign-on cannot be set up for an organisation whose address name "
                "starts with “sso-” (%(slug)s). Ask the platform operator to rename it."
            )
            % {"slug": organization.slug},
            field=field,
        )


class SsoRefused(DomainError):
    """An SSO sign-in that must not go through; the message is shown on the login page."""

    status_code = 403


def _connection(organization: Organization) -> SsoConnection:
    connection, _created = SsoConnection.objects.get_or_create(organization=organization)
    return connection


def oidc_client_secret(connection: SsoConnection) -> str:
    return token_decrypt(connection.oidc_client_secret)


# --- The identity provider ----------------------------------------------------------------


def connection_save_oidc(
    *,
    actor: User,
    issuer: str,
    client_id: str,
    client_secret: str,
    request: HttpRequest | None = None,
) -> SsoConnection:
    """Discovery is fetched and checked first: nothing is saved for an issuer that does
    not answer as an OpenID provider. A blank secret keeps the stored one."""
    assert actor.organization is not None
    _slug_check(actor.organization, field="oidc_issuer")
    issuer = issuer.strip().rstrip("/")
    document = idp_config.oidc_discover(issuer)
    with transaction.atomic():
        connection = _connection(actor.organization)
        if not client_secret and not connection.oidc_client_secret:
            raise DomainError(_("Enter the client secret."), field="oidc_client_secret")
        connection.protocol = Protocol.OIDC
        connection.oidc_issuer = issuer
        connection.oidc_client_id = client_id.strip()
        connection.oidc_endpoints = idp_config.oidc_checked_endpoints(document)
        if client_secret:
            connection.oidc_client_secret = token_encrypt(client_secret.strip())
        connection.save()
        audit_record(
            action="sso.configured",
            organization=actor.organization,
            actor=actor,
            target=connection,
            request=request,
            details={"protocol": "oidc", "issuer": issuer, "client_id": connection.oidc_client_id},
        )
    return connection


def oidc_endpoints_backfill(connection: SsoConnection) -> SsoConnection:
    """A connection saved before its checked endpoints were kept: discovery is fetched and
    checked now, once, so that sign-in never follows endpoints nobody checked. Raises
    IdpConfigError when the document does not pass."""
    if connection.protocol != Protocol.OIDC or connection.oidc_endpoints:
        return connection
    document = idp_config.oidc_discover(connection.oidc_issuer)
    connection.oidc_endpoints = idp_config.oidc_checked_endpoints(document)
    connection.save(update_fields=["oidc_endpoints", "updated_at"])
    return connection


def connection_save_saml(
    *,
    actor: User,
    metadata_xml: str = "",
    metadata_url: str = "",
    request: HttpRequest | None = None,
) -> SsoConnection:
    """From the metadata file, or fetched from its URL; read fully before anything is saved."""
    assert actor.organization is not None
    _slug_check(
        actor.organization, field="saml_metadata_url" if metadata_url else "saml_metadata_file"
    )
    if metadata_url:
        metadata_xml = idp_config.saml_metadata_fetch(metadata_url)
        idp = idp_config.saml_metadata_parse(metadata_xml, field="saml_metadata_url")
    else:
        idp = idp_config.saml_metadata_parse(metadata_xml)
    with transaction.atomic():
        connection = _connection(actor.organization)
        connection.protocol = Protocol.SAML
        connection.saml_metadata_url = metadata_url.strip()
        connection.saml_metadata_xml = metadata_xml
        connection.saml_idp_entity_id = idp.entity_id
        connection.saml_idp_sso_url = idp.sso_url
        connection.saml_idp_x509cert = idp.x509cert
        connection.save()
        audit_record(
            action="sso.configured",
            organization=actor.organization,
            actor=actor,
            target=connection,
            request=request,
            details={"protocol": "saml", "idp_entity_id": idp.entity_id},
        )
    return connection


def connection_disable(*, actor: User, request: HttpRequest | None = None) -> None:
    """SSO off: password sign-in comes back for everyone (enforcement ends with it)."""
    assert actor.organization is not None
    with transaction.atomic():
        connection = _connection(actor.organization)
        previous = connection.protocol
        connection.protocol = Protocol.NONE
        connection.require_sso = False
        connection.save()
        audit_record(
            action="sso.disabled",
            organization=actor.organization,
            actor=actor,
            target=connection,
            request=request,
            details={"protocol": previous},
        )


MAPPING_FIELDS = (
    "attr_email",
    "attr_first_name",
    "attr_last_name",
    "attr_language",
    "attr_team",
    "team_match",
    "create_unknown_teams",
    "attr_groups",
)


def mapping_save(
    *,
    actor: User,
    values: dict[str, Any],
    group_roles: dict[str, str],
    request: HttpRequest | None = None,
) -> SsoConnection:
    assert actor.organization is not None
    unknown = sorted(set(group_roles.values()) - set(Role.values))
    if unknown:
        raise DomainError(
            _("Unknown role: %(roles)s.") % {"roles": ", ".join(unknown)}, field="group_roles"
        )
    with transaction.atomic():
        connection = _connection(actor.organization)
        for name in MAPPING_FIELDS:
            setattr(connection, name, values[name])
        connection.group_roles = group_roles
        connection.save()
        audit_record(
            action="sso.mapping_changed",
            organization=actor.organization,
            actor=actor,
            target=connection,
            request=request,
            details={**{name: values[name] for name in MAPPING_FIELDS}, "group_roles": group_roles},
        )
    return connection


def enforcement_set(
    *,
    actor: User,
    require_sso: bool,
    break_glass_admin: User | None,
    request: HttpRequest | None = None,
) -> SsoConnection:
    """Requiring SSO needs a working connection and a verified domain; the break-glass
    administrator, if any, is an active admin of this organisation."""
    organization = actor.organization
    assert organization is not None
    connection = _connection(organization)
    if break_glass_admin is not None and not (
        break_glass_admin.organization_id == organization.pk
        and break_glass_admin.is_active
        and break_glass_admin.role == Role.ORG_ADMIN
    ):
        raise DomainError(
            _("The break-glass administrator must be an active admin of this organisation."),
            field="break_glass_admin",
        )
    if require_sso and not connection.enabled:
        raise DomainError(
            _("Set up your identity provider before requiring single sign-on."),
            field="require_sso",
        )
    if require_sso and not selectors.verified_domains_of(organization):
        raise DomainError(
            _("Verify at least one email domain before requiring single sign-on."),
            field="require_sso",
        )
    with transaction.atomic():
        connection.require_sso = require_sso
        connection.break_glass_admin = break_glass_admin
        connection.save(update_fields=["require_sso", "break_glass_admin", "updated_at"])
        audit_record(
            action="sso.enforcement_changed",
            organization=organization,
            actor=actor,
            target=connection,
            request=request,
            details={
                "require_sso": require_sso,
                "break_glass_admin": break_glass_admin.email if break_glass_admin else "",
            },
        )
    return connection


# --- Claimed domains ----------------------------------------------------------------------


def domain_claim(*, actor: User, domain: str, request: HttpRequest | None = None) -> ClaimedDomain:
    organization = actor.organization
    assert organization is not None
    domain = domain.strip().lower().rstrip(".").removeprefix("@")
    if not DOMAIN_RE.match(domain):
        raise DomainError(_("Enter a domain name such as example.com."), field="domain")
    if ClaimedDomain.objects.filter(organization=organization, domain=domain).exists():
        raise DomainError(_("This domain is already listed."), field="domain")
    with transaction.atomic():
        claimed = ClaimedDomain.objects.create(organization=organization, domain=domain)
        audit_record(
            action="sso.domain_claimed",
            organization=organization,
            actor=actor,
            target=claimed,
            request=request,
        )
    return claimed


def _txt_records(name: str) -> list[str]:
    """The TXT records of `name`; [] when there are none or DNS does not answer."""
    import dns.exception
    import dns.resolver

    resolver = dns.resolver.Resolver(configure=not settings.SSO_DNS_NAMESERVERS)
    if settings.SSO_DNS_NAMESERVERS:
        resolver.nameservers = []
        for server in settings.SSO_DNS_NAMESERVERS:
            host, _sep, port = server.partition(":")
            resolver.nameservers.append(host)
            if port:
                resolver.port = int(port)
    resolver.lifetime = settings.NETWORK_CONNECT_TIMEOUT
    try:
        answer = resolver.resolve(name, "TXT")
    except (dns.exception.DNSException, OSError):
        return []
    return [b"".join(record.strings).decode(errors="replace") for record in answer]


def _domain_mark_verified(
    *, claimed: ClaimedDomain, method: str, actor: User | None, request: HttpRequest | None
) -> ClaimedDomain:
    try:
        with transaction.atomic():
            claimed.verified_at = timezone.now()
            claimed.verified_by = method
            claimed.save(update_fields=["verified_at", "verified_by"])
            audit_record(
                action="sso.domain_verified",
                organization=claimed.organization,
                actor=actor,
                actor_email="" if actor else "operator",
                target=claimed,
                request=request,
                details={"method": method},
            )
    except IntegrityError:
        claimed.verified_at = None
        raise DomainError(
            _("Another organisation has already verified %(domain)s.") % {"domain": claimed.domain}
        ) from None
    return claimed


def domain_verify_dns(
    *, actor: User, claimed: ClaimedDomain, request: HttpRequest | None = None
) -> ClaimedDomain:
    """Verified when the TXT record shown on the page is found in the domain's DNS."""
    if claimed.verified_at is not None:
        return claimed
    if claimed.record_value not in _txt_records(claimed.record_name):
        raise DomainError(
            _(
                "The TXT record was not found at %(name)s. DNS changes can take a while to "
                "spread: try again later."
            )
            % {"name": claimed.record_name}
        )
    return _domain_mark_verified(claimed=claimed, method="dns", actor=actor, request=request)


def domain_verify_by_operator(*, claimed: ClaimedDomain) -> ClaimedDomain:
    """The platform operator vouches for the domain (the sso_domain_verify command)."""
    if claimed.verified_at is not None:
        return claimed
    return _domain_mark_verified(claimed=claimed, method="operator", actor=None, request=None)


def domain_remove(
    *, actor: User, claimed: ClaimedDomain, request: HttpRequest | None = None
) -> None:
    organization = claimed.organization
    with transaction.atomic():
        audit_record(
            action="sso.domain_removed",
            organization=organization,
            actor=actor,
            target=claimed,
            request=request,
        )
        claimed.delete()
        connection = selectors.connection_of(organization)
        if (
            connection
            and connection.require_sso
            and not selectors.verified_domains_of(organization)
        ):
            # No domain left to enforce: enforcement has nothing to stand on.
            connection.require_sso = False
            connection.save(update_fields=["require_sso", "updated_at"])


# --- Sign-in ------------------------------------------------------------------------------


def assertion_record(
    *, organization: Organization, assertion_id: str, not_on_or_after: datetime | None
) -> bool:
    """Remember a SAML assertion until it expires. False: it was seen before (a replay)."""
    now = timezone.now()
    skew = timedelta(seconds=settings.SSO_SAML_CLOCK_SKEW_SECONDS)
    SamlAssertion.objects.filter(not_on_or_after__lt=now - skew).delete()
    try:
        with transaction.atomic():
            SamlAssertion.objects.create(
                assertion_id=assertion_id[:255],
                organization=organization,
                # Without a bound from the IdP, kept for a day: longer than any session.
                not_on_or_after=not_on_or_after or now + timedelta(days=1),
            )
    except IntegrityError:
        return False
    return True


TEAM_NAME_MAX = 120


def _teams(connection: SsoConnection, profile: Profile) -> tuple[list[Team], list[str]]:
    """The organisation's teams the IdP names; unknown ones are created only if allowed.
    Called inside the sign-in's transaction: a refused sign-in leaves no team behind. A
    team is never created under the name of an existing one (names are unique per
    organisation): matched by name, it is that team; matched by external id, a team of
    that name without an external id is reported unknown rather than taken over."""
    organization = connection.organization
    by_external_id = connection.team_match == "external_id"
    found: list[Team] = []
    unknown: list[str] = []
    for value in dict.fromkeys(v.strip() for v in profile.teams if v and v.strip()):
        name = value[:TEAM_NAME_MAX]
        query = Team.objects.filter(organization=organization)
        if by_external_id:
            team = query.filter(external_id=value[:255]).first()
        else:
            team = query.filter(name__iexact=name).first()
        if (
            team is None
            and connection.create_unknown_teams
            and not query.filter(name__iexact=name).exists()
        ):
            try:
                with transaction.atomic():
                    team = Team.objects.create(
                        organization=organization,
                        name=name,
                        external_id=value[:255] if by_external_id else "",
                    )
            except IntegrityError:  # created by a concurrent sign-in, or a clash
                team = (
                    query.filter(external_id=value[:255]).first()
                    if by_external_id
                    else query.filter(name__iexact=name).first()
                )
        if team is None:
            unknown.append(value)
        else:
            found.append(team)
    return found, unknown


def _mapped_role(connection: SsoConnection, profile: Profile) -> str | None:
    roles = [connection.group_roles[g] for g in profile.groups if g in connection.group_roles]
    if not connection.attr_groups or not roles:
        return None
    return max(roles, key=lambda role: ROLE_STRENGTH.index(role) if role in ROLE_STRENGTH else 0)


def _apply_profile(user: User, connection: SsoConnection, profile: Profile) -> dict[str, Any]:
    """The IdP's values win for names and language; teams follow the team attribute when
    it is sent; the role follows the groups only when a group maps to a role."""
    changes: dict[str, Any] = {}
    for name in ("first_name", "last_name", "language"):
        value = getattr(profile, name)
        if value and getattr(user, name) != value:
            setattr(user, name, value)
            changes[name] = value
    role = _mapped_role(connection, profile)
    if role and role != user.role:
        user.role = role
        changes["role"] = role
    return changes


def _checked_email(email: str, *, organization: Organization, request: HttpRequest | None) -> str:
    """The IdP's address, stripped and lowercased, and refused unless it is one valid
    address: its domain decides which organisation it may belong to
    ("x@evil.test@acme.test" must not pass for acme.test)."""
    email = (email or "").strip().lower()
    if not email:
        return ""
    try:
        validate_email(email)
    except ValidationError:
        audit_record(
            action="sso.sign_in_refused",
            organization=organization,
            request=request,
            details={"reason": "invalid_email", "email": email[:254]},
        )
        raise SsoRefused(
            _(
                "Your identity provider sent an email address that is not valid. Ask your "
                "administrator."
            )
        ) from None
    return email


def sso_user_resolve(
    *,
    connection: SsoConnection,
    profile: Profile,
    linked_user: User | None,
    request: HttpRequest | None = None,
) -> tuple[User, bool]:
    """The person this SSO sign-in is for: the one already linked to this IdP identity, or
    an existing person matched by email (verified by the IdP, in one of the organisation's
    verified domains), or a new person created just in time. (user, created)."""
    organization = connection.organization
    profile.email = _checked_email(profile.email, organization=organization, request=request)
    verified_domains = selectors.verified_domains_of(organization)
    in_verified_domain = selectors.email_domain(profile.email) in verified_domains
    if linked_user is not None:
        user = linked_user
    else:
        if not profile.email:
            raise SsoRefused(_("Your identity provider did not send your email address."))
        user = User.objects.filter(email__iexact=profile.email).first()
        if user is not None and not (profile.email_verified and in_verified_domain):
            audit_record(
                action="sso.sign_in_refused",
                organization=organization,
                actor_email=profile.email,
                request=request,
                details={"reason": "unverified_match", "email_verified": profile.email_verified},
            )
            raise SsoRefused(
                _(
                    "An account with this email address already exists, and your identity "
                    "provider cannot be trusted with it here (the address is not verified, or "
                    "its domain is not verified by your organisation). Ask your administrator."
                )
            )
    if user is not None and user.organization_id != organization.pk:
        raise SsoRefused(_("This account belongs to another organisation: sign in there instead."))
    if user is not None and not user.is_active:
        audit_record(
            action="sso.sign_in_refused",
            organization=organization,
            actor_email=user.email,
            target=user,
            request=request,
            details={"reason": "deactivated"},
        )
        raise SsoRefused(_("Your account is deactivated. Ask your administrator."))
    if user is None and not in_verified_domain:
        raise SsoRefused(
            _(
                "Your email address is not in a domain your organisation has verified: no "
                "account can be created for it. Ask your administrator."
            )
        )
    with transaction.atomic():
        teams, unknown_teams = _teams(connection, profile)
        created = user is None
        if user is None:
            user = User.objects.create_user(
                profile.email,
                password=None,
                organization=organization,
                role=Role.EMPLOYEE,
                language=profile.language or organization.default_language,
            )
        changes = _apply_profile(user, connection, profile)
        if changes or created:
            user.save()
        if profile.team_attribute_sent:
            user.teams.set(teams)
        audit_record(
            action="sso.user_created" if created else "sso.user_signed_in",
            organization=organization,
            actor=user,
            target=user,
            request=request,
            details={
                "protocol": connection.protocol,
                "role": user.role,
                "changes": changes,
                "teams": [team.name for team in teams],
                "unknown_teams": unknown_teams,
            },
        )
    return user, created
