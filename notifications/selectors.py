from __future__ import annotations

from django.db.models import QuerySet

from notifications.kinds import kinds_all
from notifications.models import EmailPreference, Notification
from organizations.models import User


def notifications_for(user: User, *, unread_only: bool = False) -> QuerySet[Notification]:
    notifications = Notification.objects.filter(
        recipient=user, organization_id=user.organization_id
    )
    if unread_only:
        notifications = notifications.filter(read_at__isnull=True)
    return notifications


def unread_count(user: User) -> int:
    return notifications_for(user, unread_only=True).count()


def email_preferences(user: User) -> list[tuple[str, str, bool]]:
    stored = dict(EmailPreference.objects.filter(user=user).values_list("kind", "email"))
    return [
        (kind.key, str(kind.label), stored.get(kind.key, kind.email_default))
        for kind in kinds_all()
    ]
