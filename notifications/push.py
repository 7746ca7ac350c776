"""Web push: notifications that reach a person's phone or computer while Portevoix is closed.

A browser that accepts push hands over a subscription (the Push API): its push service's
endpoint and the keys to encrypt for it. Sending is RFC 8030 (an HTTP POST to the
endpoint, with a TTL), RFC 8291 (the payload encrypted with aes128gcm for that browser
only) and RFC 8292 (a VAPID JWT signed with our key, so the push service knows who sends);
pywebpush does all three. Off until the VAPID settings are set.

    python manage.py shell -c "from notifications.push import vapid_keys_print; vapid_keys_print()"
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import json
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from notifications.kinds import kind_get, kinds_pushable
from notifications.models import Notification, PushPreference, PushSubscription
from organizations.errors import DomainError
from organizations.models import User

logger = logging.getLogger(__name__)

_BASE64URL = re.compile(r"^[A-Za-z0-9_-]+={0,2}$")
# A user's devices are few; past this many the oldest subscriptions make room.
MAX_SUBSCRIPTIONS_PER_USER = 20
# The push services accept about 4 kB of payload; a long body is cut well below that.
BODY_MAX_CHARS = 600


def push_configured() -> bool:
    return bool(
        settings.WEBPUSH_VAPID_PUBLIC_KEY
        and settings.WEBPUSH_VAPID_PRIVATE_KEY
        and settings.WEBPUSH_VAPID_SUBJECT
    )


# --- Subscriptions ----------------------------------------------------------------------


@dataclass(frozen=True)
class SubscriptionInput:
    endpoint: str
    p256dh: str
    auth: str
    user_agent: str = ""


def _b64url_decode(value: str) -> bytes | None:
    if not _BASE64URL.match(value):
        return None
    try:
        return base64.urlsafe_b64decode(value.rstrip("=") + "=" * (-len(value.rstrip("=")) % 4))
    except (binascii.Error, ValueError):
        return None


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def endpoint_check(endpoint: str) -> None:
    """Raise DomainError unless `endpoint` is the https URL of a known push service (or,
    in development and tests, a push service on loopback)."""
    if not endpoint or len(endpoint) > 1000:
        raise DomainError(
            _("The subscription's endpoint is missing or too long."), field="endpoint"
        )
    try:
        parts = urlsplit(endpoint)
        host = (parts.hostname or "").lower()
        parts.port  # noqa: B018  (a malformed port raises ValueError here)
    except ValueError:
        raise DomainError(
            _("The subscription's endpoint is not a URL."), field="endpoint"
        ) from None
    if not host or parts.username or parts.password:
        raise DomainError(_("The subscription's endpoint is not a URL."), field="endpoint")
    if settings.WEBPUSH_ALLOW_LOOPBACK and _is_loopback(host) and parts.scheme in ("http", "https"):
        return
    if parts.scheme != "https":
        raise DomainError(_("The subscription's endpoint must be an https URL."), field="endpoint")
    allowed = settings.WEBPUSH_ENDPOINT_HOSTS
    if not any(host == suffix or host.endswith("." + suffix) for suffix in allowed):
        raise DomainError(
            _("The subscription's endpoint is not a known push service."), field="endpoint"
        )


def subscription_parse(data: Any, *, user_agent: str = "") -> SubscriptionInput:
    """A PushSubscription's JSON (`{"endpoint": ..., "keys": {"p256dh": ..., "auth":
    ...}}`, as the browser's subscription.toJSON() gives it) checked and cleaned."""
    if not isinstance(data, dict):
        raise DomainError(_("Send the subscription as a JSON object."))
    endpoint = data.get("endpoint")
    keys = data.get("keys")
    if not isinstance(endpoint, str):
        raise DomainError(
            _("The subscription's endpoint is missing or too long."), field="endpoint"
        )
    endpoint_check(endpoint.strip())
    if not isinstance(keys, dict):
        raise DomainError(_("The subscription's keys are missing."), field="keys")
    p256dh = keys.get("p256dh")
    auth = keys.get("auth")
    point = _b64url_decode(p256dh) if isinstance(p256dh, str) else None
    if point is None or len(point) != 65 or point[0] != 4 or not _on_curve(point):
        raise DomainError(
            _("keys.p256dh must be a P-256 public key in base64url (65 bytes)."),
            field="keys.p256dh",
        )
    secret = _b64url_decode(auth) if isinstance(auth, str) else None
    if secret is None or len(secret) != 16:
        raise DomainError(_("keys.auth must be a 16-byte secret in base64url."), field="keys.auth")
    return SubscriptionInput(
        endpoint=endpoint.strip(),
        p256dh=p256dh.rstrip("="),  # type: ignore[union-attr]
        auth=auth.rstrip("="),  # type: ignore[union-attr]
        user_agent=device_label(user_agent),
    )


def _on_curve(point: bytes) -> bool:
    from cryptography.hazmat.primitives.asymmetric import ec

    try:
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
    except ValueError:
        return False
    return True


def device_label(user_agent: str) -> str:
    """A short name for the device ("Chrome on Android"), so a person can tell theirs apart."""
    ua = user_agent or ""
    browser = next(
        (
            name
            for token, name in (
                ("Edg/", "Edge"),
                ("Firefox/", "Firefox"),
                ("SamsungBrowser/", "Samsung Internet"),
                ("Chrome/", "Chrome"),
                ("Chromium/", "Chromium"),
                ("Safari/", "Safari"),
            )
            if token in ua
        ),
        "",
    )
    system = next(
        (
            name
            for token, name in (
                ("Android", "Android"),
                ("iPhone", "iPhone"),
                ("iPad", "iPad"),
                ("Windows", "Windows"),
                ("Mac OS X", "macOS"),
                ("CrOS", "ChromeOS"),
                ("Linux", "Linux"),
            )
            if token in ua
        ),
        "",
    )
    if browser and system:
        return f"{browser} / {system}"
    return (browser or system or ua)[:120]


def push_subscriptions_of(user: User) -> QuerySet[PushSubscription]:
    return PushSubscription.objects.filter(user=user, organization_id=user.organization_id)


def push_subscription_save(*, user: User, data: SubscriptionInput) -> PushSubscription:
    assert user.organization_id is not None
    with transaction.atomic():
        # A browser holds one subscription: whoever subscribed on it last receives its
        # pushes, not the colleague who used the same device before.
        PushSubscription.objects.filter(endpoint=data.endpoint).exclude(user=user).delete()
        subscription, _created = PushSubscription.objects.update_or_create(
            user=user,
            endpoint=data.endpoint,
            defaults={
                "organization_id": user.organization_id,
                "p256dh": data.p256dh,
                "auth": data.auth,
                "user_agent": data.user_agent,
                "failure_count": 0,
            },
        )
        stale = list(
            PushSubscription.objects.filter(user=user)
            .order_by("-created_at", "-id")
            .values_list("pk", flat=True)[MAX_SUBSCRIPTIONS_PER_USER:]
        )
        if stale:
            PushSubscription.objects.filter(pk__in=stale).delete()
    return subscription


def push_subscription_delete(*, user: User, endpoint: str) -> int:
    deleted, _by_model = PushSubscription.objects.filter(user=user, endpoint=endpoint).delete()
    return deleted


# --- Preferences ------------------------------------------------------------------------


def push_preferences(user: User) -> list[tuple[str, str, bool]]:
    stored = dict(PushPreference.objects.filter(user=user).values_list("kind", "push"))
    return [(kind.key, str(kind.label), stored.get(kind.key, True)) for kind in kinds_pushable()]


def push_preferences_set(*, user: User, push_kinds: set[str]) -> None:
    with transaction.atomic():
        for kind in kinds_pushable():
            PushPreference.objects.update_or_create(
                user=user, kind=kind.key, defaults={"push": kind.key in push_kinds}
            )


def push_wanted(*, user: User, kind: str) -> bool:
    if not kind_get(kind).push:
        return False
    preference = PushPreference.objects.filter(user=user, kind=kind).first()
    return preference.push if preference else True


# --- Sending ----------------------------------------------------------------------------


def push_enqueue(notification: Notification) -> bool:
    """Queue the push of a new notification (after commit) when its recipient wants this
    kind pushed and has a device to push to."""
    if not push_configured() or not kind_get(notification.kind).push:
        return False
    if not push_wanted(user=notification.recipient, kind=notification.kind):
        return False
    if not PushSubscription.objects.filter(
        user_id=notification.recipient_id, organization_id=notification.organization_id
    ).exists():
        return False
    from notifications.tasks import send_push_notification

    send_push_notification.delay_on_commit(notification.pk)
    return True


def push_enqueue_many(notifications: Iterable[Notification], *, kind: str) -> int:
    """push_enqueue for many notifications of one kind, in two queries."""
    notifications = list(notifications)
    if not notifications or not push_configured() or not kind_get(kind).push:
        return 0
    user_ids = {notification.recipient_id for notification in notifications}
    refused = set(
        PushPreference.objects.filter(user_id__in=user_ids, kind=kind, push=False).values_list(
            "user_id", flat=True
        )
    )
    with_devices = set(
        PushSubscription.objects.filter(user_id__in=user_ids - refused).values_list(
            "user_id", flat=True
        )
    )
    from notifications.tasks import send_push_notification

    count = 0
    for notification in notifications:
        if notification.recipient_id in with_devices:
            send_push_notification.delay_on_commit(notification.pk)
            count += 1
    return count


def push_enqueue_batches(
    notifications: Iterable[Notification], *, kind: str, batch_size: int = 500
) -> int:
    """push_enqueue for a campaign: the same choice of who gets a push (the kind can be
    pushed, the person did not turn it off, has a device in the organisation), in two
    queries, and one task per batch of notifications. Returns how many were queued."""
    notifications = list(notifications)
    if not notifications or not push_configured() or not kind_get(kind).push:
        return 0
    user_ids = {notification.recipient_id for notification in notifications}
    refused = set(
        PushPreference.objects.filter(user_id__in=user_ids, kind=kind, push=False).values_list(
            "user_id", flat=True
        )
    )
    with_devices = set(
        PushSubscription.objects.filter(
            user_id__in=user_ids - refused,
            organization_id__in={n.organization_id for n in notifications},
        ).values_list("user_id", "organization_id")
    )
    from notifications.tasks import send_push_notifications

    chosen = [n.pk for n in notifications if (n.recipient_id, n.organization_id) in with_devices]
    for start in range(0, len(chosen), batch_size):
        send_push_notifications.delay_on_commit(chosen[start : start + batch_size])
    return len(chosen)


def push_payload(notification: Notification) -> dict[str, str]:
    body = notification.body
    if len(body) > BODY_MAX_CHARS:
        body = body[: BODY_MAX_CHARS - 1] + "…"
    # A path: the service worker opens it on its own origin, and nothing else.
    return {"title": notification.title, "body": body, "url": notification.url or "/notifications/"}


@dataclass
class PushOutcome:
    sent: int = 0
    removed: int = 0
    failed: int = 0
    # Subscriptions whose push service asked us to come back (429, 5xx, network error).
    retry_ids: list[int] = field(default_factory=list)
    retry_after: int = 0


def _retry_after_seconds(response: Any) -> int:
    value = (response.headers.get("Retry-After") or "").strip() if response is not None else ""
    return min(int(value), 3600) if value.isdecimal() else 0


def push_send(*, notification_id: int, subscription_ids: list[int] | None = None) -> PushOutcome:
    """Push one notification to its recipient's devices. A subscription the push service no
    longer knows (404, 410) is deleted; other failures are counted on it, and those worth
    trying again (429, 5xx, no answer) are returned for the task to retry."""
    import requests
    from py_vapid import Vapid
    from pywebpush import WebPushException, webpush

    outcome = PushOutcome()
    notification = (
        Notification.objects.select_related("recipient").filter(pk=notification_id).first()
    )
    if notification is None or not push_configured() or not notification.recipient.is_active:
        return outcome
    subscriptions = PushSubscription.objects.filter(
        user_id=notification.recipient_id, organization_id=notification.organization_id
    ).order_by("pk")
    if subscription_ids is not None:
        subscriptions = subscriptions.filter(pk__in=subscription_ids)
    payload = json.dumps(push_payload(notification), ensure_ascii=False)
    vapid = Vapid.from_string(settings.WEBPUSH_VAPID_PRIVATE_KEY)
    with requests.Session() as session:
        for subscription in subscriptions:
            status: int | None = None
            response = None
            try:
                webpush(
                    subscription_info={
                        "endpoint": subscription.endpoint,
                        "keys": {"p256dh": subscription.p256dh, "auth": subscription.auth},
                    },
                    data=payload,
                    vapid_private_key=vapid,
                    # A new dict each time: pywebpush writes aud and exp into it.
                    vapid_claims={"sub": settings.WEBPUSH_VAPID_SUBJECT},
                    ttl=settings.WEBPUSH_TTL_SECONDS,
                    timeout=settings.WEBPUSH_TIMEOUT_SECONDS,
                    requests_session=session,
                )
            except WebPushException as exc:
                response = exc.response
                status = response.status_code if response is not None else None
            except requests.RequestException as exc:
                logger.warning("push to subscription %s failed: %s", subscription.pk, exc)
                status = 0
            if status is None and response is None:
                outcome.sent += 1
                PushSubscription.objects.filter(pk=subscription.pk).update(
                    last_success_at=timezone.now(), failure_count=0
                )
                continue
            if status in (404, 410):
                subscription.delete()
                outcome.removed += 1
                continue
            outcome.failed += 1
            PushSubscription.objects.filter(pk=subscription.pk).update(
                failure_count=F("failure_count") + 1
            )
            logger.warning("push to subscription %s answered %s", subscription.pk, status)
            if status == 0 or status == 429 or (status is not None and status >= 500):
                outcome.retry_ids.append(subscription.pk)
                outcome.retry_after = max(outcome.retry_after, _retry_after_seconds(response))
    return outcome


def vapid_keys_generate() -> tuple[str, str]:
    """A new VAPID key pair: (public key, private key), both base64url without padding."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    public = key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    private = key.private_numbers().private_value.to_bytes(32, "big")
    return (
        base64.urlsafe_b64encode(public).decode().rstrip("="),
        base64.urlsafe_b64encode(private).decode().rstrip("="),
    )


def vapid_keys_print() -> None:
    public_key, private_key = vapid_keys_generate()
    print(f"WEBPUSH_VAPID_PUBLIC_KEY={public_key}")
    print(f"WEBPUSH_VAPID_PRIVATE_KEY={private_key}")
    print("WEBPUSH_VAPID_SUBJECT=mailto:you@example.org")
