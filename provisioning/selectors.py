"""Reads of SCIM provisioning, always scoped to one organisation."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from organizations.models import AuditLogEntry, Organization
from provisioning.models import ScimToken
from provisioning.services import TOKEN_PREFIX, token_digest

# The audit actions the administration page lists as provisioning events.
EVENT_ACTIONS = ("person.deprovisioned", "person.reactivated")


def scim_token_authenticate(raw: str) -> ScimToken | None:
    """The live token this clear token is, with its organisation; None otherwise."""
    if not raw.startswith(TOKEN_PREFIX) or len(raw) > 200:
        return None
    return (
        ScimToken.objects.select_related("organization")
        .filter(digest=token_digest(raw), revoked_at__isnull=True)
        .first()
    )


def scim_tokens_of(organization: Organization) -> QuerySet[ScimToken]:
    return ScimToken.objects.filter(organization=organization).select_related(
        "created_by", "revoked_by"
    )


def scim_events_of(organization: Organization) -> QuerySet[AuditLogEntry]:
    """The provisioning events of the organisation, newest first."""
    return (
        AuditLogEntry.objects.filter(organization=organization)
        .filter(Q(action__startswith="scim.") | Q(action__in=EVENT_ACTIONS))
        .select_related("actor")
    )
