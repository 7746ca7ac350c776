"""The one notification service every feature uses: an in-app notification, and an email
when the recipient wants this kind by email."""

from __future__ import annotations

from collections.abc import Iterable

from django.core.mail import send_mail
from django.core.mail.backends.base import BaseEmailBackend
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation

from notifications.kinds import kind_get, kinds_all
from notifications.models import EmailPreference, Notification
from organizations.models import User
from organizations.signals import seeding_demo


def email_wanted(*, user: User, kind: str) -> bool:
    preference = EmailPreference.objects.filter(user=user, kind=kind).first()
    return preference.email if preference else kind_get(kind).email_default


def notification_create(
    *, recipient: User, kind: str, title: str, body: str = "", url: str = ""
) -> Notification:
    kind_get(kind)  # an unknown kind is a programming error, caught in tests
    assert recipient.organization_id is not None
    notification = Notification.objects.create(
        organization_id=recipient.organization_id,
        recipient=recipient,
        kind=kind,
        title=title[:255],
        body=body,
        url=url,
    )
    if recipient.is_active and not seeding_demo() and email_wanted(user=recipient, kind=kind):
        from notifications.tasks import send_notification_email

        send_notification_email.delay_on_commit(notification.pk)
    if recipient.is_active and not seeding_demo():
        from notifications.push import push_enqueue

        push_enqueue(notification)
    return notification


# Rows written per INSERT, and notifications handed to one email or push task.
BATCH_SIZE = 500


def notification_create_many(
    *, recipients: Iterable[User], kind: str, title: str, body: str = "", url: str = ""
) -> int:
    """notification_create for many people at once (a campaign to a whole company): the
    rows in multi-row INSERTs, the email preferences in one query, and the emails and
    pushes handed to the workers one task per batch, not one per person."""
    from notifications.push import push_enqueue_batches
    from notifications.tasks import send_notification_emails

    email_default = kind_get(kind).email_default
    people = list(recipients)
    if not people:
        return 0
    assert all(person.organization_id is not None for person in people)
    quiet = seeding_demo()
    with transaction.atomic():
        created = Notification.objects.bulk_create(
            [
                Notification(
                    organization_id=person.organization_id,
                    recipient_id=person.pk,
                    kind=kind,
                    title=title[:255],
                    body=body,
                    url=url,
                )
                for person in people
            ],
            batch_size=BATCH_SIZE,
        )
        if quiet:
            return len(created)
        active = [n for n, person in zip(created, people, strict=True) if person.is_active]
        chosen = dict(
            EmailPreference.objects.filter(
                kind=kind, user_id__in=[n.recipient_id for n in active]
            ).values_list("user_id", "email")
        )
        emailed = [n.pk for n in active if chosen.get(n.recipient_id, email_default)]
        for start in range(0, len(emailed), BATCH_SIZE):
            send_notification_emails.delay_on_commit(emailed[start : start + BATCH_SIZE])
        push_enqueue_batches(active, kind=kind, batch_size=BATCH_SIZE)
    return len(created)


def notification_send_emails(*, notification_ids: list[int]) -> int:
    """notification_send_email for a batch, over one connection to the mail server.
    Returns how many were sent."""
    from django.core.mail import get_connection

    with get_connection() as mail_connection:
        return sum(
            notification_send_email(notification_id=pk, mail_connection=mail_connection)
            for pk in notification_ids
        )


def notification_send_email(
    *, notification_id: int, mail_connection: BaseEmailBackend | None = None
) -> bool:
    notification = (
        Notification.objects.select_related("recipient", "organization")
        .filter(pk=notification_id, emailed_at__isnull=True)
        .first()
    )
    if notification is None:
        return False
    from django.conf import settings

    recipient = notification.recipient
    with translation.override(recipient.language):
        body = render_to_string(
            "notifications/email/notification.txt",
            {"notification": notification, "site_url": settings.SITE_URL},
        )
    # Mark first: a crash after sending must not send twice on retry (at most once).
    updated = Notification.objects.filter(pk=notification.pk, emailed_at__isnull=True).update(
        emailed_at=timezone.now()
    )
    if updated:
        send_mail(notification.title, body, None, [recipient.email], connection=mail_connection)
    return bool(updated)


def notifications_mark_read(*, user: User, ids: list[int] | None = None) -> int:
    unread = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if ids is not None:
        unread = unread.filter(pk__in=ids)
    return unread.update(read_at=timezone.now())


def email_preferences_set(*, user: User, email_kinds: set[str]) -> None:
    with transaction.atomic():
        for kind in kinds_all():
            EmailPreference.objects.update_or_create(
                user=user, kind=kind.key, defaults={"email": kind.key in email_kinds}
            )
