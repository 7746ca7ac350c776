"""Badges: each one awarded once (a unique key), with a notification."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db import IntegrityError, connection, transaction
from django.db.models import Count
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from challenges.models import BadgeAward, BadgeKind
from content.models import Suggestion, SuggestionStatus
from organizations.models import Organization, User

SHARE_BADGES = ((1, BadgeKind.FIRST_SHARE), (10, BadgeKind.SHARES_10))
SHARE_BADGES += ((50, BadgeKind.SHARES_50), (100, BadgeKind.SHARES_100))
CLICK_BADGES = ((100, BadgeKind.CLICKS_100),)
STREAK_BADGE_WEEKS = 4


def badge_description(badge: str) -> str:
    descriptions = {
        BadgeKind.FIRST_SHARE: _("Shared a post for the first time."),
        BadgeKind.SHARES_10: _("Shared 10 posts."),
        BadgeKind.SHARES_50: _("Shared 50 posts."),
        BadgeKind.SHARES_100: _("Shared 100 posts."),
        BadgeKind.CLICKS_100: _("Your shares brought 100 clicks."),
        BadgeKind.STREAK_4_WEEKS: _("Shared at least once a week, 4 weeks in a row."),
        BadgeKind.TOP_SUGGESTER: _("Most accepted suggestions of the month."),
        BadgeKind.CHALLENGE_WINNER: _("Won a challenge."),
    }
    return str(descriptions.get(badge, ""))


def badge_award(*, user: User, badge: str, key: str, awarded_at: datetime) -> BadgeAward | None:
    """Award a badge once per `key`; None when it was awarded before. The employee is
    notified in the same transaction."""
    from notifications.services import notification_create

    if badge not in BadgeKind.values:
        raise ValueError(f"Unknown badge {badge!r}")
    assert user.organization_id is not None
    try:
        with transaction.atomic():
            award = BadgeAward.objects.create(
                organization_id=user.organization_id,
                user=user,
                badge=badge,
                key=key,
                awarded_at=awarded_at,
            )
            with translation.override(user.language):
                notification_create(
                    recipient=user,
                    kind="challenges.badge",
                    title=_("New badge: %(badge)s") % {"badge": BadgeKind(badge).label},
                    body=badge_description(badge),
                    url=reverse("profile"),
                )
    except IntegrityError:
        return None
    return award


def badges_check(
    *,
    user: User,
    share_count: int,
    click_count: int,
    streak_weeks: int,
    at: datetime,
) -> list[BadgeAward]:
    """Award the count and streak badges the employee has just reached and does not hold
    yet. Counts move by one under the Score row's lock, so each value is seen by exactly
    one award: looking for an equal threshold spares a query on every other award."""
    due = [badge for threshold, badge in SHARE_BADGES if share_count == threshold]
    due += [badge for threshold, badge in CLICK_BADGES if click_count == threshold]
    if streak_weeks >= STREAK_BADGE_WEEKS:
        due.append(BadgeKind.STREAK_4_WEEKS)
    if not due:
        return []
    # Badges are earned in each organisation, as the counts they follow are.
    held = set(
        BadgeAward.objects.filter(
            user=user, organization_id=user.organization_id, badge__in=due
        ).values_list("badge", flat=True)
    )
    # The home organisation keeps the original key; another one the person belongs to
    # (applied in memory, see organizations.memberships) adds its id.
    home = getattr(user, "_home_membership", None)
    elsewhere = home is not None and home[0] is not None and home[0].pk != user.organization_id
    suffix = f":{user.organization_id}" if elsewhere else ""
    awarded = []
    for badge in due:
        if badge in held:
            continue
        award = badge_award(user=user, badge=badge, key=f"{badge}:{user.pk}{suffix}", awarded_at=at)
        if award is not None:
            awarded.append(award)
    return awarded


def month_bounds(month: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    first = month.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return (
        datetime.combine(first, time.min, tzinfo=zone),
        datetime.combine(following, time.min, tzinfo=zone),
    )


def top_suggester_award(*, organization: Organization, month: date) -> list[BadgeAward]:
    """The month's top suggesters (most accepted suggestions, decided in that month in the
    organisation's time zone; ties all win). Run after the month ends; idempotent."""
    start, end = month_bounds(month, ZoneInfo(organization.time_zone))
    counts = list(
        Suggestion.objects.filter(
            organization=organization,
            status=SuggestionStatus.ACCEPTED,
            decided_at__gte=start,
            decided_at__lt=end,
        )
        .values("author_id")
        .annotate(accepted=Count("id"))
        .order_by("-accepted")
    )
    if not counts:
        return []
    best = counts[0]["accepted"]
    winners = User.objects.filter(
        pk__in=[row["author_id"] for row in counts if row["accepted"] == best],
        organization=organization,
    )
    awarded = []
    for user in winners:
        award = badge_award(
            user=user,
            badge=BadgeKind.TOP_SUGGESTER,
            key=f"top_suggester:{organization.pk}:{start:%Y-%m}:{user.pk}",
            awarded_at=end - timedelta(seconds=1),
        )
        if award is not None:
            awarded.append(award)
    return awarded


def badges_award_many(
    *, users: list[User], badge: str, keys: dict[int, str], awarded_at: datetime
) -> list[int]:
    """`badge_award` for many people at once: one INSERT that skips the keys awarded
    before (the unique key stays the idempotency), then one notification call per
    language for those newly awarded. Returns their ids."""
    from notifications.services import notification_create_many

    if badge not in BadgeKind.values:
        raise ValueError(f"Unknown badge {badge!r}")
    if not users:
        return []
    table = connection.ops.quote_name(BadgeAward._meta.db_table)
    at = connection.ops.adapt_datetimefield_value(awarded_at)
    key = connection.ops.quote_name("key")
    awarded: set[int] = set()
    with transaction.atomic(), connection.cursor() as cursor:
        for first in range(0, len(users), 1000):
            chunk = users[first : first + 1000]
            params: list[object] = []
            for user in chunk:
                assert user.organization_id is not None
                params += [user.organization_id, user.pk, badge, keys[user.pk], at]
            rows = ", ".join(["(%s, %s, %s, %s, %s)"] * len(chunk))
            cursor.execute(
                f"INSERT INTO {table} (organization_id, user_id, badge, {key}, awarded_at) "  # noqa: S608
                f"VALUES {rows} ON CONFLICT ({key}) DO NOTHING RETURNING user_id",
                params,
            )
            awarded |= {row[0] for row in cursor.fetchall()}
        by_language: dict[str, list[User]] = {}
        for user in users:
            if user.pk in awarded:
                by_language.setdefault(user.language, []).append(user)
        for language, people in sorted(by_language.items()):
            with translation.override(language):
                notification_create_many(
                    recipients=people,
                    kind="challenges.badge",
                    title=_("New badge: %(badge)s") % {"badge": BadgeKind(badge).label},
                    body=badge_description(badge),
                    url=reverse("profile"),
                )
    return sorted(awarded)
