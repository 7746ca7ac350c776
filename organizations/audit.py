"""The one way to write to the audit log; every app calls `audit_record`."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.http import HttpRequest

from organizations.models import AuditLogEntry, Organization, User


def client_ip(request: HttpRequest | None) -> str | None:
    if request is None:
        return None
    if getattr(settings, "SECURE_PROXY_SSL_HEADER", None):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            return forwarded.split(",")[0].strip() or None
    return request.META.get("REMOTE_ADDR") or None


def audit_record(
    *,
    action: str,
    organization: Organization | None,
    actor: User | None = None,
    target: models.Model | None = None,
    request: HttpRequest | None = None,
    details: dict[str, Any] | None = None,
    actor_email: str = "",
) -> AuditLogEntry:
    actor_obj = actor if actor is not None and actor.is_authenticated else None
    return AuditLogEntry.objects.create(
        organization=organization,
        actor=actor_obj,
        actor_email=actor_obj.email if actor_obj else actor_email,
        action=action,
        target_type=target._meta.label_lower if target is not None else "",
        target_id=str(target.pk) if target is not None else "",
        target_repr=str(target)[:255] if target is not None else "",
        ip_address=client_ip(request),
        details=details or {},
    )
