"""The feed card's extras from challenges: the points a share of the post earns and the
running challenge it counts for. Registered in content's card-extras registry when
ChallengesConfig.ready() imports this module; asked once per feed page (a fixed number of queries, whatever
the number of cards)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from django.db.models import Exists, OuterRef, Prefetch
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from challenges.models import Challenge, ChallengeMetric, ChallengeStatus, ScoringEvent, ScoringRule
from challenges.services.points import DEFAULT_POINTS
from content.extensions import CardExtra, card_extras_register
from content.models import Content, Topic
from content.selectors import user_team_ancestors_subquery
from organizations.models import User

SHARE_EVENTS = (ScoringEvent.SHARE_PUBLISHED, ScoringEvent.SHARE_LINK_CONFIRMED)
# A share moves these metrics (its points, its clicks); accepted suggestions it does not.
SHARE_METRICS = (ChallengeMetric.SHARES, ChallengeMetric.POINTS, ChallengeMetric.CLICKS)


def share_points(user: User) -> list[int]:
    """What a share pays, posted for the employee and by share link (0 when switched off)."""
    rules = {
        rule.event: rule
        for rule in ScoringRule.objects.filter(
            organization_id=user.organization_id, event__in=SHARE_EVENTS
        )
    }
    paid = []
    for event in SHARE_EVENTS:
        rule = rules.get(event)
        if rule is None:
            paid.append(DEFAULT_POINTS[event])
        else:
            paid.append(rule.points if rule.is_active else 0)
    return paid


def points_text(paid: list[int]) -> str:
    low, high = min(paid), max(paid)
    if low == high:
        return ngettext("Earns %(n)s point", "Earns %(n)s points", high) % {"n": high}
    return _("Earns %(low)s–%(high)s points") % {"low": low, "high": high}


def _running_challenges(user: User) -> list[Challenge]:
    now = timezone.now()
    targeted = Challenge.audience_teams.through.objects.filter(challenge_id=OuterRef("pk"))
    # The user's teams and those above them, walked by the query itself.
    reaches_me = targeted.filter(team_id__in=user_team_ancestors_subquery(user))
    return list(
        Challenge.objects.filter(
            organization_id=user.organization_id,
            status=ChallengeStatus.ACTIVE,
            metric__in=SHARE_METRICS,
            starts_at__lte=now,
            ends_at__gt=now,
        )
        .filter(~Exists(targeted) | Exists(reaches_me))
        .prefetch_related(
            Prefetch("contents", queryset=Content.objects.only("id")),
            Prefetch("topics", queryset=Topic.objects.only("id")),
        )
        .order_by("ends_at", "pk")
    )


def counts_for(challenge: Challenge, content: Content) -> bool:
    """The challenge's scope (see campaign_metrics.scope_content_ids), read from what the
    page already holds: the content's topics are prefetched, its hashtags are a field."""
    chosen = {c.pk for c in challenge.contents.all()}
    if chosen and content.pk not in chosen:
        return False
    topics = {t.pk for t in challenge.topics.all()}
    if topics and not topics & {t.pk for t in content.topics.all()}:
        return False
    if challenge.hashtag:
        tags = {str(tag).lower() for tag in content.hashtags or []}
        if challenge.hashtag.lower() not in tags:
            return False
    return True


def challenge_text(challenge: Challenge, more: int) -> str:
    if challenge.network:
        text = _("Counts for “%(title)s” (%(network)s)") % {
            "title": challenge.title,
            "network": challenge.get_network_display(),
        }
    else:
        text = _("Counts for “%(title)s”") % {"title": challenge.title}
    if more:
        text += " " + ngettext("and %(n)s more", "and %(n)s more", more) % {"n": more}
    return text


def feed_card_extras(user: User, contents: Sequence[Content]) -> Mapping[int, list[CardExtra]]:
    paid = share_points(user)
    challenges = _running_challenges(user)
    extras: dict[int, list[CardExtra]] = {}
    for content in contents:
        lines: list[CardExtra] = []
        if max(paid) > 0:
            lines.append(CardExtra(kind="points", text=points_text(paid)))
        counting = [c for c in challenges if counts_for(c, content)]
        if counting:
            first = counting[0]
            lines.append(
                CardExtra(
                    kind="challenge",
                    text=challenge_text(first, len(counting) - 1),
                    url=reverse("challenge_detail", args=[first.pk]),
                )
            )
        extras[content.pk] = lines
    return extras


# Imported from ChallengesConfig.ready(): the import is the registration.
card_extras_register(key="challenges", provider=feed_card_extras, order=10)
