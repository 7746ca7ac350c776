"""The lobby screen and the intranet widget: what they show (the running challenges with
their leaders, the leaderboard of the week, the latest posts) and the admin's writes (the
screen's secret URL, its rotation, the origins allowed to embed the widget).

Seen by anyone standing in the lobby, the screen shows only what the whole organisation
may see: challenges and posts without an audience restriction, and people by first name
and initial, never someone hidden from the rankings."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from urllib.parse import urlsplit

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.http import HttpRequest
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django.utils.translation import gettext as _

from challenges import campaign_metrics as metrics
from challenges.models import Challenge, ChallengeMode, ChallengeStatus, DisplayScreen, Score
from challenges.services.leaderboards import PERIOD_WEEK, people_board
from content.models import Content, ContentStatus
from organizations.audit import audit_record
from organizations.errors import DomainError
from organizations.media import media_signed_url
from organizations.models import Organization, Team, User

CHALLENGES_SHOWN = 3
CHALLENGE_TOP = 3
LEADERS_SHOWN = 8
POSTS_SHOWN = 4
WIDGET_LEADERS = 5
WIDGET_POSTS = 3
ORIGINS_MAX = 20
# Browsers treat loopback as a secure context: an intranet under development may embed.
_LOOPBACK = {"localhost", "127.0.0.1", "[::1]"}


# --- the secret --------------------------------------------------------------------------


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def display_screen_for_secret(secret: str) -> DisplayScreen | None:
    """The screen whose URL holds `secret`, or None. The lookup is by the hash, which an
    attacker cannot steer towards a stored value byte by byte; the final comparison is in
    constant time all the same."""
    digest = secret_hash(secret)
    screen = DisplayScreen.objects.select_related("organization").filter(secret_hash=digest).first()
    if screen is None or not constant_time_compare(screen.secret_hash, digest):
        return None
    return screen


def display_screen_of(organization_id: int) -> DisplayScreen | None:
    return DisplayScreen.objects.filter(organization_id=organization_id).first()


# --- writes (the org admin's) ------------------------------------------------------------


def display_screen_issue(*, actor: User, request: HttpRequest | None = None) -> str:
    """Create the organisation's screen, or give it a new secret: the previous URL stops
    working with this transaction. Returns the new secret, which is never stored."""
    assert actor.organization_id is not None
    secret = secrets.token_urlsafe(32)
    with transaction.atomic():
        screen = (
            DisplayScreen.objects.select_for_update()
            .filter(organization_id=actor.organization_id)
            .first()
        )
        if screen is None:
            screen = DisplayScreen.objects.create(
                organization_id=actor.organization_id,
                secret_hash=secret_hash(secret),
                created_by=actor,
            )
            action = "display.created"
        else:
            screen.secret_hash = secret_hash(secret)
            screen.rotated_at = timezone.now()
            screen.rotated_by = actor
            screen.save(update_fields=["secret_hash", "rotated_at", "rotated_by"])
            action = "display.rotated"
        audit_record(
            action=action,
            organization=actor.organization,
            actor=actor,
            target=screen,
            request=request,
        )
    return secret


def display_origin_normalise(raw: str) -> str:
    """An origin as browsers send it (scheme://host[:port], lower case, no path), or a
    DomainError saying what is wrong. HTTPS only, apart from loopback addresses."""
    text = raw.strip()
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise DomainError(_("“%(origin)s” is not an address.") % {"origin": text}) from exc
    host = (parts.hostname or "").lower()
    if not host or parts.username or parts.password or any(c in host for c in "*'\" ;,"):
        raise DomainError(_("“%(origin)s” is not an address.") % {"origin": text})
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise DomainError(
            _(
                "“%(origin)s” has a path: give the origin only, such as https://intranet.example.com."
            )
            % {"origin": text}
        )
    netloc_host = f"[{host}]" if ":" in host else host
    if parts.scheme.lower() != "https" and not (
        parts.scheme.lower() == "http" and netloc_host in _LOOPBACK
    ):
        raise DomainError(_("“%(origin)s” must start with https://.") % {"origin": text})
    scheme = parts.scheme.lower()
    default_port = 443 if scheme == "https" else 80
    suffix = f":{port}" if port is not None and port != default_port else ""
    return f"{scheme}://{netloc_host}{suffix}"


def display_origins_parse(text: str) -> list[str]:
    """One origin per line (or separated by spaces or commas), normalised, deduplicated."""
    origins: list[str] = []
    for item in text.replace(",", " ").split():
        origin = display_origin_normalise(item)
        if origin not in origins:
            origins.append(origin)
    if len(origins) > ORIGINS_MAX:
        raise DomainError(_("At most %(count)d origins.") % {"count": ORIGINS_MAX})
    return origins


def display_origins_set(
    *, actor: User, origins: list[str], request: HttpRequest | None = None
) -> DisplayScreen:
    assert actor.organization_id is not None
    cleaned = [display_origin_normalise(origin) for origin in origins]
    with transaction.atomic():
        screen = (
            DisplayScreen.objects.select_for_update()
            .filter(organization_id=actor.organization_id)
            .first()
        )
        if screen is None:
            raise DomainError(_("Create the screen first."))
        screen.intranet_origins = cleaned
        screen.save(update_fields=["intranet_origins"])
        audit_record(
            action="display.origins_changed",
            organization=actor.organization,
            actor=actor,
            target=screen,
            request=request,
            details={"origins": cleaned},
        )
    return screen


# --- reads (what the screen shows) --------------------------------------------------------


def public_name(person: User) -> str:
    """First name and the initial of the last name: enough for colleagues, little for a
    passer-by."""
    first = person.first_name.strip()
    initial = person.last_name.strip()[:1].upper()
    if first and initial:
        return f"{first} {initial}."
    return first or _("A colleague")


@dataclass
class Leader:
    rank: int
    key: int  # a person's id, or a team's in team mode
    value: Decimal
    percent: int = 0
    name: str = ""

    @property
    def whole(self) -> int:
        return int(self.value)


@dataclass
class ChallengeTile:
    challenge: Challenge
    leaders: list[Leader] = field(default_factory=list)
    participants: int = 0
    goal_reached: int = 0


@dataclass
class PostTile:
    content: Content
    image_url: str = ""


@dataclass
class DisplayData:
    organization: Organization
    challenges: list[ChallengeTile]
    leaders: list[Leader]
    posts: list[PostTile]
    updated_at: datetime


def _percent(value: Decimal, goal: int | None) -> int:
    if not goal or value <= 0:
        return 0
    return min(100, int(value * 100 / goal))


def _hidden_people(organization_id: int) -> set[int]:
    return set(
        Score.objects.filter(
            organization_id=organization_id, hidden_from_rankings=True
        ).values_list("user_id", flat=True)
    )


def _running_challenges(organization_id: int, limit: int) -> list[Challenge]:
    targeted = Challenge.audience_teams.through.objects.filter(challenge_id=OuterRef("pk"))
    return list(
        Challenge.objects.filter(organization_id=organization_id, status=ChallengeStatus.ACTIVE)
        .filter(~Exists(targeted))
        .prefetch_related("audience_teams", "contents", "topics")
        .order_by("ends_at", "pk")[:limit]
    )


def _challenge_tiles(
    organization_id: int, hidden: set[int], limit: int, now: datetime
) -> tuple[list[ChallengeTile], set[int]]:
    """The tiles, and the people whose names they need. A bounded number of queries per
    challenge, and at most `limit` challenges."""
    challenges = _running_challenges(organization_id, limit)
    scopes = metrics.scope_content_ids(challenges)
    tiles: list[ChallengeTile] = []
    wanted: set[int] = set()
    for challenge in challenges:
        participants = metrics.participants_of(challenge)
        values = {
            user_id: value
            for user_id, value in metrics.values_by_user(challenge, scopes[challenge.pk]).items()
            if user_id in participants.user_ids and value > 0
        }
        tile = ChallengeTile(challenge, participants=len(participants.user_ids))
        if challenge.goal:
            tile.goal_reached = sum(1 for value in values.values() if value >= challenge.goal)
        if challenge.mode == ChallengeMode.TEAM:
            teams = {
                team_id: value
                for team_id, (value, _members) in metrics.team_values(values, participants).items()
                if value > 0
            }
            for standing in metrics.standings(teams)[:CHALLENGE_TOP]:
                tile.leaders.append(
                    Leader(
                        standing.rank,
                        standing.key,
                        standing.value,
                        _percent(standing.value, challenge.goal),
                    )
                )
        else:
            public = {u: Decimal(v) for u, v in values.items() if u not in hidden}
            for standing in metrics.standings(public)[:CHALLENGE_TOP]:
                tile.leaders.append(
                    Leader(
                        standing.rank,
                        standing.key,
                        standing.value,
                        _percent(standing.value, challenge.goal),
                    )
                )
                wanted.add(standing.key)
        tiles.append(tile)
    return tiles, wanted


def _week_leaders(organization: Organization, hidden: set[int], count: int, now: datetime):
    board = people_board(
        organization_id=organization.pk,
        period=PERIOD_WEEK,
        time_zone=organization.time_zone,
        now=now,
    )
    # A few more rows than shown: someone who hid a moment ago is dropped here as well.
    rows, _above = board.slice(0, count + len(hidden))
    ranked = metrics.standings(
        {user_id: Decimal(points) for user_id, points in rows if user_id not in hidden}
    )
    return [Leader(s.rank, s.key, s.value) for s in ranked[:count]]


def _latest_posts(organization_id: int, count: int, now: datetime) -> list[PostTile]:
    targeted = Content.audience_teams.through.objects.filter(content_id=OuterRef("pk"))
    contents = (
        Content.objects.filter(
            organization_id=organization_id,
            status=ContentStatus.APPROVED,
            publish_at__lte=now,
        )
        .exclude(expires_at__lte=now)
        .filter(~Exists(targeted))
        .only(
            "id",
            "title",
            "why_it_matters",
            "image",
            "preview_image",
            "publish_at",
            "status",
            "expires_at",
            "organization_id",
        )
        .order_by("-publish_at", "-id")[:count]
    )
    tiles = []
    for content in contents:
        name = content.image.name or content.preview_image.name
        # Signed: the screen has no session, and the URL works while the post is published.
        tiles.append(PostTile(content, media_signed_url(name) if name else ""))
    return tiles


def display_data(
    organization: Organization, *, compact: bool = False, now: datetime | None = None
) -> DisplayData:
    """Everything the lobby screen (or, compact, the widget) shows, in a number of queries
    that does not grow with the number of people or posts."""
    now = now or timezone.now()
    hidden = _hidden_people(organization.pk)
    tiles, wanted = _challenge_tiles(
        organization.pk, hidden, 1 if compact else CHALLENGES_SHOWN, now
    )
    leaders = _week_leaders(organization, hidden, WIDGET_LEADERS if compact else LEADERS_SHOWN, now)
    wanted |= {leader.key for leader in leaders}
    team_ids = {
        leader.key
        for tile in tiles
        if tile.challenge.mode == ChallengeMode.TEAM
        for leader in tile.leaders
    }
    people = (
        {
            person.pk: person
            for person in User.objects.filter(
                pk__in=wanted, organization_id=organization.pk, is_active=True
            ).only("id", "first_name", "last_name")
        }
        if wanted
        else {}
    )
    teams = (
        dict(
            Team.objects.filter(pk__in=team_ids, organization_id=organization.pk).values_list(
                "pk", "name"
            )
        )
        if team_ids
        else {}
    )
    for tile in tiles:
        is_team = tile.challenge.mode == ChallengeMode.TEAM
        for leader in tile.leaders:
            if is_team:
                leader.name = teams.get(leader.key, "")
            else:
                person = people.get(leader.key)
                leader.name = public_name(person) if person else ""
        tile.leaders = [leader for leader in tile.leaders if leader.name]
    named = []
    for leader in leaders:
        person = people.get(leader.key)
        if person is not None:
            leader.name = public_name(person)
            named.append(leader)
    posts = _latest_posts(organization.pk, WIDGET_POSTS if compact else POSTS_SHOWN, now)
    return DisplayData(organization, tiles, named, posts, now)
