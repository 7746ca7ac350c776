"""Web push: subscriptions (checked, scoped to their owner), the preferences page's Push
column, and sending through the real pywebpush to a fake push service that checks VAPID,
TTL and the encryption, then decrypts what it got."""

from __future__ import annotations

import json

import pytest
from django.core import mail

from notifications.kinds import kinds_pushable
from notifications.models import Notification, PushPreference, PushSubscription
from notifications.push import (
    device_label,
    push_send,
    push_subscription_save,
    subscription_parse,
    vapid_keys_generate,
)
from notifications.services import notification_create
from notifications.tasks import send_push_notification
from organizations.errors import DomainError
from tests.conftest import client_for
from tests.fakes.push_service import FakePushService, b64url_encode

pytestmark = pytest.mark.django_db

PUSHED_KIND = "advocacy.reconnect"
ANDROID_CHROME = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/130.0 Mobile Safari/537.36"
)


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


@pytest.fixture
def eager_tasks():
    from config.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous


def _subscribe(client, body, **headers):
    return client.post(
        "/notifications/push/subscribe/",
        data=json.dumps(body),
        content_type="application/json",
        **headers,
    )


def _pushes_queued(callbacks) -> list:
    return [callback for callback in callbacks if "send_push_notification" in repr(callback)]


def _store(user, fake_subscription) -> PushSubscription:
    return push_subscription_save(
        user=user, data=subscription_parse(fake_subscription.as_json(), user_agent=ANDROID_CHROME)
    )


# --- Off until configured -------------------------------------------------------------------


def test_everything_is_off_without_vapid_keys(
    personas, push_service, django_capture_on_commit_callbacks
):
    client = client_for(personas.teammate)
    page = client.get("/notifications/preferences/").content.decode()
    assert 'id="push-device"' not in page
    assert 'name="push"' not in page
    assert "Email preferences" in page
    response = _subscribe(client, push_service.subscribe().as_json())
    assert response.status_code == 404
    assert PushSubscription.objects.count() == 0
    # Even with a stored subscription, nothing is queued while push is not configured.
    PushSubscription.objects.create(
        organization=personas.organization,
        user=personas.teammate,
        endpoint=push_service.subscribe().endpoint,
        p256dh="x",
        auth="y",
    )
    with django_capture_on_commit_callbacks() as callbacks:
        notification_create(recipient=personas.teammate, kind=PUSHED_KIND, title="Reconnect")
    assert _pushes_queued(callbacks) == []


# --- Subscribing ----------------------------------------------------------------------------


def test_subscribe_keeps_the_browsers_subscription(personas, vapid, push_service):
    fake = push_service.subscribe()
    response = _subscribe(
        client_for(personas.teammate), fake.as_json(), HTTP_USER_AGENT=ANDROID_CHROME
    )
    assert response.status_code == 201, response.content
    stored = PushSubscription.objects.get()
    assert (stored.user, stored.organization) == (personas.teammate, personas.organization)
    assert (stored.endpoint, stored.p256dh, stored.auth) == (
        fake.endpoint,
        fake.p256dh,
        b64url_encode(fake.auth),
    )
    assert stored.user_agent == "Chrome / Android"
    assert response.json() == {"id": stored.pk, "device": "Chrome / Android"}
    # The same browser again: one row, not two.
    assert _subscribe(client_for(personas.teammate), fake.as_json()).status_code == 201
    assert PushSubscription.objects.count() == 1


@pytest.mark.parametrize(
    ("mutate", "field", "message"),
    [
        (lambda s: s.update(endpoint="http://push.example.com/x"), "endpoint", "https"),
        (lambda s: s.update(endpoint="https://evil.example.com/x"), "endpoint", "known push"),
        (lambda s: s.update(endpoint="https://10.0.0.1/x"), "endpoint", "known push"),
        (lambda s: s.update(endpoint="javascript:alert(1)"), "endpoint", "not a URL"),
        (lambda s: s.update(endpoint="x" * 1200), "endpoint", "too long"),
        (lambda s: s.update(endpoint=42), "endpoint", "missing"),
        (lambda s: s.pop("keys"), "keys", "keys are missing"),
        (lambda s: s["keys"].update(p256dh="not base64!"), "keys.p256dh", "P-256"),
        (
            lambda s: s["keys"].update(p256dh=b64url_encode(b"\x04" + b"\x01" * 64)),
            "keys.p256dh",
            "P-256",
        ),
        (lambda s: s["keys"].update(auth=b64url_encode(b"short")), "keys.auth", "16-byte"),
        (lambda s: s["keys"].update(auth=None), "keys.auth", "16-byte"),
    ],
)
def test_subscribe_refuses_bad_subscriptions_with_the_field_named(
    personas, vapid, push_service, mutate, field, message
):
    body = push_service.subscribe().as_json()
    mutate(body)
    response = _subscribe(client_for(personas.teammate), body)
    assert response.status_code == 400
    problem = response.json()
    assert problem["errors"][0]["field"] == field
    assert message in problem["detail"]
    assert PushSubscription.objects.count() == 0


def test_subscribe_refuses_what_is_not_json(personas, vapid):
    client = client_for(personas.teammate)
    response = client.post(
        "/notifications/push/subscribe/", data="{nope", content_type="application/json"
    )
    assert response.status_code == 400
    assert "not valid JSON" in response.json()["detail"]
    response = client.post("/notifications/push/subscribe/", {"endpoint": "x"})
    assert response.status_code == 400
    assert "JSON" in response.json()["detail"]
    assert _subscribe(client, ["a list"]).status_code == 400


def test_loopback_push_services_only_where_allowed(personas, vapid, push_service, settings):
    # Development and tests talk to a push service on loopback over plain http (the fake);
    # a real deployment refuses it: the server would POST to its own machine.
    settings.WEBPUSH_ALLOW_LOOPBACK = False
    body = push_service.subscribe().as_json()
    response = _subscribe(client_for(personas.teammate), body)
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "endpoint"
    settings.WEBPUSH_ALLOW_LOOPBACK = True
    assert _subscribe(client_for(personas.teammate), body).status_code == 201


def test_known_push_service_hosts_are_accepted(vapid, push_service):
    body = push_service.subscribe().as_json()
    for endpoint in (
        "https://fcm.googleapis.com/fcm/send/abc:def",
        "https://updates.push.services.mozilla.com/wpush/v2/gAAA",
        "https://web.push.apple.com/QGx",
    ):
        assert subscription_parse({**body, "endpoint": endpoint}).endpoint == endpoint
    with pytest.raises(DomainError):
        subscription_parse({**body, "endpoint": "https://fcm.googleapis.com.evil.test/x"})


def test_subscribing_needs_a_login_and_a_post(db, vapid, push_service, client):
    assert _subscribe(client, push_service.subscribe().as_json()).status_code == 403
    assert client.get("/notifications/push/subscribe/").status_code == 405


def test_csrf_is_checked(personas, vapid, push_service):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(personas.teammate, backend="django.contrib.auth.backends.ModelBackend")
    assert _subscribe(client, push_service.subscribe().as_json()).status_code == 403
    assert PushSubscription.objects.count() == 0


def test_unsubscribe_removes_only_my_own(personas, vapid, push_service):
    fake = push_service.subscribe()
    _store(personas.teammate, fake)
    outsider = client_for(personas.outsider)
    response = outsider.post(
        "/notifications/push/unsubscribe/",
        data=json.dumps({"endpoint": fake.endpoint}),
        content_type="application/json",
    )
    assert response.json() == {"deleted": 0}
    assert PushSubscription.objects.count() == 1
    response = client_for(personas.teammate).post(
        "/notifications/push/unsubscribe/",
        data=json.dumps({"endpoint": fake.endpoint}),
        content_type="application/json",
    )
    assert response.json() == {"deleted": 1}
    assert PushSubscription.objects.count() == 0
    bad = client_for(personas.teammate).post(
        "/notifications/push/unsubscribe/", data="{}", content_type="application/json"
    )
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["field"] == "endpoint"


def test_a_browser_belongs_to_whoever_subscribed_last(personas, vapid, push_service):
    fake = push_service.subscribe()
    _store(personas.owner, fake)
    _store(personas.teammate, fake)
    assert list(PushSubscription.objects.values_list("user_id", flat=True)) == [
        personas.teammate.pk
    ]


def test_device_labels():
    assert device_label(ANDROID_CHROME) == "Chrome / Android"
    iphone = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit Safari/604.1"
    assert device_label(iphone) == "Safari / iPhone"
    assert device_label("") == ""


# --- Preferences page -----------------------------------------------------------------------


def test_preferences_page_has_a_push_column_for_the_pushable_kinds(personas, vapid, push_service):
    _store(personas.teammate, push_service.subscribe())
    client = client_for(personas.teammate)
    page = client.get("/notifications/preferences/")
    html = page.content.decode()
    pushable = {kind.key for kind in kinds_pushable()}
    assert pushable == {
        "challenges.launched",
        "challenges.results",
        "advocacy.reconnect",
        "content.published",
        "nudges.scheduled_share",
        "nudges.challenge_ending",
    }
    for key in pushable:
        assert f'name="push" value="{key}"' in html
    assert 'name="push" value="system.announcement"' not in html
    assert "Turn on notifications on this device" in html
    assert f'data-public-key="{vapid}"' in html
    assert "1 device receives notifications" in html
    assert "Chrome / Android" in html
    # Pushable kinds are on until turned off (nothing is pushed without a device anyway).
    rows = {row["key"]: row["push"] for row in page.context["rows"]}
    assert rows["content.published"] is True and rows["system.announcement"] is None

    response = client.post(
        "/notifications/preferences/",
        {"email": ["account.role_changed"], "push": ["challenges.launched", "bogus.kind"]},
    )
    assert response.status_code == 302
    stored = dict(PushPreference.objects.filter(user=personas.teammate).values_list("kind", "push"))
    assert stored == {key: key == "challenges.launched" for key in pushable}
    assert PushPreference.objects.filter(user=personas.owner).count() == 0


def test_saving_email_preferences_without_push_keeps_push_choices(personas, push_service):
    PushPreference.objects.create(user=personas.teammate, kind=PUSHED_KIND, push=False)
    client_for(personas.teammate).post("/notifications/preferences/", {"email": []})
    assert PushPreference.objects.get(user=personas.teammate).push is False


# --- Sending ------------------------------------------------------------------------------


def test_a_notification_is_pushed_encrypted_to_each_device(
    personas, vapid, push_service, eager_tasks, django_capture_on_commit_callbacks
):
    phone, laptop = push_service.subscribe(), push_service.subscribe(application_server_key=vapid)
    _store(personas.teammate, phone)
    _store(personas.teammate, laptop)
    _store(personas.owner, push_service.subscribe())
    with django_capture_on_commit_callbacks(execute=True):
        notification = notification_create(
            recipient=personas.teammate,
            kind=PUSHED_KIND,
            title="Reconnect LinkedIn",
            body="Your LinkedIn connection has ended.",
            url="/networks/",
        )
    pushes = push_service.wait_for_pushes(2)
    assert push_service.refused == []
    assert {push.token for push in pushes} == {phone.token, laptop.token}
    for push in pushes:
        assert push_service.decrypt(push) == {
            "title": "Reconnect LinkedIn",
            "body": "Your LinkedIn connection has ended.",
            "url": "/networks/",
        }
        assert push.headers["content-encoding"] == "aes128gcm"
        assert push.ttl == 24 * 3600
        assert push.claims["aud"] == push_service.url
        assert push.claims["sub"] == "mailto:ops@portevoix.test"
    assert all(
        s.last_success_at is not None and s.failure_count == 0
        for s in PushSubscription.objects.filter(user=personas.teammate)
    )
    assert notification.pk
    assert mail.outbox == [] or all(m.subject == "Reconnect LinkedIn" for m in mail.outbox)


def test_no_push_for_a_kind_turned_off_or_not_pushable(
    personas, vapid, push_service, django_capture_on_commit_callbacks
):
    _store(personas.teammate, push_service.subscribe())
    PushPreference.objects.create(user=personas.teammate, kind=PUSHED_KIND, push=False)
    with django_capture_on_commit_callbacks() as callbacks:
        notification_create(recipient=personas.teammate, kind=PUSHED_KIND, title="Muted")
        notification_create(recipient=personas.teammate, kind="system.announcement", title="Not")
    assert _pushes_queued(callbacks) == []
    with django_capture_on_commit_callbacks() as callbacks:
        notification_create(recipient=personas.teammate, kind="challenges.launched", title="Go")
    assert len(_pushes_queued(callbacks)) == 1


def test_no_push_without_a_device(personas, vapid, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        notification_create(recipient=personas.teammate, kind="challenges.launched", title="Go")
    assert _pushes_queued(callbacks) == []


def test_gone_subscription_is_deleted(personas, vapid, push_service):
    kept, gone = push_service.subscribe(), push_service.subscribe()
    _store(personas.teammate, kept)
    _store(personas.teammate, gone)
    push_service.forget(gone)  # the browser unsubscribed: 410 Gone
    notification = Notification.objects.create(
        organization=personas.organization, recipient=personas.teammate, kind=PUSHED_KIND, title="T"
    )
    outcome = push_send(notification_id=notification.pk)
    assert (outcome.sent, outcome.removed, outcome.failed) == (1, 1, 0)
    assert list(PushSubscription.objects.values_list("endpoint", flat=True)) == [kept.endpoint]


@pytest.mark.parametrize(
    ("status", "retried"), [(429, True), (503, True), (400, False), (413, False)]
)
def test_failures_are_counted_and_the_temporary_ones_retried(
    personas, vapid, push_service, status, retried
):
    fake = push_service.subscribe()
    subscription = _store(personas.teammate, fake)
    push_service.answer_next(status, retry_after=7)
    notification = Notification.objects.create(
        organization=personas.organization, recipient=personas.teammate, kind=PUSHED_KIND, title="T"
    )
    outcome = push_send(notification_id=notification.pk)
    assert (outcome.sent, outcome.failed) == (0, 1)
    assert outcome.retry_ids == ([subscription.pk] if retried else [])
    if retried:
        assert outcome.retry_after == 7
    subscription.refresh_from_db()
    assert subscription.failure_count == 1
    assert subscription.last_success_at is None
    # A later success clears the count.
    assert push_send(notification_id=notification.pk).sent == 1
    subscription.refresh_from_db()
    assert subscription.failure_count == 0


def test_the_task_retries_only_the_devices_that_asked_to_wait(
    personas, vapid, push_service, eager_tasks, monkeypatch
):
    first, second = push_service.subscribe(), push_service.subscribe()
    _store(personas.teammate, first)
    _store(personas.teammate, second)
    push_service.answer_next(429)  # the first device (lowest id) is asked to wait once
    notification = Notification.objects.create(
        organization=personas.organization, recipient=personas.teammate, kind=PUSHED_KIND, title="T"
    )
    # Eager: the retry runs at once, without its countdown.
    send_push_notification.apply(args=[notification.pk], throw=False)
    push_service.wait_for_pushes(2)
    pushes = push_service.pushes
    # Each device got it once: the retry went to the first device only.
    assert sorted(push.token for push in pushes) == sorted([first.token, second.token])
    assert [status for status, _reason in push_service.refused] == [429]


def test_a_push_for_another_organisations_subscription_is_not_sent(personas, vapid, push_service):
    fake = push_service.subscribe()
    subscription = _store(personas.teammate, fake)
    # A stale row left in another organisation (the person moved): never used.
    PushSubscription.objects.filter(pk=subscription.pk).update(
        organization=personas.other_organization
    )
    notification = Notification.objects.create(
        organization=personas.organization, recipient=personas.teammate, kind=PUSHED_KIND, title="T"
    )
    assert push_send(notification_id=notification.pk).sent == 0
    assert push_service.pushes == []


def test_inactive_people_get_no_push(personas, vapid, push_service):
    _store(personas.teammate, push_service.subscribe())
    notification = Notification.objects.create(
        organization=personas.organization, recipient=personas.teammate, kind=PUSHED_KIND, title="T"
    )
    personas.teammate.is_active = False
    personas.teammate.save(update_fields=["is_active"])
    assert push_send(notification_id=notification.pk).sent == 0


def test_long_bodies_are_cut_to_fit_a_push(personas, vapid, push_service):
    fake = push_service.subscribe()
    _store(personas.teammate, fake)
    notification = Notification.objects.create(
        organization=personas.organization,
        recipient=personas.teammate,
        kind=PUSHED_KIND,
        title="T",
        body="é" * 5000,
    )
    assert push_send(notification_id=notification.pk).sent == 1
    payload = push_service.decrypt(push_service.pushes[0])
    assert len(payload["body"]) == 600 and payload["body"].endswith("…")
    assert payload["url"] == "/notifications/"
