"""notification_create_many for a campaign: the same choices as notification_create (email
per kind default and preference, push per kind and preference, nobody inactive, nothing
while the demo writes its history), made in bulk: a fixed number of queries whatever the
number of people, and one task per batch."""

from __future__ import annotations

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from notifications import services
from notifications.models import EmailPreference, Notification, PushPreference
from notifications.push import push_subscription_save, subscription_parse, vapid_keys_generate
from notifications.services import notification_create_many
from organizations.signals import demo_history
from tests.factories import UserFactory
from tests.fakes.push_service import FakePushService

pytestmark = pytest.mark.django_db

PUSHED_KIND = "challenges.launched"  # pushable, email on by default


@pytest.fixture
def eager_tasks():
    from config.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous


@pytest.fixture
def vapid(settings):
    public, private = vapid_keys_generate()
    settings.WEBPUSH_VAPID_PUBLIC_KEY = public
    settings.WEBPUSH_VAPID_PRIVATE_KEY = private
    settings.WEBPUSH_VAPID_SUBJECT = "mailto:ops@portevoix.test"
    return public


@pytest.fixture
def push_service():
    service = FakePushService().start()
    yield service
    service.stop()


def _people(organization, count: int, **kwargs):
    return [UserFactory(organization=organization, **kwargs) for _ in range(count)]


def _queued(callbacks, task_name: str) -> list[list[int]]:
    """The id lists handed to `task_name` by the on-commit callbacks (not run)."""
    found = []
    for callback in callbacks:
        task = getattr(callback, "func", None)
        if task is None:  # delay_on_commit wraps apply_async in a lambda or partial
            continue
        if getattr(task, "__self__", None) is not None and task.__self__.name.endswith(task_name):
            found.append(list(callback.args[0]) if callback.args else [])
    return found


def test_rows_for_everyone_email_only_for_active_people_who_want_it(
    personas, eager_tasks, django_capture_on_commit_callbacks
):
    keen, quiet = _people(personas.organization, 2)
    gone = UserFactory(organization=personas.organization, is_active=False)
    EmailPreference.objects.create(user=quiet, kind="system.announcement", email=False)
    with django_capture_on_commit_callbacks(execute=True):
        count = notification_create_many(
            recipients=[keen, quiet, gone, personas.outsider],
            kind="system.announcement",
            title="Town hall",
            body="Friday",
            url="/feed/",
        )
    assert count == 4
    rows = Notification.objects.order_by("pk")
    assert [(n.recipient_id, n.organization_id) for n in rows] == [
        (keen.pk, personas.organization.pk),
        (quiet.pk, personas.organization.pk),
        (gone.pk, personas.organization.pk),
        (personas.outsider.pk, personas.other_organization.pk),
    ]
    assert {(n.title, n.body, n.url) for n in rows} == {("Town hall", "Friday", "/feed/")}
    assert sorted(message.to[0] for message in mail.outbox) == sorted(
        [keen.email, personas.outsider.email]
    )
    emailed = set(
        Notification.objects.filter(emailed_at__isnull=False).values_list("recipient_id", flat=True)
    )
    assert emailed == {keen.pk, personas.outsider.pk}


def test_a_kind_off_by_default_emails_only_who_turned_it_on(
    personas, eager_tasks, django_capture_on_commit_callbacks
):
    wants, default = _people(personas.organization, 2)
    EmailPreference.objects.create(user=wants, kind="account.invitation_accepted", email=True)
    with django_capture_on_commit_callbacks(execute=True):
        notification_create_many(
            recipients=[wants, default], kind="account.invitation_accepted", title="Joined"
        )
    assert [message.to for message in mail.outbox] == [[wants.email]]


def test_queries_do_not_grow_with_the_people_and_tasks_are_batched(
    personas, django_capture_on_commit_callbacks, monkeypatch
):
    monkeypatch.setattr(services, "BATCH_SIZE", 10)
    few = _people(personas.organization, 3)
    many = _people(personas.organization, 25)
    counts = []
    for recipients in (few, many):
        with (
            django_capture_on_commit_callbacks() as callbacks,
            CaptureQueriesContext(connection) as queries,
        ):
            notification_create_many(recipients=recipients, kind="system.announcement", title="T")
        counts.append(len(queries))
        batches = _queued(callbacks, "send_notification_emails")
        assert sorted(pk for batch in batches for pk in batch) == sorted(
            Notification.objects.filter(recipient__in=recipients).values_list("pk", flat=True)
        )
        assert len(batches) == -(-len(recipients) // 10)
    # 25 people take 3 INSERTs of 10 where 3 take 1; nothing else grows.
    assert counts[1] - counts[0] == 2, counts


def test_nothing_is_sent_while_the_demo_writes_its_history(
    personas, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks, demo_history():
        count = notification_create_many(
            recipients=[personas.owner, personas.teammate], kind=PUSHED_KIND, title="Old"
        )
    assert count == 2
    assert Notification.objects.count() == 2
    assert callbacks == []


def test_pushes_go_in_batches_to_who_has_a_device_and_wants_them(
    personas, vapid, push_service, eager_tasks, django_capture_on_commit_callbacks
):
    with_device, muted, no_device = _people(personas.organization, 3)
    inactive = UserFactory(organization=personas.organization)
    for person in (with_device, muted, inactive):
        push_subscription_save(
            user=person, data=subscription_parse(push_service.subscribe().as_json())
        )
    inactive.is_active = False
    inactive.save(update_fields=["is_active"])
    PushPreference.objects.create(user=muted, kind=PUSHED_KIND, push=False)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        notification_create_many(
            recipients=[with_device, muted, no_device, inactive], kind=PUSHED_KIND, title="Go"
        )
    [batch] = _queued(callbacks, "send_push_notifications")
    assert batch == list(
        Notification.objects.filter(recipient=with_device).values_list("pk", flat=True)
    )
    [push] = push_service.wait_for_pushes(1)
    assert push_service.decrypt(push)["title"] == "Go"


def test_nobody_is_nothing(personas, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        assert notification_create_many(recipients=[], kind="system.announcement", title="T") == 0
    assert callbacks == []
