"""The points ledger: award, reverse, spend and refund, each one entry with a unique source
key, and the employee's Score moved with F() in the same transaction.

After an award or a reversal the same transaction also settles what derives from the
ledger: the share streak, the count and streak badges, and the level-up notification.
Leaderboards in Redis are told after commit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import partial
from itertools import pairwise
from zoneinfo import ZoneInfo

from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.db.models.functions import TruncWeek
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from challenges.models import (
    SHARE_REASONS,
    PointEntry,
    PointReason,
    Score,
    ScoringEvent,
    ScoringRule,
)
from organizations.errors import ConflictError
from organizations.models import Organization, User

# What an event pays when the organisation has no rule of its own.
DEFAULT_POINTS: dict[str, int] = {
    ScoringEvent.SHARE_PUBLISHED: 10,
    ScoringEvent.SHARE_LINK_CONFIRMED: 8,
    ScoringEvent.CLICK: 1,
    ScoringEvent.SUGGESTION_ACCEPTED: 15,
    ScoringEvent.CHARTER_ACCEPTED: 5,
    ScoringEvent.CHALLENGE_COMPLETED: 20,
}
DEFAULT_CLICK_CAP_PER_SHARE_AND_DAY = 20


class NotEnoughPoints(ConflictError):
    def __init__(self, message: str | None = None) -> None:
        super().__init__(
            message or str(gettext_lazy("You do not have enough points for this.")),
            field="points",
        )


# --- scoring rules ----------------------------------------------------------------------


def scoring_rule(*, organization_id: int, event: str) -> ScoringRule:
    """The organisation's rule for an event, or an unsaved one holding the default."""
    if event not in ScoringEvent.values:
        raise ValueError(f"Unknown scoring event {event!r}")
    rule = ScoringRule.objects.filter(organization_id=organization_id, event=event).first()
    if rule is None:
        rule = ScoringRule(
            organization_id=organization_id,
            event=event,
            points=DEFAULT_POINTS[event],
            daily_cap_per_share=(
                DEFAULT_CLICK_CAP_PER_SHARE_AND_DAY if event == ScoringEvent.CLICK else None
            ),
            is_active=True,
        )
    return rule


def scoring_points(*, organization_id: int, event: str) -> int:
    """What the event pays in this organisation: its rule, else the default; 0 if off."""
    rule = scoring_rule(organization_id=organization_id, event=event)
    return rule.points if rule.is_active else 0


# --- the ledger -------------------------------------------------------------------------


def _score_move(
    *, user_id: int, organization_id: int, lifetime: int, spendable: int, shares: int, clicks: int
) -> None:
    changes = {
        "lifetime_points": F("lifetime_points") + lifetime,
        "spendable_points": F("spendable_points") + spendable,
        "share_count": F("share_count") + shares,
        "click_count": F("click_count") + clicks,
        "updated_at": timezone.now(),
    }
    # One row per person and organisation: the entry's organisation's totals move.
    row = Score.objects.filter(user_id=user_id, organization_id=organization_id)
    if row.update(**changes):
        return
    # First entry of this employee in this organisation: create the row (a concurrent
    # first entry may win the race, hence ignore_conflicts) and move it.
    Score.objects.bulk_create(
        [Score(user_id=user_id, organization_id=organization_id)], ignore_conflicts=True
    )
    row.update(**changes)


def _counts_of(reason: str) -> tuple[int, int]:
    return (1 if reason in SHARE_REASONS else 0, 1 if reason == PointReason.CLICK else 0)


def points_award(
    *,
    user: User,
    reason: str,
    points: int,
    source_key: str,
    occurred_at: datetime,
    share=None,  # advocacy.models.Share | None
    content=None,  # content.models.Content | None
    note: str = "",
) -> PointEntry | None:
    """Pay `points` (lifetime and spendable) once per `source_key`; None when the key was
    paid before (or there is nothing to pay)."""
    if points < 0:
        raise ValueError("An award cannot be negative; reverse the entry instead")
    if points == 0 or user.organization_id is None:
        return None
    shares, clicks = _counts_of(reason)
    with transaction.atomic():
        try:
            # The unique source key is the idempotency: a concurrent duplicate waits on the
            # index until this commits, then fails here.
            with transaction.atomic():
                entry = PointEntry.objects.create(
                    organization_id=user.organization_id,
                    user=user,
                    reason=reason,
                    points=points,
                    spendable_delta=points,
                    source_key=source_key[:150],
                    share=share,
                    # A share's entry names its content too, for the history.
                    content_id=content.pk if content else getattr(share, "content_id", None),
                    note=note[:300],
                    occurred_at=occurred_at,
                )
        except IntegrityError:
            return None
        _score_move(
            user_id=user.pk,
            organization_id=user.organization_id,
            lifetime=points,
            spendable=points,
            shares=shares,
            clicks=clicks,
        )
        _after_ledger_change(user=user, entry=entry)
    return entry


def points_reverse(
    *,
    source_key: str,
    reversal_key: str,
    note: str = "",
    reason: str = PointReason.REVERSAL,
) -> PointEntry | None:
    """Cancel an entry with a new negative one, once; None when the entry does not exist
    or was reversed before. Spendable points already spent are not clawed back below zero."""
    original = PointEntry.objects.select_related("user").filter(source_key=source_key).first()
    if original is None or original.reversal_of_id is not None:
        return None
    user = original.user
    with transaction.atomic():
        score = (
            Score.objects.select_for_update()
            .filter(user_id=user.pk, organization_id=original.organization_id)
            .first()
        )
        balance = score.spendable_points if score else 0
        spendable = -min(max(original.spendable_delta, 0), balance)
        try:
            with transaction.atomic():
                entry = PointEntry.objects.create(
                    organization_id=original.organization_id,
                    user=user,
                    reason=reason,
                    points=-original.points,
                    spendable_delta=spendable,
                    source_key=reversal_key[:150],
                    reversal_of=original,
                    share_id=original.share_id,
                    content_id=original.content_id,
                    note=note[:300],
                    occurred_at=original.occurred_at,
                )
        except IntegrityError:
            return None
        shares, clicks = _counts_of(original.reason)
        _score_move(
            user_id=user.pk,
            organization_id=original.organization_id,
            lifetime=-original.points,
            spendable=spendable,
            shares=-shares,
            clicks=-clicks,
        )
        _after_ledger_change(user=user, entry=entry, original_reason=original.reason)
    return entry


def points_spend(*, user: User, points: int, source_key: str, note: str = "") -> PointEntry:
    """Take `points` from the spendable balance only (a redemption). Idempotent on the key:
    a repeat returns the first entry. Raises NotEnoughPoints when the balance is short."""
    if points <= 0:
        raise ValueError("Spend a positive number of points")
    assert user.organization_id is not None
    existing = PointEntry.objects.filter(source_key=source_key).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            entry = PointEntry.objects.create(
                organization_id=user.organization_id,
                user=user,
                reason=PointReason.REDEMPTION,
                points=0,
                spendable_delta=-points,
                source_key=source_key[:150],
                note=note[:300],
                occurred_at=timezone.now(),
            )
            # A conditional UPDATE: two spends racing for the last points cannot both pass.
            # The active organisation's balance only: points earned elsewhere stay there.
            moved = Score.objects.filter(
                user_id=user.pk,
                organization_id=user.organization_id,
                spendable_points__gte=points,
            ).update(spendable_points=F("spendable_points") - points, updated_at=timezone.now())
            if not moved:
                raise NotEnoughPoints()
    except IntegrityError:
        return PointEntry.objects.get(source_key=source_key)
    return entry


def points_refund(
    *,
    user: User,
    points: int,
    source_key: str,
    note: str = "",
    organization_id: int | None = None,
) -> PointEntry | None:
    """Give back spendable points (a refused redemption), once per key, in
    `organization_id` (the redemption's: the person may belong to several), by default
    the person's active one."""
    if points <= 0:
        raise ValueError("Refund a positive number of points")
    organization_id = organization_id or user.organization_id
    assert organization_id is not None
    with transaction.atomic():
        try:
            with transaction.atomic():
                entry = PointEntry.objects.create(
                    organization_id=organization_id,
                    user=user,
                    reason=PointReason.REFUND,
                    points=0,
                    spendable_delta=points,
                    source_key=source_key[:150],
                    note=note[:300],
                    occurred_at=timezone.now(),
                )
        except IntegrityError:
            return None
        _score_move(
            user_id=user.pk,
            organization_id=organization_id,
            lifetime=0,
            spendable=points,
            shares=0,
            clicks=0,
        )
    return entry


def points_hide_from_rankings(*, user: User, hidden: bool) -> Score:
    """The employee's privacy choice: out of every public ranking of the active
    organisation (they still see their own rank; each organisation asks on its own)."""
    assert user.organization_id is not None
    Score.objects.bulk_create(
        [Score(user_id=user.pk, organization_id=user.organization_id)], ignore_conflicts=True
    )
    Score.objects.filter(user_id=user.pk, organization_id=user.organization_id).update(
        hidden_from_rankings=hidden, updated_at=timezone.now()
    )
    from challenges.services.leaderboards import leaderboards_drop_current

    assert user.organization is not None
    drop = partial(
        leaderboards_drop_current,
        organization_id=user.organization_id,
        time_zone=user.organization.time_zone,
    )
    # Now, for the caller's next page, and after commit: a reader in between rebuilds
    # the sets from the choice not yet committed.
    drop()
    transaction.on_commit(drop)
    return Score.objects.get(user_id=user.pk, organization_id=user.organization_id)


def points_rankings_choices_set(*, user: User, hidden_in: set[int]) -> None:
    """The ranking choice in every organisation the person belongs to at once: hidden in
    those of `hidden_in`, listed in the others. For leaving the programme (which is the
    person's, not one organisation's) and joining again."""
    from challenges.services.leaderboards import leaderboards_drop_current
    from organizations.memberships import organizations_of

    organizations = [choice.organization for choice in organizations_of(user)]
    now = timezone.now()
    Score.objects.bulk_create(
        [Score(user_id=user.pk, organization_id=org.pk) for org in organizations],
        ignore_conflicts=True,
    )
    for organization in organizations:
        Score.objects.filter(user_id=user.pk, organization_id=organization.pk).update(
            hidden_from_rankings=organization.pk in hidden_in, updated_at=now
        )
        drop = partial(
            leaderboards_drop_current,
            organization_id=organization.pk,
            time_zone=organization.time_zone,
        )
        drop()
        transaction.on_commit(drop)


# --- what derives from the ledger -------------------------------------------------------


def week_of(moment: datetime, zone: ZoneInfo) -> date:
    """Monday of the moment's week in the organisation's time zone."""
    local = moment.astimezone(zone).date()
    return local - timedelta(days=local.weekday())


def streak_from_weeks(weeks: list[date]) -> tuple[int, int, date | None]:
    """(run ending at the latest week, longest run, latest week) of a list of Mondays."""
    ordered = sorted(set(weeks))
    if not ordered:
        return 0, 0, None
    longest = run = 1
    for previous, current in pairwise(ordered):
        run = run + 1 if current - previous == timedelta(days=7) else 1
        longest = max(longest, run)
    return run, longest, ordered[-1]


def streak_current(score: Score | None, *, today_week: date) -> int:
    """The streak still alive: the last shared week is this week or last week."""
    if score is None or score.streak_week is None:
        return 0
    if score.streak_week >= today_week - timedelta(days=7):
        return score.current_streak_weeks
    return 0


def _streak_update(*, user: User, organization_id: int, zone: ZoneInfo) -> int:
    rows = (
        PointEntry.objects.filter(
            user_id=user.pk,
            organization_id=organization_id,
            reason__in=SHARE_REASONS,
            reversed_by__isnull=True,
        )
        .annotate(week=TruncWeek("occurred_at", tzinfo=zone))
        .values_list("week", flat=True)
        .distinct()
    )
    weeks = [week.date() if isinstance(week, datetime) else week for week in rows]
    current, longest, latest = streak_from_weeks(weeks)
    Score.objects.filter(user_id=user.pk, organization_id=organization_id).update(
        current_streak_weeks=current, longest_streak_weeks=longest, streak_week=latest
    )
    return current


def _after_ledger_change(
    *, user: User, entry: PointEntry, original_reason: str | None = None
) -> None:
    from challenges.services.badges import badges_check
    from challenges.services.leaderboards import leaderboard_entry_recorded
    from challenges.services.levels import level_progress, levels_for

    reason = original_reason or entry.reason
    # The entry's organisation: a reversal may come after the person left it.
    organization = (
        user.organization
        if user.organization_id == entry.organization_id
        else Organization.objects.filter(pk=entry.organization_id).first()
    )
    if organization is None:
        return
    zone = ZoneInfo(organization.time_zone)
    streak = None
    if reason in SHARE_REASONS:
        streak = _streak_update(user=user, organization_id=organization.pk, zone=zone)
    lifetime, share_count, click_count, notified = Score.objects.filter(
        user_id=user.pk, organization_id=organization.pk
    ).values_list("lifetime_points", "share_count", "click_count", "level_threshold")[0]
    if entry.points > 0 and (reason in SHARE_REASONS or reason == PointReason.CLICK):
        badges_check(
            user=user,
            share_count=share_count,
            click_count=click_count,
            streak_weeks=streak or 0,
            at=entry.occurred_at,
        )
    if entry.points > 0:
        current = level_progress(levels_for(organization.pk), lifetime).current
        if current is not None and current.threshold > notified:
            _level_up(
                user=user,
                organization_id=organization.pk,
                level_name=(current.name_en, current.name_fr),
                to=current.threshold,
            )
    if entry.points:
        transaction.on_commit(
            lambda: leaderboard_entry_recorded(
                organization_id=entry.organization_id,
                user_id=entry.user_id,
                points=entry.points,
                occurred_at=entry.occurred_at,
                time_zone=organization.time_zone,
            )
        )


def _level_up(*, user: User, organization_id: int, level_name: tuple[str, str], to: int) -> None:
    from notifications.services import notification_create

    # Conditional: of two awards crossing the same threshold, one announces it.
    if not Score.objects.filter(
        user_id=user.pk, organization_id=organization_id, level_threshold__lt=to
    ).update(level_threshold=to):
        return
    with translation.override(user.language):
        name = level_name[1] if user.language == "fr" else level_name[0]
        notification_create(
            recipient=user,
            kind="challenges.level_up",
            title=_("You reached a new level: %(level)s") % {"level": name},
            body=_("Keep sharing to reach the next one."),
            url=reverse("profile"),
        )


# --- many awards at once (a challenge's results) -----------------------------------------


@dataclass(frozen=True)
class Award:
    """One payment of `points_award_many`: what `points_award` takes, for one person."""

    user_id: int
    reason: str
    points: int
    source_key: str
    note: str = ""


# Rows per INSERT: well under SQLite's limit on bound parameters (32,766).
_INSERT_CHUNK = 1000


def _ledger_insert(
    *, organization_id: int, awards: list[Award], occurred_at: datetime
) -> dict[int, int]:
    """Insert the entries whose source key is new, in multi-row INSERTs that skip the keys
    already paid (ON CONFLICT DO NOTHING: the unique key stays the idempotency, even
    against a concurrent runner); the points each person was actually paid."""
    table = connection.ops.quote_name(PointEntry._meta.db_table)
    columns = (
        "organization_id, user_id, reason, points, spendable_delta, source_key, note, "
        "occurred_at, created_at"
    )
    occurred = connection.ops.adapt_datetimefield_value(occurred_at)
    created = connection.ops.adapt_datetimefield_value(timezone.now())
    paid: dict[int, int] = {}
    with connection.cursor() as cursor:
        for first in range(0, len(awards), _INSERT_CHUNK):
            chunk = awards[first : first + _INSERT_CHUNK]
            params: list[object] = []
            for award in chunk:
                params += [
                    organization_id,
                    award.user_id,
                    award.reason,
                    award.points,
                    award.points,
                    award.source_key[:150],
                    award.note[:300],
                    occurred,
                    created,
                ]
            rows = ", ".join(["(%s, %s, %s, %s, %s, %s, %s, %s, %s)"] * len(chunk))
            cursor.execute(
                f"INSERT INTO {table} ({columns}) VALUES {rows} "  # noqa: S608  (no user input)
                "ON CONFLICT (source_key) DO NOTHING RETURNING user_id, points",
                params,
            )
            for user_id, points in cursor.fetchall():
                paid[user_id] = paid.get(user_id, 0) + points
    return paid


def _scores_add(*, organization_id: int, paid: dict[int, int]) -> dict[int, tuple[int, int]]:
    """Add each person's new points to their Score in one UPSERT per chunk (the row is
    created for a first entry): (lifetime points, level announced) after the move."""
    table = connection.ops.quote_name(Score._meta.db_table)
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    items = sorted(paid.items())
    moved: dict[int, tuple[int, int]] = {}
    with connection.cursor() as cursor:
        for first in range(0, len(items), _INSERT_CHUNK):
            chunk = items[first : first + _INSERT_CHUNK]
            params: list[object] = []
            for user_id, points in chunk:
                params += [user_id, organization_id, points, points, now]
            rows = ", ".join(["(%s, %s, %s, %s, FALSE, 0, 0, 0, 0, 0, %s)"] * len(chunk))
            cursor.execute(
                f"INSERT INTO {table} (user_id, organization_id, lifetime_points, "  # noqa: S608
                "spendable_points, hidden_from_rankings, share_count, click_count, "
                "current_streak_weeks, longest_streak_weeks, level_threshold, updated_at) "
                f"VALUES {rows} ON CONFLICT (user_id, organization_id) DO UPDATE SET "
                f"lifetime_points = {table}.lifetime_points + excluded.lifetime_points, "
                f"spendable_points = {table}.spendable_points + excluded.spendable_points, "
                "updated_at = excluded.updated_at "
                "RETURNING user_id, lifetime_points, level_threshold",
                params,
            )
            for user_id, lifetime, announced in cursor.fetchall():
                moved[user_id] = (lifetime, announced)
    return moved


def points_award_many(
    *,
    organization: Organization,
    users: dict[int, User],
    awards: list[Award],
    occurred_at: datetime,
) -> dict[int, int]:
    """Pay many awards at once, as `points_award` pays one: each source key once, the
    Score totals moved in the same transaction (one UPSERT per chunk, never read then
    written), levels reached announced, and the Redis leaderboards moved after commit in
    one pipeline. `users` holds every awarded person (for the level-up notifications).
    Only for reasons that move no share or click count (no streak, no count badge).
    Returns the points actually paid per person (keys paid before are skipped)."""
    awards = [award for award in awards if award.points > 0]
    for award in awards:
        if award.reason in SHARE_REASONS or award.reason == PointReason.CLICK:
            raise ValueError("points_award_many pays no share or click points")
    if not awards:
        return {}
    with transaction.atomic():
        paid = _ledger_insert(
            organization_id=organization.pk, awards=awards, occurred_at=occurred_at
        )
        if not paid:
            return {}
        moved = _scores_add(organization_id=organization.pk, paid=paid)
        _levels_announce_many(organization=organization, users=users, moved=moved)
        entries = [(user_id, points) for user_id, points in paid.items()]
        transaction.on_commit(
            lambda: _leaderboards_move(organization, entries, occurred_at),
        )
    return paid


def _leaderboards_move(
    organization: Organization, entries: list[tuple[int, int]], occurred_at: datetime
) -> None:
    from challenges.services.leaderboards import leaderboard_entries_recorded

    leaderboard_entries_recorded(
        organization_id=organization.pk,
        entries=entries,
        occurred_at=occurred_at,
        time_zone=organization.time_zone,
    )


def _levels_announce_many(
    *, organization: Organization, users: dict[int, User], moved: dict[int, tuple[int, int]]
) -> None:
    """The level-up of `_level_up` for many people: one conditional UPDATE per level
    reached, then one notification call per level and language."""
    from challenges.services.levels import level_progress, levels_for
    from notifications.services import notification_create_many

    levels = levels_for(organization.pk)
    reached: dict[int, list[int]] = {}
    named = {}
    for user_id, (lifetime, announced) in moved.items():
        current = level_progress(levels, lifetime).current
        if current is not None and current.threshold > announced:
            reached.setdefault(current.threshold, []).append(user_id)
            named[current.threshold] = (current.name_en, current.name_fr)
    for threshold, user_ids in sorted(reached.items()):
        locked: list[int] = []
        table = connection.ops.quote_name(Score._meta.db_table)
        with connection.cursor() as cursor:
            for first in range(0, len(user_ids), _INSERT_CHUNK):
                chunk = user_ids[first : first + _INSERT_CHUNK]
                marks = ", ".join(["%s"] * len(chunk))
                # Conditional: of two runs crossing the same threshold, one announces it.
                cursor.execute(
                    f"UPDATE {table} SET level_threshold = %s "  # noqa: S608  (no user input)
                    f"WHERE level_threshold < %s AND organization_id = %s "
                    f"AND user_id IN ({marks}) RETURNING user_id",
                    [threshold, threshold, organization.pk, *chunk],
                )
                locked += [row[0] for row in cursor.fetchall()]
        by_language: dict[str, list[User]] = {}
        for user_id in locked:
            person = users.get(user_id)
            if person is not None:
                by_language.setdefault(person.language, []).append(person)
        for language, people in sorted(by_language.items()):
            with translation.override(language):
                name = named[threshold][1] if language == "fr" else named[threshold][0]
                notification_create_many(
                    recipients=people,
                    kind="challenges.level_up",
                    title=_("You reached a new level: %(level)s") % {"level": name},
                    body=_("Keep sharing to reach the next one."),
                    url=reverse("profile"),
                )
