"""Clicks on tracked links: classify, capture without slowing the redirect, record once.

The redirect view only classifies the request and appends an event to a Redis stream
(well under a millisecond); a worker drains the stream in batches. Each event carries a
unique id, so an event read twice (a consumer that died before acknowledging) is stored
once. Without Redis (the embedded default), or when it is down, the click is written
directly."""

from __future__ import annotations

import hashlib
import json
import logging
import re
import uuid
from functools import cache
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from advocacy.links import destination_with_utm
from advocacy.models import ActivityKind, Click, TrackedLink
from advocacy.services.activity import activity_record

logger = logging.getLogger(__name__)

# Link-preview fetchers, crawlers and scripts: redirected, never counted. In-app browsers
# ("LinkedInApp", "Twitter for iPhone") are people and do not match.
_BOTS = re.compile(
    r"bot\b|bot/|crawl|spider|slurp|facebookexternalhit|facebookcatalog|meta-externalagent|"
    r"embedly|quora link preview|outbrain|pinterest|vkshare|whatsapp|telegram|skypeuripreview|"
    r"slack|discord|preview|curl/|wget/|python-requests|python-urllib|httpx|aiohttp|okhttp|"
    r"go-http-client|java/|libwww|headlesschrome|phantomjs|lighthouse|monitor|uptime",
    re.IGNORECASE,
)
_PREFETCH_HEADERS = ("HTTP_PURPOSE", "HTTP_SEC_PURPOSE", "HTTP_X_PURPOSE", "HTTP_X_MOZ")


def link_by_code(code: str) -> TrackedLink | None:
    return (
        TrackedLink.objects.select_related("share")
        .only(
            "code",
            "destination",
            "utm_source",
            "utm_campaign",
            "share__user_id",
            "organization_id",
            "share__id",
        )
        .filter(code=code)
        .first()
    )


def link_target(link: TrackedLink) -> str:
    """Where /s/<code> sends the visitor: the stored destination with our UTM parameters;
    nothing from the request takes part."""
    return destination_with_utm(
        link.destination, source=link.utm_source, campaign=link.utm_campaign
    )


def click_ignored_reason(request: HttpRequest) -> str:
    """Why this request is not a click to count ("" when it is one)."""
    if request.method != "GET":
        return "method"
    agent = request.META.get("HTTP_USER_AGENT", "")
    if not agent.strip():
        return "no-agent"
    if _BOTS.search(agent):
        return "bot"
    for header in _PREFETCH_HEADERS:
        value = request.META.get(header, "").lower()
        if "prefetch" in value or "preview" in value or "prerender" in value:
            return "prefetch"
    return ""


def _visitor(request: HttpRequest, day: str) -> str:
    address = request.META.get("REMOTE_ADDR", "")
    agent = request.META.get("HTTP_USER_AGENT", "")
    raw = f"{settings.SECRET_KEY}|{day}|{address}|{agent}".encode()
    return hashlib.sha256(raw).hexdigest()[:32]


def click_capture(*, link: TrackedLink, request: HttpRequest) -> dict[str, Any]:
    """Build the click event and hand it on: to the stream when Redis is there, else
    straight to the database."""
    now = timezone.now()
    user = getattr(request, "user", None)
    event = {
        "event_id": str(uuid.uuid4()),
        "link_id": link.pk,
        "at": now.isoformat(),
        "visitor": _visitor(request, now.date().isoformat()),
        "is_self": bool(
            user is not None and user.is_authenticated and user.pk == link.share.user_id
        ),
        "referrer_host": (urlsplit(request.META.get("HTTP_REFERER", "")).hostname or "")[:200],
    }
    if settings.REDIS_URL:
        try:
            _redis().xadd(
                settings.CLICK_STREAM_KEY,
                {"event": json.dumps(event)},
                maxlen=1_000_000,
                approximate=True,
            )
            return event
        except Exception:
            logger.warning("Click stream unavailable; writing the click directly", exc_info=True)
    click_record(event=event)
    return event


@cache
def _redis_for(url: str):  # type: ignore[no-untyped-def]
    import redis

    return redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=1)


def _redis():  # type: ignore[no-untyped-def]
    return _redis_for(settings.REDIS_URL)


def click_record(*, event: dict[str, Any]) -> Click | None:
    """Store one click event; None when it was stored before (same event id) or its link is
    gone. Appends the click's activity in the same transaction."""
    link = (
        TrackedLink.objects.select_related("share", "share__user")
        .filter(pk=event["link_id"])
        .first()
    )
    if link is None:
        return None
    share = link.share
    clicked_at = parse_datetime(str(event["at"])) or timezone.now()
    team_id = share.user.teams.order_by("pk").values_list("pk", flat=True).first()
    try:
        with transaction.atomic():
            click = Click.objects.create(
                event_id=uuid.UUID(str(event["event_id"])),
                organization_id=link.organization_id,
                link=link,
                share=share,
                content_id=share.content_id,
                sharer_id=share.user_id,
                team_id=team_id,
                network=share.network,
                visitor=str(event.get("visitor", ""))[:64],
                is_self=bool(event.get("is_self")),
                referrer_host=str(event.get("referrer_host", ""))[:200],
                clicked_at=clicked_at,
            )
            activity_record(
                kind=ActivityKind.CLICK_RECORDED, share=share, click=click, occurred_at=clicked_at
            )
    except IntegrityError:
        return None  # already recorded: reprocessing never double-counts
    return click


_GROUP = "recorders"


def clicks_drain(
    *, consumer: str = "worker", batch: int = 500, min_idle_ms: int = 60_000, max_batches: int = 20
) -> int:
    """Record the stream's clicks in batches. Entries another consumer read but never
    acknowledged (it died) are taken over once idle for `min_idle_ms`. Returns how many
    new clicks were stored."""
    if not settings.REDIS_URL:
        return 0
    import redis

    client = _redis()
    stream = settings.CLICK_STREAM_KEY
    try:
        client.xgroup_create(stream, _GROUP, id="0", mkstream=True)
    except redis.ResponseError as exc:
        if "BUSYGROUP" not in str(exc):
            raise
    stored = 0
    _next, claimed, *_rest = client.xautoclaim(
        stream, _GROUP, consumer, min_idle_time=min_idle_ms, start_id="0-0", count=batch
    )
    stored += _store(client, claimed)
    for _ in range(max_batches):
        answer = client.xreadgroup(_GROUP, consumer, {stream: ">"}, count=batch)
        entries = answer[0][1] if answer else []
        if not entries:
            break
        stored += _store(client, entries)
    return stored


def _store(client: Any, entries: list[tuple[bytes, dict[bytes, bytes]]]) -> int:
    stored = 0
    done: list[bytes] = []
    for entry_id, fields in entries:
        try:
            event = json.loads(fields[b"event"])
        except (KeyError, ValueError):
            logger.error("Dropping a malformed click event %s", entry_id)
            done.append(entry_id)
            continue
        if click_record(event=event) is not None:
            stored += 1
        done.append(entry_id)
    if done:
        # Acknowledged only once stored: a crash before this line replays them, and the
        # unique event id makes the replay harmless.
        client.xack(settings.CLICK_STREAM_KEY, _GROUP, *done)
        client.xdel(settings.CLICK_STREAM_KEY, *done)
    return stored


def clicks_pending() -> int:
    """Events waiting in the stream (for the health page and tests)."""
    if not settings.REDIS_URL:
        return 0
    return int(_redis().xlen(settings.CLICK_STREAM_KEY))
