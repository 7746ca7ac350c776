"""Clicks on tracked links: classify, capture without slowing the redirect, record once.

The redirect view only classifies the request and appends an event to a Redis stream
(well under a millisecond); a worker drains the stream in batches. Each event carries a
unique id, so an event read twice (a consumer that died before acknowledging) is stored
once. Without Redis (the embedded default), or when it is down, the click is written
directly."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import threading
import time
import uuid
from functools import cache
from importlib import import_module
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.db import DatabaseError, DataError, IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from advocacy.links import destination_with_utm
from advocacy.models import ActivityKind, Click, TrackedLink
from advocacy.services.activity import activity_record
from organizations.models import User

logger = logging.getLogger(__name__)

# Link-preview fetchers, crawlers and scripts: redirected, never counted. In-app browsers
# ("LinkedInApp", "Twitter for iPhone", "[FBAN/FBIOS…]", "Telegram-Android/…", Pinterest's
# app) are people and must not match, hence `telegrambot` and `pinterest/0.` rather than
# the apps' names. `(?<!cu)`: CUBOT phones put "CUBOT" in their browsers' agent.
_BOTS = re.compile(
    r"(?<!cu)bot\b|bot/|crawl|spider|slurp|facebookexternalhit|facebookcatalog|"
    r"meta-externalagent|embedly|iframely|quora link preview|outbrain|pinterest/0\.|vkshare|"
    r"^whatsapp|telegrambot|skypeuripreview|slackbot|slack-imgproxy|discordbot|mastodon/|"
    r"cardyb|preview|bytespider|curl/|wget/|python-requests|python-urllib|httpx|aiohttp|"
    r"okhttp|go-http-client|java/|libwww|headlesschrome|phantomjs|lighthouse|monitor|uptime",
    re.IGNORECASE,
)
_PREFETCH_HEADERS = ("HTTP_PURPOSE", "HTTP_SEC_PURPOSE", "HTTP_X_PURPOSE", "HTTP_X_MOZ")
# TrackedLink codes are token_urlsafe; anything else is not looked up (a NUL byte in the
# path would even make PostgreSQL refuse the query).
_CODE = re.compile(r"[A-Za-z0-9_-]{1,16}")
# After the click stream fails, clicks go straight to the database for this long instead
# of each redirect waiting for Redis to fail again.
STREAM_RETRY_AFTER_SECONDS = 30.0
_stream_down_until: dict[str, float] = {}


# A link's code, destination and UTM never change once written (share_create writes the row
# and nothing updates it), so each process keeps the ones it served. Only a deleted link
# (its share, person or organisation deleted) can make an entry stale: the redirect then
# goes on working for at most LINK_CACHE_SECONDS, and its clicks are dropped by the drain.
LINK_CACHE_SECONDS = 60.0
LINK_CACHE_SIZE = 20_000
_link_cache: dict[str, tuple[float, TrackedLink, str]] = {}
_link_cache_lock = threading.Lock()


def link_cache_clear() -> None:
    with _link_cache_lock:
        _link_cache.clear()


def link_and_target(code: str) -> tuple[TrackedLink, str] | None:
    """The link of `code` (with its share) and where it redirects, from this process's
    cache when it served the code in the last LINK_CACHE_SECONDS; else one query."""
    now = time.monotonic()
    cached = _link_cache.get(code)
    if cached is not None and cached[0] > now:
        return cached[1], cached[2]
    link = link_by_code(code)
    if link is None:
        return None
    target = link_target(link)
    with _link_cache_lock:
        if len(_link_cache) >= LINK_CACHE_SIZE:
            # The oldest entry first (dicts keep insertion order): a bounded, cheap eviction.
            _link_cache.pop(next(iter(_link_cache)))
        _link_cache.pop(code, None)
        _link_cache[code] = (now + LINK_CACHE_SECONDS, link, target)
    return link, target


def link_by_code(code: str) -> TrackedLink | None:
    if not _CODE.fullmatch(code):
        return None
    return (
        TrackedLink.objects.select_related("share")
        .only(
            "code",
            "destination",
            "utm_source",
            "utm_campaign",
            "organization_id",
            "share__id",
            "share__organization_id",
            "share__user_id",
            "share__content_id",
            "share__network",
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


def visitor_day_key(day: str) -> bytes:
    """The day's key: derived from the secret and the day, so that a stored hash is only
    comparable within its day (one visitor counted once per day) and never across days."""
    return hmac.new(
        settings.SECRET_KEY.encode(), f"click-visitor|{day}".encode(), "sha256"
    ).digest()


def _visitor(request: HttpRequest, day: str) -> str:
    """A keyed hash of address and browser under the day's key: the address itself goes
    no further than this function (not in the event, the stream, the database or logs)."""
    address = request.META.get("REMOTE_ADDR", "")
    agent = request.META.get("HTTP_USER_AGENT", "")
    raw = f"{address}|{agent}".encode()
    return hmac.new(visitor_day_key(day), raw, hashlib.sha256).hexdigest()[:32]


def _referrer_host(request: HttpRequest) -> str:
    try:
        return (urlsplit(request.META.get("HTTP_REFERER", "")).hostname or "")[:200]
    except ValueError:  # a malformed Referer is the visitor's problem, not a 500
        return ""


def _visitor_is_sharer(request: HttpRequest, sharer_id: int) -> bool:
    """Whether the visitor is signed in as the sharer. Behind the full middleware stack
    `request.user` says so. The lean redirect (advocacy.lean) has no session middleware: the
    session is read only when its cookie came, and the user loaded (and the session's
    password hash checked, as the middleware would) only when it names the sharer, so an
    anonymous visitor costs nothing and no session is ever created or saved."""
    user = getattr(request, "user", None)
    if user is not None:
        return bool(user.is_authenticated and user.pk == sharer_id)
    session_key = request.COOKIES.get(settings.SESSION_COOKIE_NAME)
    if not session_key:
        return False
    from django.contrib.auth import SESSION_KEY, get_user

    session = import_module(settings.SESSION_ENGINE).SessionStore(session_key)
    try:
        if str(session.get(SESSION_KEY, "")) != str(sharer_id):
            return False
        request.session = session
        user = get_user(request)
    except Exception:
        # A session store that fails must not cost the visitor the redirect.
        logger.warning("Could not read the session of a tracked-link visitor", exc_info=True)
        return False
    return bool(user.is_authenticated and user.pk == sharer_id)


def click_capture(*, link: TrackedLink, request: HttpRequest) -> dict[str, Any]:
    """Build the click event and hand it on: to the stream when Redis is there, else
    straight to the database. Never raises: the visitor gets the redirect regardless."""
    now = timezone.now()
    event = {
        "event_id": str(uuid.uuid4()),
        "link_id": link.pk,
        "at": now.isoformat(),
        "visitor": _visitor(request, now.date().isoformat()),
        "is_self": _visitor_is_sharer(request, link.share.user_id),
        "referrer_host": _referrer_host(request),
    }
    url = settings.REDIS_URL
    if url and time.monotonic() >= _stream_down_until.get(url, 0.0):
        try:
            _redis().xadd(
                settings.CLICK_STREAM_KEY,
                {"event": json.dumps(event)},
                maxlen=1_000_000,
                approximate=True,
            )
            return event
        except Exception:
            _stream_down_until[url] = time.monotonic() + STREAM_RETRY_AFTER_SECONDS
            logger.warning("Click stream unavailable; writing clicks directly", exc_info=True)
    try:
        click_record(event=event, link=link)
    except Exception:
        # The event is logged whole so that it can be replayed by hand.
        logger.exception("Could not record click %s", json.dumps(event))
    return event


@cache
def _redis_for(url: str):  # type: ignore[no-untyped-def]
    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    # One quick retry covers a pooled connection that Redis closed; more would make the
    # visitor wait for a Redis that is down (the redirect falls back to the database).
    return redis.Redis.from_url(
        url, socket_timeout=1, socket_connect_timeout=0.5, retry=Retry(NoBackoff(), 1)
    )


def _redis():  # type: ignore[no-untyped-def]
    return _redis_for(settings.REDIS_URL)


def _first_team_ids(user_ids: set[int]) -> dict[int, int]:
    """Each sharer's first team (by id): the team a click is credited to."""
    teams: dict[int, int] = {}
    rows = (
        User.teams.through.objects.filter(user_id__in=user_ids)
        .order_by("user_id", "team_id")
        .values_list("user_id", "team_id")
    )
    for user_id, team_id in rows:
        teams.setdefault(user_id, team_id)
    return teams


def click_record(
    *, event: dict[str, Any], link: TrackedLink | None = None, team_id: int | None = None
) -> Click | None:
    """Store one click event; None when it was stored before (same event id) or its link is
    gone. Appends the click's activity in the same transaction. `link` (with its share) and
    `team_id` may be given by a caller that already loaded them for a batch."""
    event_id = uuid.UUID(str(event["event_id"]))
    if link is None:
        link = TrackedLink.objects.select_related("share").filter(pk=event["link_id"]).first()
        if link is None:
            return None
        team_id = _first_team_ids({link.share.user_id}).get(link.share.user_id)
    elif team_id is None:
        team_id = _first_team_ids({link.share.user_id}).get(link.share.user_id)
    share = link.share
    clicked_at = parse_datetime(str(event["at"])) or timezone.now()
    try:
        with transaction.atomic():
            click = Click.objects.create(
                event_id=event_id,
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
    cursor = "0-0"
    for _ in range(max_batches):
        cursor, claimed, *_deleted = client.xautoclaim(
            stream, _GROUP, consumer, min_idle_time=min_idle_ms, start_id=cursor, count=batch
        )
        stored += _store(client, claimed)
        if cursor in (b"0-0", "0-0"):
            break
    for _ in range(max_batches):
        answer = client.xreadgroup(_GROUP, consumer, {stream: ">"}, count=batch)
        entries = answer[0][1] if answer else []
        if not entries:
            break
        stored += _store(client, entries)
    return stored


def _event_from(fields: dict[bytes, bytes] | None) -> dict[str, Any] | None:
    try:
        event = json.loads(fields[b"event"])  # type: ignore[index]
        uuid.UUID(str(event["event_id"]))
        int(event["link_id"])
    except (KeyError, TypeError, ValueError):
        return None
    return event if isinstance(event, dict) else None


def _store(client: Any, entries: list[tuple[bytes, dict[bytes, bytes] | None]]) -> int:
    if not entries:
        return 0
    parsed = [(entry_id, _event_from(fields)) for entry_id, fields in entries]
    stored = 0
    try:
        # One commit per batch rather than per click: the database's flush is the drain's
        # cost. A failure rolls the whole batch back and leaves it pending for a replay.
        with transaction.atomic():
            # One query for the batch's links and one for their sharers' teams.
            links = TrackedLink.objects.select_related("share").in_bulk(
                {int(event["link_id"]) for _id, event in parsed if event}
            )
            teams = _first_team_ids({link.share.user_id for link in links.values()})
            for entry_id, event in parsed:
                if event is None:
                    logger.error("Dropping a malformed click event %s", entry_id)
                    continue
                link = links.get(int(event["link_id"]))
                if link is None:
                    continue  # its share was deleted since
                try:
                    team_id = teams.get(link.share.user_id)
                    if click_record(event=event, link=link, team_id=team_id):
                        stored += 1
                except DataError:
                    # This event can never be stored; keeping it would block the stream.
                    logger.exception("Dropping click event %s", entry_id)
    except DatabaseError:
        logger.exception("Click drain stopped; %d events left pending", len(parsed))
        raise
    # Acknowledged only once committed: a crash before this line replays the batch, and
    # the unique event id makes the replay harmless.
    done = [entry_id for entry_id, _fields in entries]
    client.xack(settings.CLICK_STREAM_KEY, _GROUP, *done)
    client.xdel(settings.CLICK_STREAM_KEY, *done)
    return stored


def clicks_pending() -> int:
    """Events waiting in the stream (for the health page and tests)."""
    if not settings.REDIS_URL:
        return 0
    return int(_redis().xlen(settings.CLICK_STREAM_KEY))
