"""Turns events of the apps below into notifications."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from notifications.services import notification_create
from organizations.models import Invitation, Role, User


def on_role_changed(sender: object, user: User, previous: str, actor: User, **kwargs: Any) -> None:
    with translation.override(user.language):
        notification_create(
            recipient=user,
            kind="account.role_changed",
            title=_("Your role is now: %(role)s") % {"role": Role(user.role).label},
            body=_("%(actor)s changed your role from %(old)s to %(new)s.")
            % {"actor": actor, "old": Role(previous).label, "new": Role(user.role).label},
            url=reverse("home"),
        )


def on_invitation_accepted(
    sender: object, invitation: Invitation, user: User, **kwargs: Any
) -> None:
    inviter = invitation.invited_by
    if inviter is None or inviter.organization_id != user.organization_id:
        return
    with translation.override(inviter.language):
        notification_create(
            recipient=inviter,
            kind="account.invitation_accepted",
            title=_("%(name)s joined Portevoix") % {"name": user},
            url=reverse("org_admin_users"),
        )
