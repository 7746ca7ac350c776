"""Challenges: create and edit (editors), launch or schedule, cancel; the state machine
draft → scheduled → active → ended moved by conditional UPDATEs (the beat task and page
reads both call it, so two runners never both launch or end one challenge); results
frozen once at the end. Telling the audience about a launch, and paying and announcing
the results, are each claimed once by the beat task, off the page request."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.core.files.base import File
from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from challenges import campaign_metrics as metrics
from challenges.models import (
    BadgeKind,
    Challenge,
    ChallengeMetric,
    ChallengeMode,
    ChallengeResult,
    ChallengeStatus,
    PointReason,
    Score,
    ScoringEvent,
)
from challenges.services.badges import badges_award_many
from challenges.services.points import Award, points_award_many, scoring_points
from challenges.signals import challenge_launched, challenge_results_announced
from content.models import Content, Network, Topic
from notifications.services import notification_create_many
from organizations.audit import audit_record
from organizations.dates import date_error
from organizations.errors import ConflictError, DomainError, PermissionDeniedError
from organizations.images import image_clean_for_field
from organizations.media import media_discard_on_commit
from organizations.models import Team, User
from organizations.selectors import organization_people

KIND_LAUNCHED = "challenges.launched"
KIND_RESULTS = "challenges.results"
MAX_WINNERS = 100
# Bounds that keep dates renderable in every time zone and numbers inside their columns.
MAX_AMOUNT = 1_000_000


@dataclass
class ChallengeInput:
    title: str
    starts_at: datetime
    ends_at: datetime
    why_it_matters: str = ""
    audience_teams: list[Team] = field(default_factory=list)
    mode: str = ChallengeMode.INDIVIDUAL
    metric: str = ChallengeMetric.SHARES
    contents: list[Content] = field(default_factory=list)
    topics: list[Topic] = field(default_factory=list)
    hashtag: str = ""
    network: str = ""
    goal: int | None = None
    winners_count: int = 0
    prize: str = ""
    bonus_points: int = 0
    banner: File | None = None  # an upload; cleaned by _clean
    remove_banner: bool = False


def _require_editor(actor: User) -> None:
    if not actor.can_edit_content or actor.organization_id is None:
        raise PermissionDeniedError(_("Only editors and administrators manage challenges."))


def challenge_date_error(value: datetime) -> str | None:
    """Why a challenge date is out of the accepted window, or None when it is fine."""
    return date_error(value)


def _clean(data: ChallengeInput, actor: User) -> None:
    data.title = data.title.strip()
    if not data.title:
        raise DomainError(_("Give the challenge a title."), field="title")
    for name in ("starts_at", "ends_at"):
        problem = challenge_date_error(getattr(data, name))
        if problem:
            raise DomainError(problem, field=name)
    if data.ends_at <= data.starts_at:
        raise DomainError(_("The end must come after the start."), field="ends_at")
    if data.mode not in ChallengeMode.values:
        raise DomainError(_("Choose individual or team mode."), field="mode")
    if data.metric not in ChallengeMetric.values:
        raise DomainError(_("Choose what the challenge counts."), field="metric")
    if data.network and data.network not in Network.values:
        raise DomainError(_("Unknown network."), field="network")
    if data.goal is not None and data.goal <= 0:
        raise DomainError(_("The goal must be at least 1."), field="goal")
    if data.goal is not None and data.goal > MAX_AMOUNT:
        raise DomainError(
            _("The goal can be at most %(n)s.") % {"n": f"{MAX_AMOUNT:,}"}, field="goal"
        )
    if not 0 <= data.winners_count <= MAX_WINNERS:
        raise DomainError(
            _("The number of winners must be between 0 and %(n)s.") % {"n": MAX_WINNERS},
            field="winners_count",
        )
    if data.goal is None and data.winners_count == 0:
        raise DomainError(_("Set a goal to reach, a number of winners, or both."), field="goal")
    if data.bonus_points < 0:
        raise DomainError(_("Bonus points cannot be negative."), field="bonus_points")
    if data.bonus_points > MAX_AMOUNT:
        raise DomainError(
            _("Bonus points can be at most %(n)s.") % {"n": f"{MAX_AMOUNT:,}"},
            field="bonus_points",
        )
    org = actor.organization_id
    for name, objects in (
        ("audience_teams", data.audience_teams),
        ("contents", data.contents),
        ("topics", data.topics),
    ):
        if any(item.organization_id != org for item in objects):
            raise DomainError(_("A chosen item belongs to another organisation."), field=name)
    raw_tag = data.hashtag.strip()
    data.hashtag = metrics.normalise_hashtag(raw_tag)
    if raw_tag and (not data.hashtag or " " in data.hashtag):
        raise DomainError(_("Give one hashtag, without spaces."), field="hashtag")
    if data.banner is not None:
        # Validated and re-encoded without metadata here, before anything is written.
        data.banner = image_clean_for_field(data.banner, field="banner")


def _apply(challenge: Challenge, data: ChallengeInput) -> None:
    for name in (
        "title",
        "why_it_matters",
        "starts_at",
        "ends_at",
        "mode",
        "metric",
        "hashtag",
        "network",
        "goal",
        "winners_count",
        "prize",
        "bonus_points",
    ):
        setattr(challenge, name, getattr(data, name))
    replaced = challenge.banner.name
    if data.remove_banner and challenge.banner:
        challenge.banner = ""
    if data.banner is not None:
        challenge.banner.save(data.banner.name or "banner", data.banner, save=False)
    if replaced != challenge.banner.name:
        media_discard_on_commit(replaced)


def _save_relations(challenge: Challenge, data: ChallengeInput) -> None:
    challenge.audience_teams.set(data.audience_teams)
    challenge.contents.set(data.contents)
    challenge.topics.set(data.topics)


def challenge_create(
    *, actor: User, data: ChallengeInput, request: HttpRequest | None = None
) -> Challenge:
    _require_editor(actor)
    _clean(data, actor)
    with transaction.atomic():
        challenge = Challenge(organization_id=actor.organization_id, created_by=actor)
        _apply(challenge, data)
        challenge.save()
        _save_relations(challenge, data)
        audit_record(
            action="challenge.created",
            organization=actor.organization,
            actor=actor,
            target=challenge,
            request=request,
        )
    return challenge


def challenge_update(
    *, actor: User, challenge: Challenge, data: ChallengeInput, request: HttpRequest | None = None
) -> Challenge:
    _require_editor(actor)
    _clean(data, actor)
    with transaction.atomic():
        locked = Challenge.objects.select_for_update().get(pk=challenge.pk)
        if locked.organization_id != actor.organization_id:
            raise PermissionDeniedError(_("This challenge belongs to another organisation."))
        if not locked.is_editable:
            raise ConflictError(_("A challenge can be edited only before it starts."))
        if locked.status == ChallengeStatus.SCHEDULED and data.ends_at <= timezone.now():
            raise DomainError(_("The end must be in the future."), field="ends_at")
        _apply(locked, data)
        locked.save()
        _save_relations(locked, data)
        audit_record(
            action="challenge.updated",
            organization=actor.organization,
            actor=actor,
            target=locked,
            request=request,
        )
    return locked


def challenge_launch(
    *, actor: User, challenge: Challenge, request: HttpRequest | None = None
) -> Challenge:
    """Publish a draft: it starts now if its start has come, else it is scheduled."""
    _require_editor(actor)
    now = timezone.now()
    with transaction.atomic():
        locked = Challenge.objects.select_for_update().get(pk=challenge.pk)
        if locked.organization_id != actor.organization_id:
            raise PermissionDeniedError(_("This challenge belongs to another organisation."))
        if locked.status != ChallengeStatus.DRAFT:
            raise ConflictError(_("Only a draft can be launched."))
        if locked.ends_at <= now:
            raise DomainError(
                _("This challenge would already be over: move its end."), field="ends_at"
            )
        Challenge.objects.filter(pk=locked.pk).update(status=ChallengeStatus.SCHEDULED)
        audit_record(
            action="challenge.launched",
            organization=actor.organization,
            actor=actor,
            target=locked,
            request=request,
        )
    if locked.starts_at <= now:
        challenge_start(challenge_id=locked.pk, now=now)
    locked.refresh_from_db()
    return locked


def challenge_cancel(
    *, actor: User, challenge: Challenge, request: HttpRequest | None = None
) -> Challenge:
    """Stop a challenge that has not ended: no results, no bonus."""
    _require_editor(actor)
    with transaction.atomic():
        updated = Challenge.objects.filter(
            pk=challenge.pk,
            organization_id=actor.organization_id,
            status__in=(ChallengeStatus.DRAFT, ChallengeStatus.SCHEDULED, ChallengeStatus.ACTIVE),
        ).update(status=ChallengeStatus.CANCELLED, cancelled_at=timezone.now())
        if not updated:
            raise ConflictError(_("This challenge has already ended or was cancelled."))
        audit_record(
            action="challenge.cancelled",
            organization=actor.organization,
            actor=actor,
            target=challenge,
            request=request,
        )
    challenge.refresh_from_db()
    return challenge


# --- the state machine ---------------------------------------------------------------------


def challenges_advance(
    *, now: datetime | None = None, organization_id: int | None = None, announce: bool = True
) -> tuple[int, int]:
    """Start every scheduled challenge whose start has come and end every active one
    whose end has passed: (started, ended). Both are quick, so page reads run it too
    (announce=False); the beat task also tells audiences about launches and pays and
    announces results, which can take a while on a large organisation."""
    now = now or timezone.now()
    due = Challenge.objects.filter(
        Q(status__in=(ChallengeStatus.SCHEDULED, ChallengeStatus.ACTIVE), ends_at__lte=now)
        | Q(status=ChallengeStatus.SCHEDULED, starts_at__lte=now)
    )
    if organization_id is not None:
        due = due.filter(organization_id=organization_id)
    started = ended = 0
    for pk, status in due.values_list("pk", "status"):
        if status == ChallengeStatus.SCHEDULED:
            started += challenge_start(challenge_id=pk, now=now)
        ended += challenge_end(challenge_id=pk, now=now)
    if announce:
        waiting = Challenge.objects.filter(
            Q(status=ChallengeStatus.ACTIVE, launch_announced_at__isnull=True)
            | Q(status=ChallengeStatus.ENDED, results_paid_at__isnull=True)
        )
        if organization_id is not None:
            waiting = waiting.filter(organization_id=organization_id)
        for pk, status in waiting.values_list("pk", "status"):
            if status == ChallengeStatus.ACTIVE:
                challenge_announce_launch(challenge_id=pk, now=now)
            else:
                challenge_results_pay(challenge_id=pk, now=now)
    return started, ended


def challenge_start(*, challenge_id: int, now: datetime | None = None) -> bool:
    now = now or timezone.now()
    # Zero rows: another runner started it (or it was cancelled) first.
    updated = Challenge.objects.filter(
        pk=challenge_id, status=ChallengeStatus.SCHEDULED, starts_at__lte=now
    ).update(status=ChallengeStatus.ACTIVE, launched_at=now)
    return bool(updated)


def challenge_end(*, challenge_id: int, now: datetime | None = None) -> bool:
    """End a challenge whose end has passed and freeze its results, once: the conditional
    UPDATE and the results share one transaction, so a second runner finds it ended."""
    now = now or timezone.now()
    with transaction.atomic():
        updated = Challenge.objects.filter(
            pk=challenge_id, status=ChallengeStatus.ACTIVE, ends_at__lte=now
        ).update(status=ChallengeStatus.ENDED, ended_at=now, results_frozen_at=now)
        if not updated:
            return False
        challenge = _loaded(challenge_id)
        _freeze(challenge, metrics.participants_of(challenge))
    return True


def challenge_announce_launch(*, challenge_id: int, now: datetime | None = None) -> bool:
    """Tell the audience a challenge has started, once (claimed with the notifications)."""
    now = now or timezone.now()
    with transaction.atomic():
        claimed = Challenge.objects.filter(
            pk=challenge_id, status=ChallengeStatus.ACTIVE, launch_announced_at__isnull=True
        ).update(launch_announced_at=now)
        if not claimed:
            return False
        challenge = _loaded(challenge_id)
        _announce_launch(challenge)
        transaction.on_commit(
            lambda: challenge_launched.send(sender=Challenge, challenge=challenge), robust=True
        )
    return True


# Results claimed, paid and announced per transaction: large enough that a big
# organisation pays in a few statements, small enough that Score rows are not locked long.
PAY_BATCH = 2000


def challenge_results_pay(*, challenge_id: int, now: datetime | None = None) -> int:
    """Pay and announce the frozen results, a batch at a time: each batch of result rows
    is claimed (locked, skipping those another runner holds, and marked paid) with its
    payments, badges and notifications in one transaction, so every person is paid once,
    and a run that stops halfway is finished by the next one. Set-based: a few statements
    per batch whatever its size. Returns the number of results handled."""
    now = now or timezone.now()
    challenge = _loaded(challenge_id)
    if challenge.status != ChallengeStatus.ENDED:
        return 0
    members: dict[int, set[int]] = {}
    if challenge.mode == ChallengeMode.TEAM:
        members = metrics.participants_of(challenge).members_of
    completion = scoring_points(
        organization_id=challenge.organization_id, event=ScoringEvent.CHALLENGE_COMPLETED
    )
    handled = 0
    while True:
        with transaction.atomic():
            claimed = list(
                ChallengeResult.objects.filter(challenge_id=challenge_id, paid_at__isnull=True)
                .select_for_update(skip_locked=True)
                .order_by("pk")
                .values_list("pk", "user_id", "team_id", "is_winner", "goal_reached")[:PAY_BATCH]
            )
            if not claimed:
                break
            ChallengeResult.objects.filter(pk__in=[row[0] for row in claimed]).update(paid_at=now)
            _pay_batch(challenge, claimed, members, completion)
            handled += len(claimed)
    if not challenge.results.filter(paid_at__isnull=True).exists():
        with transaction.atomic():
            finished = Challenge.objects.filter(
                pk=challenge_id, results_paid_at__isnull=True
            ).update(results_paid_at=now)
            if finished:
                # Once: only the runner that marks the results paid tells the apps above.
                transaction.on_commit(
                    lambda: challenge_results_announced.send(sender=Challenge, challenge=challenge),
                    robust=True,
                )
    return handled


WON, COMPLETED, TOLD = "won", "completed", "told"


def _pay_batch(
    challenge: Challenge,
    claimed: list[tuple[int, int | None, int | None, bool, bool]],
    members: dict[int, set[int]],
    completion: int,
) -> None:
    """The bonus goes to winners (or, with a goal and no ranking, to whoever reached the
    goal); reaching the goal pays the organisation's "challenge completed" points; winners
    get the badge; everyone is told. Each payment has its own source key: never paid
    twice (a person in two winning teams is paid once, told once per team)."""
    people_of = {
        pk: (members.get(team_id, set()) if team_id else {user_id})
        for pk, user_id, team_id, _won, _reached in claimed
    }
    ids = set().union(*people_of.values()) if people_of else set()
    # Members through a Membership (people of several organisations) are paid too, in the
    # challenge's organisation: its id is applied on these (never saved) rows, for the
    # ledger, the Score row and the badge.
    users = {
        user.pk: user
        for user in organization_people(challenge.organization_id)
        .filter(pk__in=ids, is_active=True)
        .only("id", "organization_id", "language", "is_active", "email")
    }
    for user in users.values():
        user.organization_id = challenge.organization_id
    prefix = metrics.bonus_key_prefix(challenge.pk)
    awards: list[Award] = []
    winners: dict[int, User] = {}
    told: dict[tuple[str, str], list[User]] = {}
    for pk, _user_id, _team_id, is_winner, goal_reached in claimed:
        earns_bonus = is_winner if challenge.winners_count else goal_reached
        message = WON if is_winner else COMPLETED if goal_reached else TOLD
        for person_id in sorted(people_of[pk]):
            person = users.get(person_id)
            if person is None:
                continue
            if earns_bonus:
                awards.append(
                    Award(
                        person.pk,
                        PointReason.CHALLENGE_BONUS,
                        challenge.bonus_points,
                        f"{prefix}bonus:{person.pk}",
                        challenge.title,
                    )
                )
            if goal_reached:
                awards.append(
                    Award(
                        person.pk,
                        PointReason.CHALLENGE_COMPLETED,
                        completion,
                        f"{prefix}completed:{person.pk}",
                        challenge.title,
                    )
                )
            if is_winner:
                winners[person.pk] = person
            told.setdefault((message, person.language), []).append(person)
    # The same key twice in one INSERT (a person in two teams) would fail the statement.
    awards = list({award.source_key: award for award in awards}.values())
    points_award_many(
        organization=challenge.organization,
        users=users,
        awards=awards,
        occurred_at=challenge.ends_at,
    )
    badges_award_many(
        users=list(winners.values()),
        badge=BadgeKind.CHALLENGE_WINNER,
        keys={pk: f"challenge_winner:{challenge.pk}:{pk}" for pk in winners},
        awarded_at=challenge.ends_at,
    )
    url = reverse("challenge_detail", args=[challenge.pk])
    for (message, language), people in sorted(told.items()):
        with translation.override(language):
            if message == WON:
                title = _("You won the challenge “%(title)s”!") % {"title": challenge.title}
                body = challenge.prize
            elif message == COMPLETED:
                title = _("You completed the challenge “%(title)s”") % {"title": challenge.title}
                body = ""
            else:
                title = _("The results of “%(title)s” are out") % {"title": challenge.title}
                body = ""
            notification_create_many(
                recipients=people, kind=KIND_RESULTS, title=title, body=body, url=url
            )


def _loaded(challenge_id: int) -> Challenge:
    return (
        Challenge.objects.select_related("organization")
        .prefetch_related("audience_teams", "contents", "topics")
        .get(pk=challenge_id)
    )


def _hidden_ids(organization_id: int) -> set[int]:
    return set(
        Score.objects.filter(
            organization_id=organization_id, hidden_from_rankings=True
        ).values_list("user_id", flat=True)
    )


def _freeze(challenge: Challenge, participants: metrics.Participants) -> list[ChallengeResult]:
    scope = metrics.scope_content_ids([challenge])[challenge.pk]
    values = {
        user_id: value
        for user_id, value in metrics.values_by_user(challenge, scope).items()
        if user_id in participants.user_ids
    }
    goal = Decimal(challenge.goal) if challenge.goal else None
    results: list[ChallengeResult] = []
    if challenge.mode == ChallengeMode.TEAM:
        teams = metrics.team_values(values, participants)
        for standing in metrics.standings({t: v for t, (v, _n) in teams.items()}):
            results.append(
                ChallengeResult(
                    challenge=challenge,
                    team_id=standing.key,
                    value=standing.value,
                    members=teams[standing.key][1],
                    rank=standing.rank,
                    is_winner=standing.value > 0 and standing.rank <= challenge.winners_count,
                    goal_reached=goal is not None and standing.value >= goal,
                )
            )
    else:
        hidden = _hidden_ids(challenge.organization_id)
        public = {u: Decimal(v) for u, v in values.items() if v > 0 and u not in hidden}
        ranked = list(public.values())
        for standing in metrics.standings(public):
            results.append(
                ChallengeResult(
                    challenge=challenge,
                    user_id=standing.key,
                    value=standing.value,
                    rank=standing.rank,
                    is_winner=standing.rank <= challenge.winners_count,
                    goal_reached=goal is not None and standing.value >= goal,
                )
            )
        # Hidden people are ranked where they would stand, but winners are announced in
        # public, so they can complete the goal and not take a winner's place.
        for user_id in hidden:
            value = Decimal(values.get(user_id, 0))
            if value > 0:
                results.append(
                    ChallengeResult(
                        challenge=challenge,
                        user_id=user_id,
                        value=value,
                        rank=metrics.rank_of(value, ranked),
                        goal_reached=goal is not None and value >= goal,
                        hidden=True,
                    )
                )
    ChallengeResult.objects.bulk_create(results)
    return results


def _announce_launch(challenge: Challenge) -> None:
    participants = metrics.participants_of(challenge)
    url = reverse("challenge_detail", args=[challenge.pk])
    by_language: dict[str, list[User]] = {}
    for user in User.objects.filter(pk__in=participants.user_ids):
        by_language.setdefault(user.language, []).append(user)
    # One bulk call per language: rows, emails and pushes created in batches, not per person.
    for language, recipients in by_language.items():
        with translation.override(language):
            notification_create_many(
                recipients=recipients,
                kind=KIND_LAUNCHED,
                title=_("New challenge: %(title)s") % {"title": challenge.title},
                body=challenge.why_it_matters[:500],
                url=url,
            )


def challenge_input_from(challenge: Challenge, **changes: Any) -> ChallengeInput:
    """The challenge's current values as an input, with some changed (API partial updates)."""
    data = ChallengeInput(
        title=challenge.title,
        starts_at=challenge.starts_at,
        ends_at=challenge.ends_at,
        why_it_matters=challenge.why_it_matters,
        audience_teams=list(challenge.audience_teams.all()),
        mode=challenge.mode,
        metric=challenge.metric,
        contents=list(challenge.contents.all()),
        topics=list(challenge.topics.all()),
        hashtag=challenge.hashtag,
        network=challenge.network,
        goal=challenge.goal,
        winners_count=challenge.winners_count,
        prize=challenge.prize,
        bonus_points=challenge.bonus_points,
    )
    for name, value in changes.items():
        setattr(data, name, value)
    return data
