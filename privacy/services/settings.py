"""The organisation's privacy settings: the data-protection contact, a text of its own,
and the retention periods (each within bounds)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import gettext as _

from organizations.audit import audit_record
from organizations.errors import DomainError, PermissionDeniedError
from organizations.models import User
from privacy.models import (
    CLICK_RETENTION_MAX,
    CLICK_RETENTION_MIN,
    EXPORT_RETENTION_MAX,
    EXPORT_RETENTION_MIN,
    NOTIFICATION_RETENTION_MAX,
    NOTIFICATION_RETENTION_MIN,
    PrivacySettings,
)

FIELDS = (
    "contact_name",
    "contact_email",
    "notice",
    "click_retention_days",
    "notification_retention_days",
    "export_retention_days",
)
BOUNDS = {
    "click_retention_days": (CLICK_RETENTION_MIN, CLICK_RETENTION_MAX),
    "notification_retention_days": (NOTIFICATION_RETENTION_MIN, NOTIFICATION_RETENTION_MAX),
    "export_retention_days": (EXPORT_RETENTION_MIN, EXPORT_RETENTION_MAX),
}


def privacy_settings_update(
    *, actor: User, values: dict[str, Any], request: HttpRequest | None = None
) -> PrivacySettings:
    if not actor.is_org_admin or actor.organization_id is None:
        raise PermissionDeniedError(_("Only organisation administrators can do this."))
    for name, (low, high) in BOUNDS.items():
        if name in values and not (low <= int(values[name]) <= high):
            raise DomainError(
                _("Choose between %(low)s and %(high)s days.") % {"low": low, "high": high},
                field=name,
            )
    with transaction.atomic():
        config, _created = PrivacySettings.objects.select_for_update().get_or_create(
            organization_id=actor.organization_id
        )
        changes = {}
        for name in FIELDS:
            if name in values and getattr(config, name) != values[name]:
                changes[name] = [getattr(config, name), values[name]]
                setattr(config, name, values[name])
        if changes:
            config.updated_by = actor
            config.save()
            audit_record(
                action="privacy.settings_changed",
                organization=actor.organization,
                actor=actor,
                target=config,
                request=request,
                # The texts themselves are not repeated in the log: which ones changed.
                details={
                    "changes": {
                        name: pair if name in BOUNDS else ["…", "…"]
                        for name, pair in changes.items()
                    }
                },
            )
    return config
