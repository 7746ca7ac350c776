"""Reads of single sign-on: by organisation (the admin page) and by email domain or
provider id (sign-in, where nobody is signed in yet)."""

from __future__ import annotations

from django.db.models import QuerySet

from organizations.models import AuditLogEntry, Organization, Role, User
from sso.models import ClaimedDomain, SsoConnection


def email_domain(email: str) -> str:
    return email.strip().lower().rpartition("@")[2]


def connection_of(organization: Organization) -> SsoConnection | None:
    return (
        SsoConnection.objects.select_related("organization", "break_glass_admin")
        .filter(organization=organization)
        .first()
    )


def connection_by_slug(slug: str, *, protocol: str) -> SsoConnection | None:
    return (
        SsoConnection.objects.select_related("organization")
        .filter(organization__slug=slug, protocol=protocol)
        .first()
    )


def connections_with_protocol(protocol: str) -> QuerySet[SsoConnection]:
    return SsoConnection.objects.select_related("organization").filter(protocol=protocol)


def connection_for_email(email: str) -> SsoConnection | None:
    """The SSO of the organisation that proved it owns this address's domain."""
    domain = email_domain(email)
    if not domain:
        return None
    claimed = (
        ClaimedDomain.objects.filter(domain=domain, verified_at__isnull=False)
        .values_list("organization_id", flat=True)
        .first()
    )
    if claimed is None:
        return None
    return (
        SsoConnection.objects.select_related("organization", "break_glass_admin")
        .filter(organization_id=claimed)
        .exclude(protocol="")
        .first()
    )


def enforcement_for_email(email: str) -> SsoConnection | None:
    """The connection that refuses password sign-in for this address, if any."""
    connection = connection_for_email(email)
    return connection if connection is not None and connection.require_sso else None


def domains_of(organization: Organization) -> QuerySet[ClaimedDomain]:
    return ClaimedDomain.objects.filter(organization=organization)


def verified_domains_of(organization: Organization) -> set[str]:
    return set(
        ClaimedDomain.objects.filter(
            organization=organization, verified_at__isnull=False
        ).values_list("domain", flat=True)
    )


def break_glass_candidates(organization: Organization) -> QuerySet[User]:
    return User.objects.filter(organization=organization, role=Role.ORG_ADMIN, is_active=True)


def sso_events_of(organization: Organization) -> QuerySet[AuditLogEntry]:
    return (
        AuditLogEntry.objects.filter(organization=organization, action__startswith="sso.")
        .select_related("actor")
        .order_by("-created_at", "-pk")
    )
