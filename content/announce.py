"""New content aimed at a person: when a content item becomes published, everyone in its
audience gets one notification (and a push on their phone if they want it), once.

Content goes live either when it is approved (its publication time has passed) or later, at
its publication time. The first is announced right after the approval commits; the second by
`announce_due_content`, run every minute by Celery beat. Both go through `content_announce`,
which skips whoever already has the notification, so running it twice announces nothing
twice. Email is off by default for this kind: a busy library must not flood inboxes.
"""

from __future__ import annotations

from datetime import timedelta
from itertools import groupby

from celery import shared_task
from django.db import transaction
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from content.models import Content, ContentStatus, Lifecycle
from content.signals import content_published
from notifications.kinds import kind_register
from notifications.models import EmailPreference, Notification
from notifications.push import push_enqueue_many
from organizations.models import Team, User
from organizations.selectors import organization_people, team_descendant_ids
from organizations.signals import seeding_demo

KIND = "content.published"
# Content whose publication time passed longer ago than this is old news: not announced (a
# worker that was down for a day does not wake everyone up with yesterday's posts).
ANNOUNCE_WINDOW = timedelta(hours=6)
BATCH_SIZE = 500


def kind_register_published() -> None:
    kind_register(
        KIND, gettext_lazy("New content is published for me"), email_default=False, push=True
    )


def audience_of(content: Content) -> QuerySet[User]:
    """Active members the content is aimed at: everyone when it names no team, else the
    members of its teams and of the teams below them (the feed's rule)."""
    # Members through a Membership (people of several organisations) are in it too.
    users = organization_people(content.organization_id).filter(is_active=True)
    team_ids = list(content.audience_teams.values_list("id", flat=True))
    if team_ids:
        teams = Team.objects.filter(organization_id=content.organization_id).only("id", "parent_id")
        users = users.filter(teams__in=team_descendant_ids(team_ids, teams)).distinct()
    return users


def content_announce(*, content_id: int) -> int:
    """Notify the audience of a published content item, skipping people already notified of
    it and its author. Returns how many notifications were created."""
    from notifications.tasks import send_notification_email

    with transaction.atomic():
        # The lock serialises the approval's announcement and the sweeper's for one item.
        content = Content.objects.select_for_update().filter(pk=content_id).first()
        if content is None or content.lifecycle != Lifecycle.PUBLISHED:
            return 0
        url = reverse("content_detail", args=[content.pk])
        already = Notification.objects.filter(
            organization_id=content.organization_id, kind=KIND, url=url
        ).values("recipient_id")
        recipients = (
            audience_of(content)
            .exclude(pk__in=already)
            .exclude(pk=content.author_id or 0)
            .only("id", "language", "organization_id")
            .order_by("language", "id")
        )
        # The first announcement of this item (nobody was told before): the apps above hear of
        # it once, after the commit.
        first = not already.exists()
        created: list[Notification] = []
        for language, group in groupby(
            recipients.iterator(chunk_size=BATCH_SIZE), lambda u: u.language
        ):
            with translation.override(language or None):
                title = _("New to share: %(title)s") % {"title": content.title}
            body = content.why_it_matters[:300]
            rows = [
                Notification(
                    organization_id=content.organization_id,
                    recipient_id=user.pk,
                    kind=KIND,
                    title=title[:255],
                    body=body,
                    url=url,
                )
                for user in group
            ]
            created.extend(Notification.objects.bulk_create(rows, batch_size=BATCH_SIZE))
        if first:
            # Even with nobody to notify (an audience not filled yet): the channels hear of
            # it; their messages are unique per item, so a second hearing posts nothing.
            transaction.on_commit(
                lambda: content_published.send(sender=Content, content=content), robust=True
            )
        if not created:
            return 0
        emailed = set(
            EmailPreference.objects.filter(
                user_id__in=[n.recipient_id for n in created], kind=KIND, email=True
            ).values_list("user_id", flat=True)
        )
        for notification in created:
            if notification.recipient_id in emailed:
                send_notification_email.delay_on_commit(notification.pk)
        push_enqueue_many(created, kind=KIND)
    return len(created)


def content_announce_later(*, content_id: int) -> None:
    """Called where content is approved: announce it once the approval commits, if it is
    already live then (scheduled content is the sweeper's)."""
    if seeding_demo():
        return
    announce_content.delay_on_commit(content_id)


def contents_due_for_announcement() -> QuerySet[Content]:
    now = timezone.now()
    return Content.objects.filter(
        status=ContentStatus.APPROVED,
        publish_at__lte=now,
        publish_at__gt=now - ANNOUNCE_WINDOW,
    ).filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))


def content_announce_due() -> int:
    total = 0
    for content_id in contents_due_for_announcement().values_list("pk", flat=True):
        total += content_announce(content_id=content_id)
    return total


@shared_task
def announce_content(content_id: int) -> int:
    return content_announce(content_id=content_id)


@shared_task
def announce_due_content() -> int:
    return content_announce_due()
