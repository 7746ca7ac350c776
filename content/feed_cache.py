"""The feed API's pages, kept in the cache per organisation and audience.

Everyone of an organisation who is in the same teams, reads in the same language and asks
for the same page sees the same rows: the page's rows, their related rows and the total are
read once and kept, under a key that holds the organisation's *feed version*. Any change
that could alter a feed (a content item, its captions, topics, audience or images, a topic,
the team tree) sets a new version, at once and again after the commit (a request between
the change and its commit may have read the rows as they were), so that a recall or an edit
is seen by the next request. Time changes a feed too: a page is kept until the next moment
one of the organisation's approved items is published or expires, and a minute at most.

What is personal is not kept in the page: the caller's teams are part of its key (kept
per person under the version, which any change of a person's teams replaces) and the
caption offered to each person is picked per request among the kept ones (content/api.py
feed_items_for). A process that served the person before asks for the version, their teams
and the page in one round trip to the cache (feed_page_lookup), with no query. A change of
the compliance rules (which shape the captions' previews) sets a new version too. Searches and "new since my previous visit" are read from
the database each time."""

from __future__ import annotations

import secrets
from collections import OrderedDict
from datetime import datetime, timedelta
from typing import Any

from django.core.cache import cache
from django.db import transaction
from django.db.models import Min, Q
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.utils import timezone

from content.models import Caption, Content, ContentStatus, ImageRendition, Topic
from organizations.models import Team, User

# The longest a page is kept, whatever the schedule says.
FEED_CACHE_SECONDS = 60


def _version_key(organization_id: int) -> str:
    return f"feed:version:{organization_id}"


def feed_version(organization_id: int) -> str:
    """The organisation's current feed version (a new one when the cache lost it: pages
    kept under a lost version must never be read again)."""
    key = _version_key(organization_id)
    version = cache.get(key)
    if version is None:
        cache.add(key, secrets.token_hex(8), None)
        version = cache.get(key)
    return str(version)


def feed_forget(*, organization_id: int) -> None:
    """Every kept page of the organisation is forgotten: now, and after the commit."""
    key = _version_key(organization_id)
    cache.set(key, secrets.token_hex(8), None)
    transaction.on_commit(lambda: cache.set(key, secrets.token_hex(8), None))


def feed_audience_key(user: User) -> str:
    """The caller's teams in the organisation (one small query): the audience rule reads
    them and the tree above them, which the version covers."""
    teams = sorted(
        User.teams.through.objects.filter(
            user_id=user.pk, team__organization_id=user.organization_id
        ).values_list("team_id", flat=True)
    )
    return ".".join(str(team) for team in teams) or "-"


def _audience_cache_key(organization_id: int, version: str, user_id: int) -> str:
    return f"feed:audience:{organization_id}:{version}:{user_id}"


def _page_cache_key(
    organization_id: int, version: str, audience: str, user: User, rest: tuple[str, ...]
) -> str:
    return ":".join(("feed:page", str(organization_id), version, audience, user.language, *rest))


# What this process last saw: each organisation's version, each person's teams. Guesses
# only: they name the keys asked for, and the cache's answer under the version decides.
_seen_versions: dict[int, str] = {}
_seen_audiences: dict[tuple[int, int], str] = {}
_SEEN_AUDIENCES_MAX = 20_000
# The pages this process read or kept last, under their full keys: a key names the
# version, so a page kept here is exactly as current as the cache's copy, without the
# transfer and the unpickling of tens of kilobytes. The oldest kept goes first (no
# reordering on a read: nothing here can fail when two threads share a process).
_local_pages: OrderedDict[str, tuple[datetime | None, Any]] = OrderedDict()
_LOCAL_PAGES_MAX = 64


def feed_page_lookup(
    user: User, *, topic: str, number: int, size: int, base: str
) -> tuple[str, Any | None, str]:
    """The page's key (the organisation's feed version, the caller's audience and language,
    the filters, the page, and the site address its links are written with), what
    feed_page_set kept under it or None, and the version.

    The version, the caller's teams and the page are asked for in one round trip, under
    the version and teams this process saw last (the page only when this process does not
    hold it already); when the version moved or the person is new here, their teams are
    read (and kept under the new version) and the page asked for again."""
    organization_id = user.organization_id
    assert organization_id is not None
    rest = (topic, str(number), str(size), base)
    version_key = _version_key(organization_id)
    guessed_version = _seen_versions.get(organization_id)
    guessed_audience = _seen_audiences.get((organization_id, user.pk))
    guessed_page = None
    wanted = [version_key]
    if guessed_version is not None:
        wanted.append(_audience_cache_key(organization_id, guessed_version, user.pk))
        if guessed_audience is not None:
            guessed_page = _page_cache_key(
                organization_id, guessed_version, guessed_audience, user, rest
            )
            if guessed_page not in _local_pages:
                wanted.append(guessed_page)
    found = cache.get_many(wanted)
    version = found.get(version_key)
    version = feed_version(organization_id) if version is None else str(version)
    _seen_versions[organization_id] = version
    audience_key = _audience_cache_key(organization_id, version, user.pk)
    audience = found.get(audience_key) if version == guessed_version else None
    if audience is None:
        audience = feed_audience_key(user)
        cache.set(audience_key, audience, FEED_CACHE_SECONDS)
    if len(_seen_audiences) >= _SEEN_AUDIENCES_MAX:
        _seen_audiences.clear()
    _seen_audiences[(organization_id, user.pk)] = audience
    key = _page_cache_key(organization_id, version, audience, user, rest)
    kept = _local_pages.get(key)
    if kept is None:
        if key in found:
            kept = found[key]
        elif key != guessed_page:  # not asked for yet
            kept = cache.get(key)
        if kept is not None:
            _local_remember(key, kept)
    return key, None if kept is None else _still_valid(kept), version


# The feed page's items for a kept page, as model instances with their related rows, under
# the page's key (which names the version): a warm page reads none of them again.
_local_items: OrderedDict[str, list[Any]] = OrderedDict()


def feed_items_kept(key: str) -> list[Any] | None:
    return _local_items.get(key)


def feed_items_keep(key: str, items: list[Any]) -> None:
    _local_items[key] = items
    if len(_local_items) > _LOCAL_PAGES_MAX:
        _local_items.popitem(last=False)


def _local_remember(key: str, kept: tuple[datetime | None, Any]) -> None:
    _local_pages[key] = kept
    if len(_local_pages) > _LOCAL_PAGES_MAX:
        _local_pages.popitem(last=False)


def _still_valid(kept: tuple[datetime | None, Any]) -> Any | None:
    valid_until, value = kept
    if valid_until is not None and timezone.now() >= valid_until:
        return None
    return value


def feed_page_set(key: str, value: Any, *, organization_id: int) -> None:
    now = timezone.now()
    valid_until = _next_schedule_change(organization_id, now)
    latest = now + timedelta(seconds=FEED_CACHE_SECONDS)
    if valid_until is None or valid_until > latest:
        valid_until = latest
    seconds = max(1, int((valid_until - now).total_seconds()) + 1)
    cache.set(key, (valid_until, value), seconds)
    _local_remember(key, (valid_until, value))


def _next_schedule_change(organization_id: int, now: datetime) -> datetime | None:
    """The next time an approved item of the organisation enters or leaves the feed."""
    found = Content.objects.filter(
        organization_id=organization_id, status=ContentStatus.APPROVED
    ).aggregate(
        publish=Min("publish_at", filter=Q(publish_at__gt=now)),
        expire=Min("expires_at", filter=Q(expires_at__gt=now)),
    )
    moments = [moment for moment in (found["publish"], found["expire"]) if moment is not None]
    return min(moments) if moments else None


# --- What sets a new version ------------------------------------------------------------------


def _organization_changed(sender: type, instance: Any, **_: object) -> None:
    organization_id = getattr(instance, "organization_id", None)
    if organization_id is not None:
        feed_forget(organization_id=organization_id)


def _content_part_changed(sender: type, instance: Caption | ImageRendition, **_: object) -> None:
    organization_id = (
        Content.objects.filter(pk=instance.content_id)
        .values_list("organization_id", flat=True)
        .first()
    )
    if organization_id is not None:  # None: the item itself is being deleted, and said so
        feed_forget(organization_id=organization_id)


def _content_relation_changed(
    sender: type, instance: Any, action: str, reverse: bool, pk_set: set[int] | None, **_: object
) -> None:
    if not action.startswith("post_"):
        return
    if not reverse:
        _organization_changed(sender, instance)
        return
    # From the other side (a topic's or a team's items): the items name the organisation.
    if pk_set:
        for organization_id in set(
            Content.objects.filter(pk__in=pk_set).values_list("organization_id", flat=True)
        ):
            feed_forget(organization_id=organization_id)
    else:
        _organization_changed(sender, instance)


def _memberships_changed(
    sender: type, instance: Any, action: str, reverse: bool, pk_set: set[int] | None, **_: object
) -> None:
    """A person joined or left a team: their teams kept under the version are stale, so the
    organisations of those teams get a new version (before a clear, while its rows say
    which)."""
    if action not in ("post_add", "post_remove", "pre_clear"):
        return
    if action != "pre_clear" and not pk_set:  # added again what was there: no change
        return
    if reverse:  # a team's members: the team names the organisation
        _organization_changed(sender, instance)
        return
    teams = instance.teams.all() if action == "pre_clear" else Team.objects.filter(pk__in=pk_set)
    for organization_id in set(teams.values_list("organization_id", flat=True)):
        feed_forget(organization_id=organization_id)


def feed_cache_watch() -> None:
    """Connected in ContentConfig.ready(): any save or delete that could change a feed, by
    a service, a factory or the admin, sets a new version. (A bulk update() sends no signal:
    the services that use one on these tables call feed_forget themselves.)"""
    for model in (Content, Topic, Team):
        uid = f"feed-{model.__name__}"
        post_save.connect(_organization_changed, sender=model, dispatch_uid=uid)
        post_delete.connect(_organization_changed, sender=model, dispatch_uid=f"{uid}-d")
    for model in (Caption, ImageRendition):
        uid = f"feed-{model.__name__}"
        post_save.connect(_content_part_changed, sender=model, dispatch_uid=uid)
        post_delete.connect(_content_part_changed, sender=model, dispatch_uid=f"{uid}-d")
    m2m_changed.connect(
        _memberships_changed, sender=User.teams.through, dispatch_uid="feed-memberships"
    )
    for through in (Content.topics.through, Content.audience_teams.through):
        m2m_changed.connect(
            _content_relation_changed, sender=through, dispatch_uid=f"feed-{through.__name__}"
        )
