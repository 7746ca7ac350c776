"""Notifications: always in the app, by email when the recipient wants that kind, read and
marked read only by their recipient."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from notifications.kinds import kind_get, kinds_all
from notifications.models import EmailPreference, Notification
from notifications.selectors import email_preferences, unread_count
from notifications.services import (
    email_wanted,
    notification_create,
    notification_create_many,
    notification_send_email,
    notifications_mark_read,
)
from tests.conftest import api_client_for, client_for
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def eager_tasks():
    from config.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous


def _notify(user, title="Hello", kind="system.announcement", **extra):
    return notification_create(recipient=user, kind=kind, title=title, **extra)


def _many(user, count, prefix="N"):
    return [_notify(user, title=f"{prefix} {index}") for index in range(count)]


# --- Creating -----------------------------------------------------------------------------


def test_create_makes_an_in_app_row(personas):
    notification = _notify(
        personas.teammate, title="Welcome", body="Read the charter", url="/charter/"
    )
    row = Notification.objects.get(pk=notification.pk)
    assert row.recipient == personas.teammate
    assert row.organization == personas.organization
    assert (row.kind, row.title, row.body, row.url) == (
        "system.announcement",
        "Welcome",
        "Read the charter",
        "/charter/",
    )
    assert row.read_at is None
    assert row.emailed_at is None  # the email goes out after the commit


def test_long_title_is_cut_to_fit(personas):
    notification = _notify(personas.teammate, title="x" * 400)
    notification.refresh_from_db()
    assert len(notification.title) == 255


def test_unknown_kind_raises_value_error(personas):
    with pytest.raises(ValueError, match=r"no\.such\.kind"):
        notification_create(recipient=personas.teammate, kind="no.such.kind", title="?")
    with pytest.raises(ValueError):
        kind_get("no.such.kind")
    assert not Notification.objects.exists()


def test_create_many(personas):
    count = notification_create_many(
        recipients=[personas.owner, personas.teammate], kind="system.announcement", title="All"
    )
    assert count == 2
    assert set(Notification.objects.values_list("recipient_id", flat=True)) == {
        personas.owner.pk,
        personas.teammate.pk,
    }


# --- Email according to preferences -------------------------------------------------------


def test_email_follows_each_kinds_default(personas):
    assert kind_get("account.role_changed").email_default is True
    assert kind_get("account.invitation_accepted").email_default is False
    assert email_wanted(user=personas.teammate, kind="account.role_changed") is True
    assert email_wanted(user=personas.teammate, kind="account.invitation_accepted") is False


def test_email_sent_when_wanted(personas, eager_tasks, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        notification = _notify(personas.teammate, title="Big news", body="We won", url="/feed/")
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [personas.teammate.email]
    assert message.subject == "Big news"
    assert "We won" in message.body
    assert f"{settings.SITE_URL}/feed/" in message.body
    assert f"{settings.SITE_URL}/notifications/preferences/" in message.body
    notification.refresh_from_db()
    assert notification.emailed_at is not None


def test_no_email_for_a_kind_off_by_default(
    personas, eager_tasks, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        _notify(personas.owner, kind="account.invitation_accepted", title="Nora joined")
    assert Notification.objects.filter(recipient=personas.owner).count() == 1
    assert mail.outbox == []


def test_no_email_for_an_inactive_user(personas, eager_tasks, django_capture_on_commit_callbacks):
    personas.teammate.is_active = False
    personas.teammate.save()
    with django_capture_on_commit_callbacks(execute=True):
        _notify(personas.teammate)
    assert Notification.objects.count() == 1
    assert mail.outbox == []


def test_preferences_page_turns_email_off(
    personas, eager_tasks, django_capture_on_commit_callbacks
):
    client = client_for(personas.teammate)
    page = client.get("/notifications/preferences/")
    assert page.status_code == 200
    html = page.content.decode()
    for kind in kinds_all():
        assert f'value="{kind.key}"' in html
    defaults = {key: on for key, _label, on in page.context["preferences"]}
    # Other apps register their own kinds; these three belong to the foundation.
    assert defaults == {kind.key: kind.email_default for kind in kinds_all()}
    assert defaults["account.role_changed"] is True
    assert defaults["account.invitation_accepted"] is False
    assert defaults["system.announcement"] is True

    # Keep role changes by email, turn announcements off, turn invitations on.
    response = client.post(
        "/notifications/preferences/",
        {"email": ["account.role_changed", "account.invitation_accepted", "bogus.kind"]},
    )
    assert response.status_code == 302
    stored = dict(
        EmailPreference.objects.filter(user=personas.teammate).values_list("kind", "email")
    )
    chosen = {"account.role_changed", "account.invitation_accepted"}
    assert stored == {kind.key: kind.key in chosen for kind in kinds_all()}
    assert "bogus.kind" not in stored
    assert {key: on for key, _label, on in email_preferences(personas.teammate)} == stored

    with django_capture_on_commit_callbacks(execute=True):
        _notify(personas.teammate, kind="system.announcement", title="Muted")
        _notify(personas.teammate, kind="account.invitation_accepted", title="Wanted")
    assert [m.subject for m in mail.outbox] == ["Wanted"]
    assert Notification.objects.filter(recipient=personas.teammate).count() == 2


def test_preferences_of_one_user_do_not_affect_another(personas):
    client_for(personas.teammate).post("/notifications/preferences/", {})
    assert email_wanted(user=personas.teammate, kind="system.announcement") is False
    assert email_wanted(user=personas.owner, kind="system.announcement") is True


def test_email_is_sent_at_most_once(personas):
    notification = _notify(personas.teammate)
    assert notification_send_email(notification_id=notification.pk) is True
    assert notification_send_email(notification_id=notification.pk) is False
    assert len(mail.outbox) == 1


# --- The bell and marking read --------------------------------------------------------------


def test_bell_shows_the_unread_count(personas):
    client = client_for(personas.teammate)
    response = client.get("/notifications/bell/")
    assert response.status_code == 200
    assert response.context["unread_count"] == 0
    assert 'class="badge"' not in response.content.decode()

    _many(personas.teammate, 3)
    _many(personas.owner, 2)
    response = client.get("/notifications/bell/")
    assert response.context["unread_count"] == 3
    assert '<span class="badge" aria-hidden="true">3</span>' in response.content.decode()


def test_bell_needs_a_login(db):
    response = Client().get("/notifications/bell/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_mark_one_read(personas):
    first, second, _third = _many(personas.teammate, 3)
    client = client_for(personas.teammate)
    response = client.post("/notifications/read/", {"id": [str(first.pk)]})
    assert response.status_code == 302
    assert response["Location"] == "/notifications/"
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.read_at is not None
    assert second.read_at is None
    assert unread_count(personas.teammate) == 2


def test_mark_all_read(personas):
    _many(personas.teammate, 3)
    theirs = _notify(personas.owner)
    client_for(personas.teammate).post("/notifications/read/")
    assert unread_count(personas.teammate) == 0
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_mark_read_cannot_touch_someone_elses(personas):
    theirs = _notify(personas.owner)
    client_for(personas.teammate).post("/notifications/read/", {"id": [str(theirs.pk)]})
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_mark_read_redirects_only_to_this_site(personas):
    notification = _notify(personas.teammate)
    client = client_for(personas.teammate)
    response = client.post(
        "/notifications/read/", {"id": [str(notification.pk)], "next": "/notifications/?page=2"}
    )
    assert response["Location"] == "/notifications/?page=2"
    response = client.post("/notifications/read/", {"next": "https://evil.example/phish"})
    assert response["Location"] == "/notifications/"


def test_mark_read_requires_post(personas):
    assert client_for(personas.teammate).get("/notifications/read/").status_code == 405


def test_mark_read_with_garbage_ids_is_harmless(personas):
    notification = _notify(personas.teammate)
    response = client_for(personas.teammate).post(
        "/notifications/read/", {"id": ["abc", "-1", "1.5"]}
    )
    assert response.status_code == 302
    notification.refresh_from_db()
    assert notification.read_at is None


def test_mark_read_with_unicode_digit_ids_is_not_a_500(personas):
    """A crafted id must not crash the view: "²".isdigit() is True but int("²") raises."""
    notification = _notify(personas.teammate)
    response = client_for(personas.teammate).post("/notifications/read/", {"id": ["²"]})
    assert response.status_code == 302
    notification.refresh_from_db()
    assert notification.read_at is None


def test_service_mark_read(personas):
    first, second = _many(personas.teammate, 2)
    assert notifications_mark_read(user=personas.teammate, ids=[first.pk]) == 1
    assert notifications_mark_read(user=personas.teammate, ids=[first.pk]) == 0
    assert notifications_mark_read(user=personas.teammate) == 1
    assert notifications_mark_read(user=personas.owner, ids=[second.pk]) == 0


# --- The list page -------------------------------------------------------------------------


def test_list_page_empty_state(personas):
    response = client_for(personas.teammate).get("/notifications/")
    assert response.status_code == 200
    assert "You are all caught up" in response.content.decode()


def test_list_page_paginates_newest_first(personas):
    _many(personas.teammate, 25)
    client = client_for(personas.teammate)
    first = client.get("/notifications/")
    titles = [n.title for n in first.context["page"].object_list]
    assert len(titles) == 20
    assert titles[0] == "N 24"
    assert "Page 1 of 2" in first.content.decode()
    second = client.get("/notifications/?page=2")
    assert [n.title for n in second.context["page"].object_list] == [
        "N 4",
        "N 3",
        "N 2",
        "N 1",
        "N 0",
    ]


def test_list_page_unread_filter(personas):
    read, unread = _many(personas.teammate, 2)
    notifications_mark_read(user=personas.teammate, ids=[read.pk])
    response = client_for(personas.teammate).get("/notifications/?unread=1")
    assert [n.pk for n in response.context["page"].object_list] == [unread.pk]


def test_list_page_shows_only_my_notifications(personas):
    _notify(personas.teammate, title="Mine to read")
    _notify(personas.owner, title="Owner private")
    _notify(personas.outsider, title="Outsider private")
    html = client_for(personas.teammate).get("/notifications/").content.decode()
    assert "Mine to read" in html
    assert "Owner private" not in html
    assert "Outsider private" not in html


def test_list_page_query_count_is_bounded_and_flat(personas, django_assert_max_num_queries):
    client = client_for(personas.teammate)
    _many(personas.teammate, 3)
    with CaptureQueriesContext(connection) as few:
        assert client.get("/notifications/").status_code == 200
    _many(personas.teammate, 27, prefix="More")
    with django_assert_max_num_queries(10):
        response = client.get("/notifications/")
    assert len(response.context["page"].object_list) == 20
    with CaptureQueriesContext(connection) as many:
        client.get("/notifications/")
    assert len(many.captured_queries) == len(few.captured_queries)


# --- The API -------------------------------------------------------------------------------


def test_api_lists_only_my_notifications(personas):
    mine = _notify(personas.teammate, title="Mine")
    _notify(personas.owner, title="Owner private")
    _notify(personas.outsider, title="Outsider private")
    response = api_client_for(personas.teammate).get("/api/v1/notifications/")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1
    assert body["results"][0]["id"] == mine.pk
    assert body["results"][0]["title"] == "Mine"
    assert body["results"][0]["read_at"] is None


def test_api_unread_filter_and_mark_read(personas):
    first, second = _many(personas.teammate, 2)
    theirs = _notify(personas.owner)
    api = api_client_for(personas.teammate)
    response = api.post(
        "/api/v1/notifications/mark-read/", {"ids": [first.pk, theirs.pk]}, format="json"
    )
    assert response.status_code == 200
    assert response.json() == {"marked": 1}
    unread = api.get("/api/v1/notifications/?unread=1").json()["results"]
    assert [n["id"] for n in unread] == [second.pk]
    theirs.refresh_from_db()
    assert theirs.read_at is None
    assert api.post("/api/v1/notifications/mark-read/", {}, format="json").json() == {"marked": 1}


def test_api_mark_read_bad_ids_is_400_naming_ids(personas):
    response = api_client_for(personas.teammate).post(
        "/api/v1/notifications/mark-read/", {"ids": ["abc"]}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"].startswith("ids")


def test_api_requires_authentication(db):
    from rest_framework.test import APIClient

    response = APIClient().get("/api/v1/notifications/")
    assert response.status_code in (401, 403)
    assert response["Content-Type"].startswith("application/problem+json")


# --- From the events of the organisations app ---------------------------------------------


def test_role_change_notifies_in_the_users_language(
    personas, eager_tasks, django_capture_on_commit_callbacks
):
    french = UserFactory(organization=personas.organization, language="fr")
    from organizations.services import user_set_role

    with django_capture_on_commit_callbacks(execute=True):
        user_set_role(actor=personas.owner, user=french, role="editor")
    notification = Notification.objects.get(recipient=french)
    assert notification.kind == "account.role_changed"
    assert "Your role" not in notification.title
    assert len(mail.outbox) == 1
