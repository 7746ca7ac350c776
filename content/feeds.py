"""RSS and Atom subscriptions: who may see and change them (selectors), their writes
(services), and the run that turns a feed's new items into library content.

New items become drafts, or are submitted for review, through the content services (the
author is the person who added the feed; the link preview is queued as for a link typed by
hand). Nothing is ever approved here. An item is identified by its canonical URL, unique
per organisation: the same article in two feeds, or seen again, makes one draft.

Fetching follows the outbox habit: the run claims the subscription with a conditional
UPDATE (its ``next_fetch_at`` pushed forward by a lease), downloads outside any
transaction, then records the outcome. Failures back off (doubling, capped) and after
``FEED_MAX_FAILURES`` in a row the feed is paused and shown as failing until an editor
tries again.
"""

from __future__ import annotations

import logging
import socket
from dataclasses import dataclass, field
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import Count, Q, QuerySet
from django.http import Http404, HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from content import feed_fetch
from content.linkpreview import (
    LinkFetchFailed,
    LinkRefused,
    Resolver,
    policy_from_settings,
    url_check,
)
from content.models import (
    ContentKind,
    FeedItem,
    FeedMode,
    FeedSubscription,
    Network,
    Topic,
)
from organizations.audit import audit_record
from organizations.errors import DomainError, PermissionDeniedError
from organizations.models import Language, User

logger = logging.getLogger(__name__)

FEED_INTERVAL = timedelta(minutes=30)
FEED_RETRY_FIRST = timedelta(minutes=15)
FEED_RETRY_MAX = timedelta(hours=12)
FEED_MAX_FAILURES = 6
# While a run holds a feed: longer than a fetch can take (task time limit), so that the beat
# does not start a second run; a run that died is picked up again after it.
FEED_LEASE = timedelta(minutes=5)
# At most this many drafts per run: subscribing to a feed of 50 items makes the newest 10,
# the older ones are remembered as seen (never imported later in a burst).
FEED_MAX_NEW_ITEMS = 10
DUE_BATCH = 100


class FeedState:
    ACTIVE = "active"
    PAUSED = "paused"
    FAILING = "failing"


def feed_state(subscription: FeedSubscription) -> str:
    if subscription.active:
        return FeedState.ACTIVE
    if subscription.consecutive_failures >= FEED_MAX_FAILURES:
        return FeedState.FAILING
    return FeedState.PAUSED


# --- Selectors --------------------------------------------------------------------------


def feed_subscriptions_of(user: User) -> QuerySet[FeedSubscription]:
    """The organisation's feeds with the number of contents each created; editors only."""
    if not user.can_edit_content or user.organization_id is None:
        return FeedSubscription.objects.none()
    return (
        FeedSubscription.objects.filter(organization_id=user.organization_id)
        .select_related("created_by")
        .prefetch_related("topics")
        .annotate(items_created=Count("items", filter=Q(items__content__isnull=False)))
        .order_by("title", "url", "id")
    )


def feed_subscription_for_user(user: User, pk: int) -> FeedSubscription:
    """The one access check for a feed: editors of its organisation; else 404."""
    try:
        return feed_subscriptions_of(user).get(pk=pk)
    except FeedSubscription.DoesNotExist:
        raise Http404 from None


# --- Services: subscriptions ------------------------------------------------------------


@dataclass
class FeedInput:
    url: str
    title: str = ""
    mode: str = FeedMode.DRAFT
    topics: list[Topic] = field(default_factory=list)
    language: str = ""


def _require_editor(actor: User) -> int:
    """The editor's organisation id; refused for anyone else."""
    if not actor.can_edit_content or actor.organization_id is None:
        raise PermissionDeniedError(_("Only editors can change the library."))
    return actor.organization_id


def _no_lookup(host: str, port: int, *args: object, **kwargs: object) -> list[tuple]:
    # Checking an address when it is saved must not wait on DNS: the name's addresses are
    # checked at every fetch. This stands in for the answer so that every other rule runs.
    return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("192.0.43.10", port))]


def _clean(data: FeedInput, actor: User, current: FeedSubscription | None = None) -> None:
    data.url = data.url.strip()
    data.title = data.title.strip()[:200]
    if not data.url:
        raise DomainError(_("The feed's address is required."), field="url")
    if len(data.url) > 1000:
        raise DomainError(_("The feed's address is too long."), field="url")
    try:
        url_check(data.url, policy=policy_from_settings(), resolver=_no_lookup)
    except LinkRefused as refused:
        raise DomainError(_refusal_in_words(refused), field="url") from None
    if data.mode not in FeedMode.values:
        raise DomainError(_("Choose what new items become."), field="mode")
    if data.language and data.language not in Language.values:
        raise DomainError(_("Unknown language."), field="language")
    if any(topic.organization_id != actor.organization_id for topic in data.topics):
        raise DomainError(_("A chosen topic belongs to another organisation."), field="topics")
    taken = FeedSubscription.objects.filter(organization_id=_require_editor(actor), url=data.url)
    if current is not None:
        taken = taken.exclude(pk=current.pk)
    if taken.exists():
        raise DomainError(_("This feed is already in the list."), field="url")


def _enqueue_fetch(subscription: FeedSubscription) -> None:
    from content.tasks import fetch_feed

    fetch_feed.delay_on_commit(subscription.pk)


def feed_subscription_create(
    *, actor: User, data: FeedInput, request: HttpRequest | None = None
) -> FeedSubscription:
    organization_id = _require_editor(actor)
    _clean(data, actor)
    try:
        with transaction.atomic():
            subscription = FeedSubscription.objects.create(
                organization_id=organization_id,
                url=data.url,
                title=data.title,
                mode=data.mode,
                language=data.language,
                created_by=actor,
                next_fetch_at=timezone.now(),
            )
            subscription.topics.set(data.topics)
            audit_record(
                action="feed.created",
                organization=actor.organization,
                actor=actor,
                target=subscription,
                request=request,
                details={"url": subscription.url},
            )
    except IntegrityError:  # the same address added at the same moment
        raise DomainError(_("This feed is already in the list."), field="url") from None
    _enqueue_fetch(subscription)
    return subscription


def feed_subscription_update(
    *,
    actor: User,
    subscription: FeedSubscription,
    data: FeedInput,
    request: HttpRequest | None = None,
) -> FeedSubscription:
    """Change a feed. A new address starts afresh: no validators, fetched soon."""
    _require_editor(actor)
    if subscription.organization_id != actor.organization_id:
        raise Http404
    _clean(data, actor, subscription)
    try:
        with transaction.atomic():
            subscription = FeedSubscription.objects.select_for_update().get(pk=subscription.pk)
            url_changed = subscription.url != data.url
            subscription.url = data.url
            subscription.title = data.title
            subscription.mode = data.mode
            subscription.language = data.language
            fields = ["url", "title", "mode", "language"]
            if url_changed:
                subscription.etag = subscription.last_modified = subscription.last_error = ""
                subscription.consecutive_failures = 0
                subscription.next_fetch_at = timezone.now()
                fields += [
                    "etag",
                    "last_modified",
                    "last_error",
                    "consecutive_failures",
                    "next_fetch_at",
                ]
            subscription.save(update_fields=fields)
            subscription.topics.set(data.topics)
            audit_record(
                action="feed.updated",
                organization=actor.organization,
                actor=actor,
                target=subscription,
                request=request,
            )
    except IntegrityError:
        raise DomainError(_("This feed is already in the list."), field="url") from None
    if url_changed and subscription.active:
        _enqueue_fetch(subscription)
    return subscription


def feed_subscription_pause(
    *, actor: User, subscription: FeedSubscription, request: HttpRequest | None = None
) -> FeedSubscription:
    _require_editor(actor)
    if subscription.organization_id != actor.organization_id:
        raise Http404
    FeedSubscription.objects.filter(pk=subscription.pk).update(active=False)
    audit_record(
        action="feed.paused",
        organization=actor.organization,
        actor=actor,
        target=subscription,
        request=request,
    )
    subscription.refresh_from_db()
    return subscription


def feed_subscription_resume(
    *, actor: User, subscription: FeedSubscription, request: HttpRequest | None = None
) -> FeedSubscription:
    """Resume a paused feed, try a failing one again, or fetch an active one now: the
    failure count starts again from zero and a fetch is queued."""
    _require_editor(actor)
    if subscription.organization_id != actor.organization_id:
        raise Http404
    with transaction.atomic():
        FeedSubscription.objects.filter(pk=subscription.pk).update(
            active=True, consecutive_failures=0, next_fetch_at=timezone.now()
        )
        audit_record(
            action="feed.resumed",
            organization=actor.organization,
            actor=actor,
            target=subscription,
            request=request,
        )
        _enqueue_fetch(subscription)
    subscription.refresh_from_db()
    return subscription


def feed_subscription_delete(
    *, actor: User, subscription: FeedSubscription, request: HttpRequest | None = None
) -> None:
    """Stop following a feed. The drafts it made stay in the library, and its items stay
    known, so that adding it again does not import them twice."""
    _require_editor(actor)
    if subscription.organization_id != actor.organization_id:
        raise Http404
    with transaction.atomic():
        audit_record(
            action="feed.deleted",
            organization=actor.organization,
            actor=actor,
            target=subscription,
            request=request,
            details={"url": subscription.url},
        )
        subscription.delete()


# --- The run ----------------------------------------------------------------------------


def feed_due_ids(*, now: object | None = None, limit: int = DUE_BATCH) -> list[int]:
    moment = now or timezone.now()
    return list(
        FeedSubscription.objects.filter(active=True, next_fetch_at__lte=moment)
        .order_by("next_fetch_at")
        .values_list("pk", flat=True)[:limit]
    )


def retry_delay(failures: int) -> timedelta:
    """15 minutes after the first failure, doubling, at most 12 hours."""
    delay = FEED_RETRY_FIRST * (2 ** max(0, failures - 1))
    return min(delay, FEED_RETRY_MAX)


@dataclass(frozen=True)
class FeedRunResult:
    outcome: str  # skipped, not_modified, fetched, failed
    created: int = 0


def feed_fetch_run(
    *, subscription_id: int, resolver: Resolver = socket.getaddrinfo
) -> FeedRunResult:
    """Fetch one due feed and turn its new items into content (runs in the worker)."""
    now = timezone.now()
    claimed = FeedSubscription.objects.filter(
        pk=subscription_id, active=True, next_fetch_at__lte=now
    ).update(next_fetch_at=now + FEED_LEASE)
    if not claimed:
        return FeedRunResult("skipped")  # not due, paused, deleted, or another run has it
    subscription = FeedSubscription.objects.select_related("organization", "created_by").get(
        pk=subscription_id
    )
    try:
        fetched = feed_fetch.feed_fetch(
            subscription.url,
            etag=subscription.etag,
            last_modified=subscription.last_modified,
            policy=policy_from_settings(),
            resolver=resolver,
        )
    except LinkRefused as refused:
        _record_failure(subscription, _refusal_in_words(refused))
        return FeedRunResult("failed")
    except LinkFetchFailed as error:
        _record_failure(subscription, str(error.message))
        return FeedRunResult("failed")
    if fetched.not_modified:
        _record_success(subscription, fetched)
        return FeedRunResult("not_modified")
    try:
        created = _import_entries(subscription, fetched.entries)
    except PermissionDeniedError:
        _record_failure(
            subscription,
            _(
                "The person who added this feed can no longer edit the library. Delete the "
                "feed and add it again to take it over."
            ),
            pause=True,
        )
        return FeedRunResult("failed")
    _record_success(subscription, fetched)
    return FeedRunResult("fetched", created)


def _refusal_in_words(refused: LinkRefused) -> str:
    """The link preview's refusal, worded for a feed (its messages speak of previews)."""
    public_only = _("feeds are only fetched from public web addresses.")
    messages = {
        "scheme": _("Only http and https feed addresses can be followed."),
        "userinfo": _("Feed addresses containing a user name or password cannot be followed."),
        "port": _("Feeds on this port cannot be followed."),
        "loopback": _("This address points to the server itself: %(rule)s"),
        "private": _("This address points to a private network: %(rule)s"),
        "shared": _("This address points to a private network: %(rule)s"),
        "link_local": _("This address points to a link-local or cloud metadata address: %(rule)s"),
    }
    if refused.code in ("invalid", "unresolvable"):
        return str(refused.message)
    message = messages.get(refused.code, _("This address is not a public web address: %(rule)s"))
    return message % {"rule": public_only} if "%(rule)s" in message else message


def _record_success(subscription: FeedSubscription, fetched: feed_fetch.FetchedFeed) -> None:
    now = timezone.now()
    values: dict[str, object] = {
        "etag": fetched.etag[:300],
        "last_modified": fetched.last_modified[:100],
        "last_fetched_at": now,
        "last_success_at": now,
        "next_fetch_at": now + FEED_INTERVAL,
        "consecutive_failures": 0,
        "last_error": "",
    }
    # Only while the run's lease holds: a "Try again" or an edit meanwhile wins.
    FeedSubscription.objects.filter(pk=subscription.pk).update(**values)
    if not subscription.title and fetched.title:
        FeedSubscription.objects.filter(pk=subscription.pk, title="").update(title=fetched.title)


def _record_failure(subscription: FeedSubscription, message: str, *, pause: bool = False) -> None:
    now = timezone.now()
    with transaction.atomic():
        current = FeedSubscription.objects.select_for_update().get(pk=subscription.pk)
        failures = current.consecutive_failures + 1
        if pause:
            failures = max(failures, FEED_MAX_FAILURES)
        current.consecutive_failures = failures
        current.last_error = message[:300]
        current.last_fetched_at = now
        current.next_fetch_at = now + retry_delay(failures)
        if failures >= FEED_MAX_FAILURES:
            current.active = False
        current.save(
            update_fields=[
                "consecutive_failures",
                "last_error",
                "last_fetched_at",
                "next_fetch_at",
                "active",
            ]
        )
    logger.info("Feed %s failed (%s in a row): %s", subscription.pk, failures, message)


def _entry_language(subscription: FeedSubscription, entry: feed_fetch.FeedEntry) -> str:
    if subscription.language:
        return subscription.language
    return (
        entry.language
        or feed_fetch.language_guess(f"{entry.title} {entry.summary}")
        or subscription.organization.default_language
    )


def _import_entries(subscription: FeedSubscription, entries: list[feed_fetch.FeedEntry]) -> int:
    """Create content for the entries not seen before; returns how many were created."""
    from content import services

    candidates: list[tuple[str, feed_fetch.FeedEntry]] = []
    seen_now: set[str] = set()
    for entry in entries:
        url = feed_fetch.canonical_url(entry.link)
        if url and url not in seen_now and len(url) <= 1000:
            seen_now.add(url)
            candidates.append((url, entry))
    if not candidates:
        return 0
    known = set(
        FeedItem.objects.filter(
            organization_id=subscription.organization_id, canonical_url__in=seen_now
        ).values_list("canonical_url", flat=True)
    )
    known_guids = set(
        FeedItem.objects.filter(
            subscription=subscription, guid__in=[entry.guid for _url, entry in candidates]
        ).values_list("guid", flat=True)
    )
    fresh = [
        (url, entry)
        for url, entry in candidates
        if url not in known and entry.guid not in known_guids
    ]
    author = subscription.created_by
    topics = list(subscription.topics.all())
    created = 0
    for index, (url, entry) in enumerate(fresh):
        try:
            with transaction.atomic():
                item = FeedItem.objects.create(
                    organization_id=subscription.organization_id,
                    subscription=subscription,
                    guid=entry.guid,
                    canonical_url=url,
                )
                if index >= FEED_MAX_NEW_ITEMS:
                    continue  # remembered as seen, not imported (see FEED_MAX_NEW_ITEMS)
                if author is None or not author.is_active:
                    raise PermissionDeniedError(_("Only editors can change the library."))
                title = (entry.title or url)[:200]
                content = services.content_create(
                    actor=author,
                    data=services.ContentInput(
                        kind=ContentKind.LINK,
                        title=title,
                        link_url=url,
                        topics=topics,
                        language=_entry_language(subscription, entry),
                        # A first caption to start from; reviewers see it before anyone shares.
                        captions={Network.LINKEDIN: [title]},
                    ),
                )
                item.content = content
                item.save(update_fields=["content"])
                created += 1
        except IntegrityError:
            continue  # another feed of the organisation brought the same article just now
        except DomainError as error:
            if isinstance(error, PermissionDeniedError):
                raise
            logger.info("Feed %s item %s not imported: %s", subscription.pk, url, error.message)
            continue
        if subscription.mode == FeedMode.REVIEW:
            try:
                services.content_submit(actor=author, content=content)  # type: ignore[arg-type]
            except DomainError as error:
                # Kept as a draft: the editors see why in the library when they submit.
                logger.info("Feed item %s stays a draft: %s", content.pk, error.message)
    if created:
        FeedSubscription.objects.filter(pk=subscription.pk).update(last_error="")
    return created
