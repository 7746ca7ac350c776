"""Reads of the content library, shared by the HTML views and the API; always scoped to
the caller's organisation, with bounded queries (prefetches instead of a query per row)."""

from __future__ import annotations

import difflib
import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db import connection
from django.db.models import (
    BooleanField,
    Case,
    Count,
    Exists,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Value,
    When,
    prefetch_related_objects,
)
from django.db.models.expressions import RawSQL
from django.http import Http404
from django.utils import timezone

from content.models import (
    Caption,
    CharterAcceptance,
    ComplianceRule,
    Content,
    ContentStatus,
    ContentVersion,
    FeedVisit,
    Guideline,
    GuidelineKind,
    ImageRendition,
    Review,
    ReviewDecision,
    Suggestion,
    SuggestionStatus,
    Topic,
)
from organizations.models import Role, Team, User

LIBRARY_ROLES = (Role.EDITOR, Role.REVIEWER, Role.ORG_ADMIN)


def _with_relations(contents: QuerySet[Content]) -> QuerySet[Content]:
    return contents.select_related("author").prefetch_related(
        "topics",
        Prefetch("captions", queryset=Caption.objects.order_by("network", "position", "id")),
        Prefetch("audience_teams", queryset=Team.objects.only("id", "name")),
        Prefetch("renditions", queryset=ImageRendition.objects.all()),
    )


# --- Library (comms team) ---------------------------------------------------------------


def library_list(
    user: User,
    *,
    status: str = "",
    topic: str = "",
    language: str = "",
    author: int | None = None,
    q: str = "",
    kind: str = "",
) -> QuerySet[Content]:
    if user.role not in LIBRARY_ROLES:
        return Content.objects.none()
    contents = Content.objects.filter(organization_id=user.organization_id)
    now = timezone.now()
    if status == "scheduled":
        contents = contents.filter(status=ContentStatus.APPROVED, publish_at__gt=now)
    elif status == "published":
        contents = contents.filter(status=ContentStatus.APPROVED, publish_at__lte=now).filter(
            Q(expires_at__isnull=True) | Q(expires_at__gt=now)
        )
    elif status == "expired":
        contents = contents.filter(status=ContentStatus.APPROVED, expires_at__lte=now)
    elif status:
        contents = contents.filter(status=status)
    if topic:
        contents = contents.filter(topics__slug=topic)
    if language:
        contents = contents.filter(language=language)
    if author:
        contents = contents.filter(author_id=author)
    if kind:
        contents = contents.filter(kind=kind)
    if q:
        contents = contents.filter(Q(title__icontains=q) | Q(why_it_matters__icontains=q))
    return _with_relations(contents.distinct()).order_by("-updated_at", "-id")


def library_authors(user: User) -> QuerySet[User]:
    """The people who write content in the user's organisation, for the library filter."""
    if user.role not in LIBRARY_ROLES:
        return User.objects.none()
    return User.objects.filter(
        organization_id=user.organization_id, role__in=[Role.EDITOR, Role.ORG_ADMIN]
    ).order_by("first_name", "last_name", "email")


def _visible_contents(user: User) -> QuerySet[Content]:
    """The one rule of who sees a content item. Another organisation's content does not
    exist; the comms team sees every state; others only what their feed shows."""
    if user.role in LIBRARY_ROLES:
        return Content.objects.filter(organization_id=user.organization_id)
    return _feed_base(user)


def content_for_user(user: User, pk: int, *, write: bool = False) -> Content:
    """The one access check for a content item; editors may write."""
    contents = _with_relations(_visible_contents(user))
    try:
        content = contents.get(pk=pk)
    except Content.DoesNotExist:
        raise Http404 from None
    if write and not user.can_edit_content:
        raise Http404
    return content


def review_queue(user: User, *, mine: bool = False) -> QuerySet[Content]:
    """Content in review with the step each one is at: `my_step` when the user may act on
    that step, `approvals` given at it on the current version. `mine`: only what waits at
    one of the user's steps and is not theirs to write nor already decided by them."""
    from content.chains import my_step_condition

    if not user.can_review:
        return Content.objects.none()
    already = Review.objects.filter(
        content=OuterRef("pk"), version=OuterRef("version"), reviewer=user
    )
    contents = Content.objects.filter(
        organization_id=user.organization_id, status=ContentStatus.IN_REVIEW
    )
    condition = my_step_condition(user)
    if mine:
        own = ContentVersion.objects.filter(
            content=OuterRef("pk"), number=OuterRef("version"), author=user
        )
        contents = contents.filter(condition).exclude(author=user).exclude(Exists(own))
        contents = contents.exclude(Exists(already))
    return (
        _with_relations(contents)
        .select_related("approval_step", "approval_chain")
        .annotate(
            reviewed_by_me=Exists(already),
            my_step=ExpressionWrapper(condition, output_field=BooleanField()),
            approvals=Count(
                "reviews",
                filter=Q(
                    reviews__version=F("version"),
                    reviews__decision=ReviewDecision.APPROVE,
                    reviews__step=F("approval_step"),
                ),
            ),
        )
        .order_by("publish_at", "id")
    )


CALENDAR_STATUSES = (ContentStatus.APPROVED, ContentStatus.IN_REVIEW)


def calendar_range(user: User, *, start: date, end: date) -> dict[date, list[Content]]:
    """Approved and in-review content by publication day from `start` to `end` (both
    included), days counted in the organisation's time zone, for the editors' calendar."""
    organization = user.organization
    if user.role not in LIBRARY_ROLES or organization is None:
        return {}
    zone = ZoneInfo(organization.time_zone)
    since = datetime.combine(start, time.min, tzinfo=zone)
    until = datetime.combine(end + timedelta(days=1), time.min, tzinfo=zone)
    days: dict[date, list[Content]] = {}
    for content in (
        Content.objects.filter(
            organization=organization,
            publish_at__gte=since,
            publish_at__lt=until,
            status__in=CALENDAR_STATUSES,
        )
        .only("id", "title", "status", "publish_at", "expires_at", "language")
        .order_by("publish_at", "id")
    ):
        days.setdefault(content.publish_at.astimezone(zone).date(), []).append(content)
    return days


@dataclass(frozen=True)
class FieldChange:
    field: str
    before: str
    after: str
    diff: list[tuple[str, str]]  # (tag, text): tag is "equal", "insert" or "delete"


def _as_text(value: object) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True, indent=1)


def version_diff(content: Content, number: int) -> list[FieldChange]:
    """What changed from version `number - 1` to `number`, field by field, word by word."""
    versions = {
        v.number: v.snapshot
        for v in ContentVersion.objects.filter(content=content, number__in=[number - 1, number])
    }
    if number not in versions:
        raise Http404
    before, after = versions.get(number - 1, {}), versions[number]
    changes = []
    for key in after:
        old, new = _as_text(before.get(key, "")), _as_text(after.get(key, ""))
        if old == new:
            continue
        old_words, new_words = old.split(" "), new.split(" ")
        pieces: list[tuple[str, str]] = []
        matcher = difflib.SequenceMatcher(a=old_words, b=new_words, autojunk=False)
        for tag, i1, i2, j1, j2 in matcher.get_opcodes():
            if tag == "equal":
                pieces.append(("equal", " ".join(old_words[i1:i2])))
                continue
            if i2 > i1:
                pieces.append(("delete", " ".join(old_words[i1:i2])))
            if j2 > j1:
                pieces.append(("insert", " ".join(new_words[j1:j2])))
        changes.append(FieldChange(key, old, new, pieces))
    return changes


# --- Feed (employees) -------------------------------------------------------------------


def content_visible(user: User, pk: int) -> bool:
    """content_for_user's answer as a yes or no, for the item's image files."""
    return _visible_contents(user).filter(pk=pk).exists()


def feed_queryset(user: User) -> QuerySet[Content]:
    return _with_relations(_feed_base(user))


def user_team_ancestors_subquery(user: User) -> RawSQL:
    """The user's teams and every team above them (as organizations.selectors'
    user_team_ancestor_ids), as a subquery: the feed's one query walks the tree itself
    instead of reading every team of the organisation into Python first."""
    team = Team._meta.db_table
    membership = User.teams.through._meta.db_table
    return RawSQL(  # noqa: S611 - only table names are formatted in; values are parameters
        f"WITH RECURSIVE up (id, parent_id) AS ("  # noqa: S608 - table names, no input
        f" SELECT t.id, t.parent_id FROM {team} t JOIN {membership} m ON m.team_id = t.id"
        f" WHERE m.user_id = %s AND t.organization_id = %s"
        f" UNION SELECT t.id, t.parent_id FROM {team} t JOIN up ON t.id = up.parent_id"
        f" WHERE t.organization_id = %s"
        f") SELECT id FROM up",
        (user.pk, user.organization_id, user.organization_id),
    )


def _feed_base(user: User) -> QuerySet[Content]:
    now = timezone.now()
    contents = Content.objects.filter(
        organization_id=user.organization_id,
        status=ContentStatus.APPROVED,
        publish_at__lte=now,
    ).filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
    targeted = Content.audience_teams.through.objects.filter(content_id=OuterRef("pk"))
    reaches_me = targeted.filter(team_id__in=user_team_ancestors_subquery(user))
    return contents.filter(~Exists(targeted) | Exists(reaches_me))


def _search(contents: QuerySet[Content], q: str) -> QuerySet[Content]:
    if connection.vendor == "postgresql":
        from django.contrib.postgres.search import SearchQuery, SearchVector

        vector = (
            SearchVector("title", weight="A", config="simple")
            + SearchVector("why_it_matters", weight="B", config="simple")
            + SearchVector("preview_title", weight="C", config="simple")
        )
        query = SearchQuery(q, search_type="websearch", config="simple")
        matching = Content.objects.annotate(search=vector).filter(search=query).values("pk")
        caption_match = Caption.objects.filter(content_id=OuterRef("pk"), text__icontains=q)
        return contents.filter(Q(pk__in=matching) | Exists(caption_match))
    return contents.filter(
        Q(title__icontains=q) | Q(why_it_matters__icontains=q) | Q(captions__text__icontains=q)
    ).distinct()


def feed_list(
    user: User, *, topic: str = "", q: str = "", new_only: bool = False
) -> QuerySet[Content]:
    """The feed in its order, with every relation of a content item prefetched."""
    return _with_relations(_feed_filtered(_feed_base(user), user, topic, q, new_only))


def feed_items(
    user: User, *, topic: str = "", q: str = "", new_only: bool = False
) -> QuerySet[Content]:
    """The feed in its order, with what a card and an API item show (topics, captions),
    for the feed page and the feed API: not the author or the audience teams, which
    neither shows; the renditions of a page's images come from feed_page_complete once
    the page is read."""
    contents = _feed_base(user).prefetch_related(
        "topics",
        Prefetch("captions", queryset=Caption.objects.order_by("network", "position", "id")),
    )
    return _feed_filtered(contents, user, topic, q, new_only)


# What an item of the feed API shows, read as plain rows (content/api.py feed_items_shape).
FEED_ROW_FIELDS = (
    "id",
    "kind",
    "title",
    "why_it_matters",
    "link_url",
    "preview_status",
    "preview_title",
    "preview_description",
    "preview_image_url",
    "preview_site_name",
    "preview_error",
    "image",
    "hashtags",
    "language",
    "publish_at",
    "expires_at",
    "pinned",
    "evergreen",
    "caption_locked",
    "status",
)


def feed_rows(
    user: User, *, topic: str = "", q: str = "", new_only: bool = False
) -> QuerySet[Content, dict[str, Any]]:
    """The feed in its order as plain rows (FEED_ROW_FIELDS): the API reads a page of them,
    then its topics, captions and renditions with feed_rows_related, without building a
    model instance per item and field."""
    return _feed_filtered(_feed_base(user), user, topic, q, new_only).values(*FEED_ROW_FIELDS)


@dataclass(frozen=True)
class FeedRowsRelated:
    topics: dict[int, list[dict[str, Any]]]
    captions: dict[int, list[tuple[int, str, str]]]
    renditions: dict[int, list[tuple[str, str]]]


def feed_rows_related(rows: list[dict[str, Any]]) -> FeedRowsRelated:
    """Topics, captions (in the order caption_for rotates through) and image renditions of a
    page of feed rows: three queries at most, two when no item has an image."""
    ids = [row["id"] for row in rows]
    topics: dict[int, list[dict[str, Any]]] = defaultdict(list)
    captions: dict[int, list[tuple[int, str, str]]] = defaultdict(list)
    renditions: dict[int, list[tuple[str, str]]] = defaultdict(list)
    if not ids:
        return FeedRowsRelated(topics, captions, renditions)
    links = (
        Content.topics.through.objects.filter(content_id__in=ids)
        .order_by("topic__name", "topic_id")
        .values_list("content_id", "topic_id", "topic__name", "topic__slug")
    )
    for content_id, topic_id, name, slug in links:
        topics[content_id].append({"id": topic_id, "name": name, "slug": slug})
    for caption_id, content_id, network, text in (
        Caption.objects.filter(content_id__in=ids)
        .order_by("network", "position", "id")
        .values_list("id", "content_id", "network", "text")
    ):
        captions[content_id].append((caption_id, network, text))
    with_image = [row["id"] for row in rows if row["image"]]
    if with_image:
        for content_id, name, file_name in (
            ImageRendition.objects.filter(content_id__in=with_image)
            .order_by("id")
            .values_list("content_id", "name", "file")
        ):
            renditions[content_id].append((name, file_name))
    return FeedRowsRelated(topics, captions, renditions)


def _feed_filtered(
    contents: QuerySet[Content], user: User, topic: str, q: str, new_only: bool
) -> QuerySet[Content]:
    if topic:
        contents = contents.filter(topics__slug=topic)
    if q:
        contents = _search(contents, q)
    if new_only:
        since = feed_previous_visit(user)
        if since is not None:
            contents = contents.filter(publish_at__gt=since)
    return contents.annotate(
        language_rank=Case(
            When(language=user.language, then=Value(0)),
            default=Value(1),
            output_field=IntegerField(),
        )
    ).order_by("-pinned", "language_rank", "-publish_at", "-id")


def feed_page_complete(contents: list[Content]) -> list[Content]:
    """The renditions of a page's images, in one query, and none when the page has no
    image (only image posts have renditions; the card and the API ask only those)."""
    images = [content for content in contents if content.image]
    for content in contents:
        if not content.image:
            # Nothing to fetch: an empty cache keeps content.renditions.all() query-free.
            content._prefetched_objects_cache = getattr(
                content, "_prefetched_objects_cache", {}
            ) | {"renditions": ImageRendition.objects.none()}
    if images:
        prefetch_related_objects(images, "renditions")
    return contents


def feed_previous_visit(user: User) -> datetime | None:
    visit = FeedVisit.objects.filter(user=user).first()
    return visit.previous_visit_at if visit else None


def caption_for(content: Content, network: str, user: User) -> Caption | None:
    """The caption offered to this user: colleagues get different ones in rotation, and the
    same user always sees the same one (from the prefetched captions: no query)."""
    options = [c for c in content.captions.all() if c.network == network]
    if not options:
        return None
    return options[(user.pk + content.pk) % len(options)]


def topics_of(user: User) -> QuerySet[Topic]:
    return Topic.objects.filter(organization_id=user.organization_id)


# --- Suggestions, guidelines, rules -----------------------------------------------------


def suggestions_for(user: User, *, mine: bool = False, status: str = "") -> QuerySet[Suggestion]:
    suggestions = Suggestion.objects.filter(organization_id=user.organization_id).select_related(
        "author", "decided_by", "content"
    )
    if mine or not user.can_edit_content:
        suggestions = suggestions.filter(author=user)
    if status:
        suggestions = suggestions.filter(status=status)
    return suggestions


def suggestion_for_user(user: User, pk: int) -> Suggestion:
    try:
        return suggestions_for(user).get(pk=pk)
    except Suggestion.DoesNotExist:
        raise Http404 from None


def pending_suggestion_count(user: User) -> int:
    if not user.can_edit_content:
        return 0
    return suggestions_for(user, status=SuggestionStatus.PENDING).count()


def guidelines_of(user: User) -> QuerySet[Guideline]:
    return Guideline.objects.filter(organization_id=user.organization_id)


def guideline_for_user(user: User, kind: str) -> Guideline:
    if kind not in GuidelineKind.values:
        raise Http404
    guideline = guidelines_of(user).filter(kind=kind).first()
    if guideline is None:
        raise Http404
    return guideline


def charter_pending(user: User) -> Guideline | None:
    """The charter version this user still has to accept, or None when up to date (or
    when the organisation has no charter)."""
    charter = guidelines_of(user).filter(kind=GuidelineKind.CHARTER).first()
    if charter is None:
        return None
    accepted = CharterAcceptance.objects.filter(
        user=user, guideline=charter, version=charter.version
    ).exists()
    return None if accepted else charter


def rules_of(user: User) -> QuerySet[ComplianceRule]:
    return ComplianceRule.objects.filter(organization_id=user.organization_id)
