"""What goes in a person's digest, built for a whole batch of people at once: the new
posts aimed at each of them (the feed's audience rule, walked in Python over the
organisation's teams), the running challenges with their progress, their points and rank
movement. What the organisation shares (its recent posts, challenges, scores) is read once
per organisation; what is personal (teams, shares, last digest, challenge values) once per
batch: the number of queries does not grow with the number of people."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.db.models import OuterRef, Prefetch, Q, QuerySet, Subquery
from django.http import Http404
from django.urls import reverse
from django.utils import timezone, translation

from advocacy.models import Share, ShareStatus, SharingPause
from challenges import campaign_metrics
from challenges.feed_card import (
    SHARE_METRICS,
    challenge_text,
    counts_for,
    points_text,
    share_points,
)
from challenges.models import Challenge, ChallengeStatus
from challenges.services.leaderboards import PERIOD_ALL, period_scores
from content.models import Content, ContentStatus, ImageRendition, Topic
from digests.models import (
    DEFAULT_FREQUENCY,
    DEFAULT_HOUR,
    DEFAULT_WEEKDAY,
    DeliveryStatus,
    DigestDelivery,
    DigestPreference,
    DigestRun,
    DigestSettings,
    Frequency,
    Weekday,
)
from digests.schedule import PERIOD_LENGTH
from digests.tokens import share_token_make
from organizations.media import media_signed_url
from organizations.models import Organization, Team, User

# Posts listed in one email; the rest is a "and N more" link to the feed.
MAX_ITEMS = 8
# The oldest post a digest may show: twice the longest period (a late weekly digest).
LOOKBACK = 2 * PERIOD_LENGTH[Frequency.WEEKLY]
# Shares that count as "already shared" (the post is left out of the next digest).
NOT_SHARED = (ShareStatus.FAILED, ShareStatus.CANCELLED, ShareStatus.DISMISSED)
DONE = (DeliveryStatus.SENT, DeliveryStatus.SKIPPED)


def site_url(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


# --- settings and preferences -------------------------------------------------------------


def digest_settings_of(organization_id: int) -> DigestSettings:
    """The organisation's row, or an unsaved one with the defaults."""
    found = DigestSettings.objects.filter(organization_id=organization_id).first()
    return found or DigestSettings(
        organization_id=organization_id,
        default_frequency=DEFAULT_FREQUENCY,
        weekday=DEFAULT_WEEKDAY,
        hour=DEFAULT_HOUR,
    )


@dataclass(frozen=True)
class PreferenceView:
    frequency: str  # the effective one
    chosen: str  # "" when the person follows the organisation's default
    default_frequency: str
    weekday: int
    hour: int

    @property
    def weekday_label(self) -> str:
        return str(Weekday(self.weekday).label)

    @property
    def default_label(self) -> str:
        return str(Frequency(self.default_frequency).label).lower()


def digest_preference_for(user: User) -> PreferenceView:
    if user.organization_id is None:
        raise Http404
    org_settings = digest_settings_of(user.organization_id)
    chosen = (
        DigestPreference.objects.filter(user_id=user.pk).values_list("frequency", flat=True).first()
        or ""
    )
    return PreferenceView(
        frequency=chosen or org_settings.default_frequency,
        chosen=chosen,
        default_frequency=org_settings.default_frequency,
        weekday=org_settings.weekday,
        hour=org_settings.hour,
    )


def digest_runs_recent(organization_id: int, *, limit: int = 10) -> list[DigestRun]:
    return list(
        DigestRun.objects.filter(organization_id=organization_id).order_by("-started_at", "-pk")[
            :limit
        ]
    )


def digest_people_choices(user: User) -> QuerySet[User]:
    """The people of the admin's organisation whose digest can be previewed."""
    return User.objects.filter(organization_id=user.organization_id, is_active=True).order_by(
        "first_name", "last_name", "email"
    )


# --- the digest itself ----------------------------------------------------------------------


@dataclass
class DigestItem:
    content_id: int
    title: str
    why_it_matters: str
    image_url: str
    language: str
    published_at: datetime
    points_text: str
    challenge_text: str
    content_url: str
    share_url: str


@dataclass
class DigestChallenge:
    challenge_id: int
    title: str
    value: int
    goal: int | None
    percent: int
    ends_at: datetime
    url: str


@dataclass
class Digest:
    user: User
    frequency: str
    since: datetime
    until: datetime
    items: list[DigestItem] = field(default_factory=list)
    more: int = 0
    challenges: list[DigestChallenge] = field(default_factory=list)
    points: int = 0
    points_gained: int | None = None
    rank: int | None = None
    rank_change: int | None = None  # > 0: moved up that many places
    ranked_people: int = 0

    @property
    def would_send(self) -> bool:
        """Nothing new, no email."""
        return bool(self.items)

    @property
    def rank_up(self) -> int:
        return max(0, self.rank_change or 0)

    @property
    def rank_down(self) -> int:
        return max(0, -(self.rank_change or 0))

    @property
    def content_ids(self) -> list[int]:
        return [item.content_id for item in self.items]


@dataclass
class _Organisation:
    organization: Organization
    settings: DigestSettings
    parents: dict[int, int | None]
    paid: list[int]
    contents: list[Content]
    challenges: list[Challenge]
    scopes: dict[int, set[int] | None]
    scores: dict[int, int]
    unlisted: set[int]
    listed_desc: list[int]  # listed people's points, negated and sorted (for bisect)
    listed_count: int


def _image_url(content: Content) -> str:
    if content.image:
        for rendition in content.renditions.all():
            if rendition.name == "thumb":
                return site_url(media_signed_url(rendition.file.name))
    if content.preview_image:
        return site_url(media_signed_url(content.preview_image.name))
    return content.preview_image_url


def _reach(team_ids: Iterable[int], parents: dict[int, int | None]) -> set[int]:
    """The person's teams and every team above them."""
    reach: set[int] = set()
    for team_id in team_ids:
        current: int | None = team_id
        while current is not None and current not in reach:
            reach.add(current)
            current = parents.get(current)
    return reach


def _aimed_at(audience: set[int], reach: set[int]) -> bool:
    return not audience or bool(audience & reach)


class DigestBuilder:
    """Builds digests batch after batch; what belongs to a whole organisation is read on
    its first batch and kept for the next ones (one job run, one clock)."""

    def __init__(self, *, now: datetime | None = None) -> None:
        self.now = now or timezone.now()
        self._organisations: dict[int, _Organisation] = {}

    def _organisation(self, organization: Organization) -> _Organisation:
        found = self._organisations.get(organization.pk)
        if found is not None:
            return found
        now = self.now
        parents: dict[int, int | None] = dict(
            Team.objects.filter(organization_id=organization.pk).values_list("pk", "parent_id")
        )
        # During the crisis pause nothing is offered to share: no digest goes out.
        paused = SharingPause.objects.filter(
            organization_id=organization.pk, paused_at__isnull=False
        ).exists()
        contents = (
            []
            if paused
            else list(
                Content.objects.filter(
                    organization_id=organization.pk,
                    status=ContentStatus.APPROVED,
                    publish_at__lte=now,
                    publish_at__gt=now - LOOKBACK,
                )
                .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
                .prefetch_related(
                    Prefetch("audience_teams", queryset=Team.objects.only("id")),
                    Prefetch("topics", queryset=Topic.objects.only("id")),
                    Prefetch("renditions", queryset=ImageRendition.objects.filter(name="thumb")),
                )
                .order_by("-pinned", "-publish_at", "-pk")
            )
        )
        challenges = list(
            Challenge.objects.filter(
                organization_id=organization.pk,
                status=ChallengeStatus.ACTIVE,
                starts_at__lte=now,
                ends_at__gt=now,
            )
            .prefetch_related(
                Prefetch("audience_teams", queryset=Team.objects.only("id")),
                Prefetch("contents", queryset=Content.objects.only("id")),
                Prefetch("topics", queryset=Topic.objects.only("id")),
            )
            .order_by("ends_at", "pk")
        )
        scopes = campaign_metrics.scope_content_ids(challenges) if challenges else {}
        listed, unlisted, _source = period_scores(
            organization_id=organization.pk,
            period=PERIOD_ALL,
            time_zone=organization.time_zone,
            now=now,
        )
        # share_points reads only the organisation of the user it is given.
        paid = share_points(User(organization_id=organization.pk))
        found = _Organisation(
            organization=organization,
            settings=digest_settings_of(organization.pk),
            parents=parents,
            paid=paid,
            contents=contents,
            challenges=challenges,
            scopes=scopes,
            scores={**listed, **unlisted},
            unlisted=set(unlisted),
            listed_desc=sorted(-points for points in listed.values()),
            listed_count=len(listed),
        )
        self._organisations[organization.pk] = found
        return found

    def build(self, users: Sequence[User]) -> dict[int, Digest]:
        """Each person's digest by their id. `users` come with their organisation
        (select_related): people of several organisations may be mixed."""
        digests: dict[int, Digest] = {}
        by_organisation: dict[int, list[User]] = {}
        for user in users:
            if user.organization_id is not None:
                by_organisation.setdefault(user.organization_id, []).append(user)
        for people in by_organisation.values():
            organisation = self._organisation(people[0].organization)  # type: ignore[arg-type]
            digests.update(self._build_batch(organisation, people))
        return digests

    def _build_batch(self, organisation: _Organisation, people: list[User]) -> dict[int, Digest]:
        now = self.now
        ids = [user.pk for user in people]
        teams_of: dict[int, list[int]] = {}
        for user_id, team_id in User.teams.through.objects.filter(user_id__in=ids).values_list(
            "user_id", "team_id"
        ):
            teams_of.setdefault(user_id, []).append(team_id)
        chosen = dict(
            DigestPreference.objects.filter(user_id__in=ids).values_list("user_id", "frequency")
        )
        latest = DigestDelivery.objects.filter(
            user_id=OuterRef("user_id"), status__in=DONE
        ).order_by("-covered_until", "-pk")
        last = {
            row.user_id: row
            for row in DigestDelivery.objects.filter(user_id__in=ids, status__in=DONE)
            .filter(pk=Subquery(latest.values("pk")[:1]))
            .only("id", "user_id", "covered_until", "points", "rank")
        }
        content_ids = [content.pk for content in organisation.contents]
        shared: dict[int, set[int]] = {}
        if content_ids:
            rows = (
                Share.objects.filter(user_id__in=ids, content_id__in=content_ids)
                .exclude(status__in=NOT_SHARED)
                .values_list("user_id", "content_id")
                .distinct()
            )
            for user_id, content_id in rows:
                shared.setdefault(user_id, set()).add(content_id)
        values = {
            challenge.pk: campaign_metrics.values_by_user(
                challenge, organisation.scopes.get(challenge.pk), user_ids=ids
            )
            for challenge in organisation.challenges
        }
        digests = {}
        for user in people:
            with translation.override(user.language or None):
                digests[user.pk] = self._digest(
                    organisation,
                    user,
                    frequency=chosen.get(user.pk) or organisation.settings.default_frequency,
                    reach=_reach(teams_of.get(user.pk, []), organisation.parents),
                    last=last.get(user.pk),
                    shared=shared.get(user.pk, set()),
                    values=values,
                    now=now,
                )
        return digests

    def _digest(
        self,
        organisation: _Organisation,
        user: User,
        *,
        frequency: str,
        reach: set[int],
        last: DigestDelivery | None,
        shared: set[int],
        values: dict[int, dict[int, int]],
        now: datetime,
    ) -> Digest:
        length = PERIOD_LENGTH.get(frequency) or PERIOD_LENGTH.get(
            organisation.settings.default_frequency, PERIOD_LENGTH[Frequency.WEEKLY]
        )
        since = now - length
        if last is not None and last.covered_until is not None:
            since = max(last.covered_until, now - 2 * length)
        fresh = [
            content
            for content in organisation.contents
            if content.publish_at > since
            and content.pk not in shared
            and content.author_id != user.pk
            and _aimed_at({team.pk for team in content.audience_teams.all()}, reach)
        ]
        # The feed's order: pinned first, then the person's language, newest first.
        fresh.sort(
            key=lambda c: (
                not c.pinned,
                c.language != user.language,
                -c.publish_at.timestamp(),
                -c.pk,
            )
        )
        visible_challenges = [
            challenge
            for challenge in organisation.challenges
            if _aimed_at({team.pk for team in challenge.audience_teams.all()}, reach)
        ]
        share_challenges = [c for c in visible_challenges if c.metric in SHARE_METRICS]
        earns = points_text(organisation.paid) if max(organisation.paid) > 0 else ""
        items = []
        for content in fresh[:MAX_ITEMS]:
            counting = [c for c in share_challenges if counts_for(c, content)]
            items.append(
                DigestItem(
                    content_id=content.pk,
                    title=content.title,
                    why_it_matters=content.why_it_matters,
                    image_url=_image_url(content),
                    language=content.language,
                    published_at=content.publish_at,
                    points_text=str(earns),
                    challenge_text=str(challenge_text(counting[0], len(counting) - 1))
                    if counting
                    else "",
                    content_url=site_url(reverse("content_detail", args=[content.pk])),
                    share_url=site_url(
                        reverse(
                            "digest_share",
                            args=[share_token_make(user_id=user.pk, content_id=content.pk)],
                        )
                    ),
                )
            )
        challenges = []
        for challenge in visible_challenges:
            value = values.get(challenge.pk, {}).get(user.pk, 0)
            goal = challenge.goal or None
            challenges.append(
                DigestChallenge(
                    challenge_id=challenge.pk,
                    title=challenge.title,
                    value=value,
                    goal=goal,
                    percent=min(100, value * 100 // goal) if goal else 0,
                    ends_at=challenge.ends_at,
                    url=site_url(reverse("challenge_detail", args=[challenge.pk])),
                )
            )
        points = organisation.scores.get(user.pk, 0)
        rank = None
        ranked_people = organisation.listed_count
        if points > 0:
            # Competition rank, as the leaderboard gives it: one more than the people
            # listed with strictly more points (a hidden person ranked as if listed).
            rank = bisect_left(organisation.listed_desc, -points) + 1
            if user.pk in organisation.unlisted:
                ranked_people += 1
        digest = Digest(
            user=user,
            frequency=frequency,
            since=since,
            until=now,
            items=items,
            more=max(0, len(fresh) - MAX_ITEMS),
            challenges=challenges,
            points=points,
            rank=rank,
            ranked_people=ranked_people,
        )
        if last is not None and last.points is not None:
            digest.points_gained = points - last.points
        if last is not None and last.rank is not None and rank is not None:
            digest.rank_change = last.rank - rank
        return digest


def digest_for(user: User, *, now: datetime | None = None) -> Digest:
    """One person's digest as it would be sent now (the preview)."""
    if user.organization_id is None:
        raise Http404
    person = User.objects.select_related("organization").get(pk=user.pk)
    return DigestBuilder(now=now).build([person])[person.pk]


def digest_person_for(admin: User, pk: int) -> User:
    """A person of the admin's organisation (the preview's choice); others are a 404."""
    person = (
        User.objects.select_related("organization")
        .filter(pk=pk, organization_id=admin.organization_id, is_active=True)
        .first()
    )
    if person is None:
        raise Http404
    return person
