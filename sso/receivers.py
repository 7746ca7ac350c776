"""The break-glass administrator stays one only while an active admin of the organisation:
when that person is deactivated, loses the admin role or leaves the organisation, the
connection forgets them (sign-in checks it too: sso.adapter.break_glass_admin_of). The
break-glass sign-in itself is audited by sso.adapter, where the password is accepted."""

from __future__ import annotations

import logging
from typing import Any

from django.db.models.signals import post_save

from organizations.models import Role, User

logger = logging.getLogger(__name__)


_WATCHED_FIELDS = frozenset({"is_active", "role", "organization", "organization_id"})


def _break_glass_admin_changed(
    sender: type[User], instance: User, created: bool = False, **kwargs: Any
) -> None:
    from sso.models import SsoConnection

    update_fields = kwargs.get("update_fields")
    if created or (update_fields is not None and not _WATCHED_FIELDS & set(update_fields)):
        return  # a new person, or a save that cannot change who is an admin (last_login…)

    if instance.is_active and instance.role == Role.ORG_ADMIN:
        stale = SsoConnection.objects.filter(break_glass_admin=instance).exclude(
            organization_id=instance.organization_id
        )
    else:
        stale = SsoConnection.objects.filter(break_glass_admin=instance)
    cleared = stale.update(break_glass_admin=None)
    if cleared:
        logger.warning(
            "%s is no longer an active admin: removed as break-glass administrator", instance.email
        )


def connect() -> None:
    post_save.connect(
        _break_glass_admin_changed, sender=User, dispatch_uid="sso-break-glass-admin-changed"
    )
