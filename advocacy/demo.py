"""Demo sharing for `seed_demo`: three months of shares of the demo library by about 35 of
the 60 people (a few champions, many occasional sharers, some who never share), in every
state a share reaches, their tracked links, and the clicks those links received.

Idempotent: each share is keyed on a uuid5 of (person, content, network, purpose) stored
as its `idempotency_key`, so a second run finds every key and creates nothing; a later run
only adds shares of content published since. Randomness is seeded per person and per
(person, content), so the same database gets the same demo.

History is written with `bulk_create` and dated with plain updates, as the content demo
does: the pipeline is not run (no network calls, no notifications), and the activity rows
are written without sending `activity_recorded`. A feature that derives data from the
activity feed (points, statistics) seeds its demo from the Activity rows, not the signal.

The demo employee login has no share and no connected account (the visitor can connect and
share for the first time); the demo manager login has a connected LinkedIn account and a
history of shares. The other logins have not accepted the charter, so they never shared.
"""

from __future__ import annotations

import hashlib
import logging
import math
import random
import uuid
import zlib
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from advocacy.links import destination_validate
from advocacy.models import (
    LIVE_STATUSES,
    AccountStatus,
    Activity,
    ActivityKind,
    AttemptKind,
    Click,
    PostingSlot,
    Share,
    ShareAttempt,
    ShareMode,
    ShareStatus,
    SocialAccount,
    TrackedLink,
)
from advocacy.services.sharing import campaign_slug
from advocacy.token_vault import token_encrypt
from content import compliance
from content.models import (
    CharterAcceptance,
    Content,
    ContentStatus,
    Guideline,
    GuidelineKind,
    Network,
)
from content.selectors import caption_for
from content.services import compliance_rules_for
from organizations.errors import DomainError
from organizations.models import Organization, Team, User

logger = logging.getLogger(__name__)

DEMO_DOMAIN = "demo.portevoix.test"
# Keys of demo rows: stable across runs and databases.
NAMESPACE = uuid.UUID("5f0c1f9e-3a57-4d8e-9c41-7e2b6d0a9b11")
WINDOW = timedelta(days=90)
SANDBOX_DEFAULT = "http://127.0.0.1:8025"
SHARERS = 35
CHAMPIONS, REGULARS = 4, 9
# The logins a visitor uses. Only the manager has a sharing history (and one connected
# account); the employee's first share and first connection are left to the visitor.
LOGINS = ("admin", "comms", "reviewer", "manager", "employee")
REFERRERS: dict[str, tuple[str, ...]] = {
    Network.LINKEDIN: ("www.linkedin.com", "www.linkedin.com", "lnkd.in", ""),
    Network.X: ("t.co", "t.co", "x.com", ""),
    Network.FACEBOOK: ("l.facebook.com", "m.facebook.com", "lm.facebook.com", ""),
}
# Mean clicks a published share with a link gets, before the sharer's reach and the
# content's appeal.
CLICK_BASE: dict[str, float] = {Network.LINKEDIN: 16.0, Network.X: 7.0, Network.FACEBOOK: 11.0}
SLOT_PATTERNS = (
    ((1, time(8, 30)), (3, time(8, 30)), (4, time(12, 15))),
    ((0, time(9, 0)), (2, time(9, 0)), (4, time(9, 0))),
    ((1, time(12, 30)), (3, time(18, 0))),
    ((0, time(8, 0)), (1, time(8, 0)), (2, time(8, 0)), (3, time(8, 0)), (4, time(8, 0))),
    ((2, time(17, 45)), (5, time(10, 0))),
)


def _rng(*parts: object) -> random.Random:
    # A string seed is hashed with SHA-512: the same draws on every run and machine.
    return random.Random("|".join(str(part) for part in parts))  # noqa: S311 - demo data


def _key(*parts: object) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, "|".join(str(part) for part in parts))


@dataclass
class Plan:
    """One share to create, with what happened to it."""

    user: User
    content: Content
    network: str
    mode: str
    status: str
    key: uuid.UUID
    at: datetime  # posted, opened, or planned for
    created_at: datetime
    published_at: datetime | None = None
    # (kind, outcome, status code, body, started) per attempt, oldest first.
    attempts: list[tuple[str, str, int | None, str, datetime]] = field(default_factory=list)
    last_error: str = ""
    recalled_at: datetime | None = None
    share: Share | None = None


@dataclass
class Person:
    user: User
    level: str  # "champion", "regular" or "occasional"
    actions: int
    reach: float
    teams: set[int]
    first_team: int | None
    networks: tuple[str, ...] = ()  # connected accounts


def seed_demo_shares(sender: object, organization: Organization, **kwargs: Any) -> None:
    people = list(
        User.objects.filter(organization=organization, is_active=True)
        .prefetch_related("teams")
        .order_by("email")
    )
    logins = {
        user.email.split("@")[0]: user
        for user in people
        if user.email.endswith(f"@{DEMO_DOMAIN}") and user.email.split("@")[0] in LOGINS
    }
    if "manager" not in logins or "employee" not in logins:
        logger.warning("Demo shares skipped: the demo people are missing.")
        return
    with transaction.atomic():
        _DemoSharing(organization, people, logins).run()


class _DemoSharing:
    def __init__(self, organization: Organization, people: list[User], logins: dict[str, User]):
        self.organization = organization
        self.people = people
        self.manager = logins["manager"]
        self.logins = {user.pk for user in logins.values()}
        self.now = timezone.now()
        self.clicks_until = self.now - timedelta(
            seconds=settings.POINTS_CLICK_SETTLE_SECONDS, hours=1
        )
        self.zone = ZoneInfo(organization.time_zone)
        self.base_url = (settings.SANDBOX_NETWORK_URL or SANDBOX_DEFAULT).rstrip("/")
        self.rules = compliance_rules_for(organization)
        self.plans: list[Plan] = []
        # The posting slots of the people with a queued share.
        self.slotted: dict[int, tuple[tuple[int, time], ...]] = {}

    # --- who shares what ------------------------------------------------------------------

    def run(self) -> None:
        contents = self._contents()
        sharers = self._sharers()
        if not contents or not sharers:
            return
        for person in sharers:
            self._plan_person(person, contents)
        self._plan_withdrawn(sharers, contents)
        self._plan_manager()
        self._plan_problems()
        self._plan_scheduled(sharers, contents)
        self._plan_recalls()
        self._write(sharers)

    def _contents(self) -> list[Content]:
        """What was on the feed at some point of the last three months (withdrawn content
        included: it was shared before its withdrawal)."""
        contents = (
            Content.objects.filter(
                organization=self.organization,
                status__in=[ContentStatus.APPROVED, ContentStatus.WITHDRAWN],
                publish_at__lte=self.now - timedelta(hours=2),
            )
            .prefetch_related("captions", "audience_teams")
            .order_by("publish_at", "pk")
        )
        return [c for c in contents if c.expires_at is None or c.expires_at > self.now - WINDOW]

    def _sharers(self) -> list[Person]:
        charter = Guideline.objects.filter(
            organization=self.organization, kind=GuidelineKind.CHARTER
        ).first()
        accepted = (
            set(
                CharterAcceptance.objects.filter(guideline=charter).values_list(
                    "user_id", flat=True
                )
            )
            if charter
            else {user.pk for user in self.people}
        )
        # Only people who accepted the charter can share; of the demo logins, only the
        # manager has a history.
        candidates = [
            user
            for user in self.people
            if user.pk in accepted and (user.pk not in self.logins or user == self.manager)
        ]
        candidates.sort(key=lambda user: (user != self.manager, _rng(user.email).random()))
        parents = dict(
            Team.objects.filter(organization=self.organization).values_list("id", "parent_id")
        )
        persons = []
        for rank, user in enumerate(candidates[:SHARERS]):
            rng = _rng(user.email, "level")
            if user == self.manager:
                level, actions, reach = "regular", 12, 1.2
            elif rank <= CHAMPIONS:
                level, actions, reach = "champion", rng.randint(22, 30), rng.uniform(1.4, 2.2)
            elif rank <= CHAMPIONS + REGULARS:
                level, actions, reach = "regular", rng.randint(8, 13), rng.uniform(0.8, 1.3)
            else:
                level, actions, reach = "occasional", rng.randint(1, 4), rng.uniform(0.4, 0.9)
            own = sorted(team.pk for team in user.teams.all())
            reachable: set[int] = set()
            for team_id in own:
                current: int | None = team_id
                while current is not None and current not in reachable:
                    reachable.add(current)
                    current = parents.get(current)
            person = Person(user, level, actions, reach, reachable, own[0] if own else None)
            # Champions and most regulars let the app post for them; the manager login on
            # LinkedIn only, so that connecting X can be tried in the demo.
            if user == self.manager:
                person.networks = (Network.LINKEDIN,)
            elif (
                level == "champion"
                or (level == "regular" and rng.random() < 0.8)
                or (level == "occasional" and rng.random() < 0.1)
            ):
                person.networks = (
                    (Network.LINKEDIN, Network.X) if rng.random() < 0.5 else (Network.LINKEDIN,)
                )
            persons.append(person)
        return persons

    def _window(self, content: Content) -> tuple[datetime, datetime] | None:
        start = max(content.publish_at, self.now - WINDOW)
        end = self.now - timedelta(minutes=40)
        if content.expires_at is not None:
            end = min(end, content.expires_at - timedelta(hours=1))
        if content.status == ContentStatus.WITHDRAWN:
            end = min(end, self._withdrawn_at(content) - timedelta(hours=1))
        return (start, end) if start < end else None

    def _withdrawn_at(self, content: Content) -> datetime:
        # The content demo withdraws at seed time without dating it; the demo places the
        # withdrawal a few days after publication, so the content was shared before.
        return min(content.publish_at + timedelta(days=4), self.now - timedelta(days=1))

    def _visible(self, person: Person, content: Content) -> bool:
        audience = {team.pk for team in content.audience_teams.all()}
        return not audience or bool(audience & person.teams)

    def _appeal(self, content: Content) -> float:
        # In calendar days of the organisation: a whole-day age computed from the clock
        # would step up at each content's publication time of day, and a rerun straddling
        # one would re-rank the choices and add shares.
        age = (
            self.now.astimezone(self.zone).date() - content.publish_at.astimezone(self.zone).date()
        ).days
        appeal = 1.0 + max(0.0, 14 - age) / 10
        if content.pinned:
            appeal *= 1.8
        if content.evergreen:
            appeal *= 0.5
        if content.audience_teams.all():
            appeal *= 1.3  # aimed at the reader's department
        return appeal

    def _plan_person(self, person: Person, contents: list[Content]) -> None:
        user = person.user
        # Weighted sampling by a per-(person, content) draw: a content published later adds
        # one candidate without reshuffling the others' choices.
        ranked = []
        for content in contents:
            window = self._window(content)
            if window is None or not self._visible(person, content):
                continue
            weight = self._appeal(content) * (1.3 if content.language == user.language else 1.0)
            draw = _rng(user.email, content.title).random()
            ranked.append((draw ** (1 / weight), content, window))
        ranked.sort(key=lambda item: -item[0])
        for _score, content, (start, end) in ranked[: person.actions]:
            rng = _rng(user.email, content.title, "share")
            at = self._moment(rng, start, end)
            networks = self._networks(rng, person, content)
            for network in networks:
                mode = (
                    ShareMode.API
                    if network in person.networks and rng.random() > 0.12
                    else ShareMode.LINK
                )
                self.plans.append(self._past(rng, person, content, network, mode, at))
                at = min(at + timedelta(minutes=rng.randint(1, 50)), end)

    def _networks(self, rng: random.Random, person: Person, content: Content) -> list[str]:
        offered = {caption.network for caption in content.captions.all()}
        chosen: list[str] = []
        if Network.LINKEDIN in offered and rng.random() < 0.9:
            chosen.append(Network.LINKEDIN)
        if Network.X in offered and rng.random() < (0.6 if Network.X in person.networks else 0.2):
            chosen.append(Network.X)
        if Network.FACEBOOK in offered and rng.random() < 0.3:
            chosen.append(Network.FACEBOOK)
        if not chosen and offered:
            chosen.append(Network.LINKEDIN if Network.LINKEDIN in offered else sorted(offered)[0])
        return chosen

    def _moment(self, rng: random.Random, start: datetime, end: datetime) -> datetime:
        """Most shares come within two days of publication; in waking hours."""
        span = (end - start).total_seconds()
        delay = min(rng.expovariate(1 / (36 * 3600)), span * rng.uniform(0.6, 1.0))
        local = (start + timedelta(seconds=delay)).astimezone(self.zone)
        if local.hour < 7:
            local = local.replace(hour=7 + rng.randint(0, 2), minute=rng.randint(0, 59))
        elif local.hour >= 22:
            local = (local + timedelta(days=1)).replace(
                hour=8 + rng.randint(0, 2), minute=rng.randint(0, 59)
            )
        return min(max(local, start + timedelta(minutes=5)), end)

    def _past(
        self,
        rng: random.Random,
        person: Person,
        content: Content,
        network: str,
        mode: str,
        at: datetime,
    ) -> Plan:
        key = _key(self.organization.slug, person.user.email, content.title, network, "share")
        if mode == ShareMode.API:
            queued = rng.random() < 0.25  # waited for a posting slot
            created = at - (timedelta(hours=rng.randint(3, 30)) if queued else timedelta(0))
            plan = Plan(
                person.user, content, network, mode, ShareStatus.PUBLISHED, key, at, created
            )
            plan.published_at = at + timedelta(seconds=rng.randint(1, 6))
            if rng.random() < 0.06:
                # Throttled once, posted on the retry.
                plan.attempts.append(
                    (AttemptKind.PUBLISH, "retry_later", 429, '{"title": "Too Many Requests"}', at)
                )
                plan.published_at = at + timedelta(seconds=rng.randint(40, 90))
            plan.attempts.append(
                (
                    AttemptKind.PUBLISH,
                    "published",
                    201,
                    "",
                    plan.published_at - timedelta(seconds=1),
                )
            )
            return plan
        plan = Plan(person.user, content, network, mode, ShareStatus.PUBLISHED, key, at, at)
        confirmed = at + timedelta(minutes=rng.randint(2, 90))
        recent = self.now - at < timedelta(days=3)
        if confirmed >= self.now or (recent and rng.random() < 0.5):
            plan.status = ShareStatus.AWAITING_CONFIRMATION  # opened, not confirmed yet
        else:
            plan.published_at = confirmed
        return plan

    def _plan_withdrawn(self, sharers: list[Person], contents: list[Content]) -> None:
        """Each withdrawn content was shared before its withdrawal, at least once posted
        for the employee and once by a share link, so that both recall paths show."""
        for content in contents:
            window = self._window(content)
            if content.status != ContentStatus.WITHDRAWN or window is None:
                continue
            network = next(iter(sorted({c.network for c in content.captions.all()})), "")
            if Network.LINKEDIN in {c.network for c in content.captions.all()}:
                network = Network.LINKEDIN
            if not network:
                continue
            planned = {plan.user.pk: plan.mode for plan in self.plans if plan.content == content}
            modes = set(planned.values())
            ordered = sorted(
                (p for p in sharers if self._visible(p, content) and p.user.pk not in planned),
                key=lambda p: _rng(p.user.email, content.title, "recall").random(),
            )
            for mode in (ShareMode.API, ShareMode.LINK):
                if mode in modes:
                    continue
                person = next(
                    (
                        p
                        for p in ordered
                        if (network in p.networks) == (mode == ShareMode.API)
                        and p.user.pk not in planned
                    ),
                    None,
                )
                if person is None:
                    continue
                planned[person.user.pk] = mode
                rng = _rng(person.user.email, content.title, "share")
                at = self._moment(rng, *window)
                self.plans.append(self._past(rng, person, content, network, mode, at))

    def _plan_manager(self) -> None:
        """The manager login opened a share link lately and has not confirmed it yet: the
        demo shows the question."""
        links = [
            plan
            for plan in self.plans
            if plan.user == self.manager
            and plan.mode == ShareMode.LINK
            and plan.content.status == ContentStatus.APPROVED
        ]
        if links:
            plan = max(links, key=lambda plan: plan.at)
            self._unpublish(plan, ShareStatus.AWAITING_CONFIRMATION)

    # --- what went wrong, what waits, what was withdrawn ------------------------------------

    def _plan_problems(self) -> None:
        """A few API shares did not go out: failed, unknown outcome, needs reconnecting."""
        candidates = sorted(
            (
                plan
                for plan in self.plans
                if plan.mode == ShareMode.API
                and plan.status == ShareStatus.PUBLISHED
                and plan.user != self.manager
                and plan.content.status == ContentStatus.APPROVED
                and len(plan.attempts) == 1
            ),
            key=lambda plan: plan.key.hex,
        )
        used: set[uuid.UUID] = set()

        def take(recent: timedelta, network: str = "") -> Plan | None:
            for plan in candidates:
                fits = self.now - plan.at < recent and (not network or plan.network == network)
                if plan.key not in used and fits:
                    used.add(plan.key)
                    return plan
            return None

        # Needs reconnect: the latest X share of someone whose X token was revoked.
        by_user: dict[int, Plan] = {}
        for plan in self.plans:
            mine = by_user.get(plan.user.pk)
            if (
                plan.network == Network.X
                and plan.mode == ShareMode.API
                and (mine is None or mine.at < plan.at)
            ):
                by_user[plan.user.pk] = plan
        latest = sorted(
            (plan for plan in by_user.values() if plan.key in {c.key for c in candidates}),
            key=lambda plan: plan.at,
            reverse=True,
        )
        if latest:
            plan = latest[0]
            used.add(plan.key)
            self._unpublish(plan, ShareStatus.NEEDS_RECONNECT)
            plan.attempts = [
                (
                    AttemptKind.PUBLISH,
                    "needs_reconnect",
                    401,
                    '{"title": "Unauthorized", "detail": "The token was revoked."}',
                    plan.at,
                )
            ]
            plan.last_error = "The network refused the token (post)."
        for index in range(3):
            failing = take(timedelta(days=20))
            if failing is None:
                break
            self._unpublish(failing, ShareStatus.FAILED)
            if index == 2:
                failing.attempts = [
                    (
                        AttemptKind.PUBLISH,
                        "rejected",
                        409,
                        '{"title": "Duplicate", "detail": "You already posted this."}',
                        failing.at,
                    )
                ]
                failing.last_error = "You already posted this."
                continue
            # Every try the pipeline allows, backing off, each answered 503.
            failing.attempts, started = [], failing.at
            for attempt in range(settings.SHARE_MAX_ATTEMPTS):
                failing.attempts.append(
                    (
                        AttemptKind.PUBLISH,
                        "retry_later",
                        503,
                        '{"title": "Service Unavailable"}',
                        started,
                    )
                )
                started += timedelta(seconds=30 * 2**attempt)
            failing.last_error = "The network answered 503."
        unknown = take(timedelta(days=4)) or take(timedelta(days=28))
        if unknown is not None:
            self._unpublish(unknown, ShareStatus.OUTCOME_UNKNOWN)
            unknown.attempts = [
                (
                    AttemptKind.PUBLISH,
                    "unknown",
                    None,
                    "The network did not answer in time.",
                    unknown.at,
                )
            ]
            unknown.last_error = "The network did not answer in time."

    @staticmethod
    def _unpublish(plan: Plan, status: str) -> None:
        plan.status, plan.published_at = status, None

    def _plan_scheduled(self, sharers: list[Person], contents: list[Content]) -> None:
        """Shares waiting for their posting slot in the coming days, and two cancelled."""
        shared = {(plan.user.pk, plan.content.pk, plan.network) for plan in self.plans}
        blocked = {
            plan.user.pk for plan in self.plans if plan.status == ShareStatus.NEEDS_RECONNECT
        }
        open_now = [
            content
            for content in contents
            if content.status == ContentStatus.APPROVED and content.expires_at is None
        ]
        open_now.sort(key=lambda content: content.publish_at, reverse=True)
        connected = sorted(
            (person for person in sharers if person.networks and person.user.pk not in blocked),
            key=lambda person: (person.user != self.manager, _rng(person.user.email, "q").random()),
        )
        for index, person in enumerate(connected[:8]):
            scheduled = index < 6
            network = person.networks[-1] if index % 3 == 1 else Network.LINKEDIN
            content = next(
                (
                    c
                    for c in open_now
                    if (person.user.pk, c.pk, network) not in shared
                    and self._visible(person, c)
                    and any(caption.network == network for caption in c.captions.all())
                ),
                None,
            )
            if content is None:
                continue
            shared.add((person.user.pk, content.pk, network))
            rng = _rng(person.user.email, content.title, network, "queue")
            if scheduled:
                slots = SLOT_PATTERNS[index % len(SLOT_PATTERNS)]
                self.slotted[person.user.pk] = slots
                at = self._next_slot(person.user, slots)
                created = self.now - timedelta(hours=rng.randint(1, 20))
                purpose, status, error = "queued", ShareStatus.SCHEDULED, ""
            else:
                window = self._window(content)
                if window is None:
                    continue
                start, end = window
                # Queued for a morning slot, then cancelled before it came.
                at = (start + (end - start) * rng.uniform(0.3, 0.9)).astimezone(self.zone)
                slot = at.replace(hour=8, minute=30, second=0, microsecond=0)
                at = slot if start < slot < end else at
                created = max(start, at - timedelta(hours=rng.randint(4, 30)))
                purpose, status = "cancelled", ShareStatus.CANCELLED
                with translation.override(person.user.language):
                    error = _("Cancelled by you.")
            key = _key(self.organization.slug, person.user.email, content.title, network, purpose)
            plan = Plan(person.user, content, network, ShareMode.API, status, key, at, created)
            plan.last_error = error
            self.plans.append(plan)

    def _next_slot(self, user: User, slots: tuple[tuple[int, time], ...]) -> datetime:
        start = (self.now + timedelta(hours=1)).astimezone(self.zone)
        for offset in range(15):
            day = (start + timedelta(days=offset)).date()
            for weekday, moment in slots:
                slot = datetime.combine(day, moment, tzinfo=self.zone)
                if weekday == day.weekday() and slot >= start:
                    # The per-person second the queue adds, so colleagues do not collide.
                    return slot + timedelta(seconds=zlib.crc32(f"{user.pk}".encode()) % 60)
        return start + timedelta(days=1)

    def _plan_recalls(self) -> None:
        """Shares of withdrawn content: what was posted for the employee was deleted, what
        they posted themselves they were asked to delete."""
        for plan in self.plans:
            if plan.content.status != ContentStatus.WITHDRAWN:
                continue
            withdrawn = self._withdrawn_at(plan.content)
            if plan.status == ShareStatus.PUBLISHED and plan.mode == ShareMode.API:
                plan.status, plan.recalled_at = ShareStatus.RECALLED, withdrawn
                plan.attempts.append(
                    (AttemptKind.DELETE, "deleted", 204, "", withdrawn + timedelta(seconds=2))
                )
            elif plan.status in (ShareStatus.PUBLISHED, ShareStatus.AWAITING_CONFIRMATION):
                plan.recalled_at = withdrawn if plan.published_at else None
                plan.status = ShareStatus.RECALL_ASKED
            elif plan.status in (
                ShareStatus.SCHEDULED,
                ShareStatus.FAILED,
                ShareStatus.NEEDS_RECONNECT,
            ):
                plan.status = ShareStatus.CANCELLED
                with translation.override(plan.user.language):
                    plan.last_error = _("The content was withdrawn.")

    # --- writing ----------------------------------------------------------------------------

    def _write(self, sharers: list[Person]) -> None:
        keys = [plan.key for plan in self.plans]
        existing = set(
            Share.objects.filter(idempotency_key__in=keys).values_list("idempotency_key", flat=True)
        )
        live = set(
            Share.objects.filter(
                organization=self.organization, status__in=LIVE_STATUSES
            ).values_list("user_id", "content_id", "network")
        )
        new = [
            plan
            for plan in self.plans
            if plan.key not in existing
            and not (
                plan.status in LIVE_STATUSES
                and (plan.user.pk, plan.content.pk, plan.network) in live
            )
        ]
        if not new:
            return
        persons = {person.user.pk: person for person in sharers}
        accounts = self._accounts(new, persons)
        self._slots()
        # A person who disconnected an account since has no new share through it.
        new = [
            plan
            for plan in new
            if plan.mode != ShareMode.API or (plan.user.pk, plan.network) in accounts
        ]
        shares = [self._share(plan, accounts) for plan in new]
        Share.objects.bulk_create(shares)
        self._ensure_pks(shares, Share, "idempotency_key")
        for plan, share in zip(new, shares, strict=True):
            plan.share = share
            share.created_at, share.updated_at = plan.created_at, self._updated(plan)
        Share.objects.bulk_update(shares, ["created_at", "updated_at"], batch_size=500)

        ShareAttempt.objects.bulk_create(
            ShareAttempt(
                share=plan.share,
                kind=kind,
                outcome=outcome,
                status_code=code,
                body=body or (self._post_body(plan) if outcome == "published" else ""),
                duration_ms=_rng(plan.key, started).randint(120, 900)
                if outcome != "unknown"
                else 10_000,
                started_at=started,
            )
            for plan in new
            for kind, outcome, code, body, started in plan.attempts
        )
        links = self._links(new)
        clicks = self._clicks(new, links, persons)
        self._activities(new, clicks)

    def _accounts(
        self, plans: list[Plan], persons: dict[int, Person]
    ) -> dict[tuple[int, str], SocialAccount]:
        """Connected sandbox accounts of the people whose new shares go through the API."""
        wanted = {(plan.user.pk, plan.network) for plan in plans if plan.mode == ShareMode.API}
        accounts = {
            (account.user_id, account.network): account
            for account in SocialAccount.objects.filter(organization=self.organization)
        }
        revoked = {
            (plan.user.pk, plan.network)
            for plan in plans
            if plan.status == ShareStatus.NEEDS_RECONNECT
        }
        # Someone who already shares and has no account disconnected it: keep it so.
        sharing = set(
            Share.objects.filter(organization=self.organization).values_list("user_id", flat=True)
        )
        created = []
        for user_id, network in sorted(wanted - set(accounts)):
            if user_id in sharing:
                continue
            user = persons[user_id].user
            handle = f"{user.email.split('@')[0]}-{network}"
            token = f"sandbox-demo:{handle}"
            first = min(
                p.created_at for p in plans if p.user.pk == user_id and p.network == network
            )
            account = SocialAccount(
                organization=self.organization,
                user=user,
                network=network,
                adapter="sandbox",
                external_id=f"sbx-{handle}",
                display_name=user.get_full_name() or handle,
                access_token=token_encrypt(token),
                refresh_token=token_encrypt(token),
                expires_at=self.now + timedelta(days=3650),
                status=AccountStatus.NEEDS_RECONNECT
                if (user_id, network) in revoked
                else AccountStatus.ACTIVE,
            )
            account.connected_at = first - timedelta(days=_rng(handle).randint(3, 40))
            created.append(account)
        SocialAccount.objects.bulk_create(created)
        self._ensure_pks(created, SocialAccount, "external_id")
        for account in created:
            SocialAccount.objects.filter(pk=account.pk).update(connected_at=account.connected_at)
            accounts[(account.user_id, account.network)] = account
        return accounts

    def _slots(self) -> None:
        with_slots = set(
            PostingSlot.objects.filter(user_id__in=list(self.slotted)).values_list(
                "user_id", flat=True
            )
        )
        PostingSlot.objects.bulk_create(
            PostingSlot(user_id=user_id, weekday=weekday, time=moment)
            for user_id, slots in self.slotted.items()
            if user_id not in with_slots
            for weekday, moment in slots
        )

    def _share(self, plan: Plan, accounts: dict[tuple[int, str], SocialAccount]) -> Share:
        caption = caption_for(plan.content, plan.network, plan.user)
        text = caption.text if caption else plan.content.title
        api = plan.mode == ShareMode.API
        external_id = _key(plan.key, "post").hex[:12] if plan.published_at and api else ""
        tried = bool(plan.attempts)
        first_try = plan.attempts[0][4] if tried else None
        return Share(
            organization=self.organization,
            user=plan.user,
            content=plan.content,
            network=plan.network,
            mode=plan.mode,
            account=accounts.get((plan.user.pk, plan.network)) if api else None,
            text=compliance.caption_with_disclosure(text=text, disclosure=self.rules.disclosure),
            status=plan.status,
            scheduled_at=plan.at,
            next_attempt_at=plan.at if api else None,
            dispatched_at=first_try,
            claimed_at=plan.attempts[-1][4] if tried else None,
            request_sent_at=plan.attempts[-1][4] if tried else None,
            attempt_count=sum(1 for a in plan.attempts if a[0] == AttemptKind.PUBLISH),
            idempotency_key=plan.key,
            external_id=external_id,
            external_url=f"{self.base_url}/p/{external_id}" if external_id else "",
            published_at=plan.published_at,
            last_error=plan.last_error,
        )

    def _post_body(self, plan: Plan) -> str:
        assert plan.share is not None
        if not plan.share.external_id:
            return ""
        return (f'{{"id": "{plan.share.external_id}", "url": "{plan.share.external_url}"}}')[:500]

    def _updated(self, plan: Plan) -> datetime:
        moments = [plan.created_at, plan.at if plan.at <= self.now else plan.created_at]
        moments += [attempt[4] for attempt in plan.attempts]
        if plan.published_at:
            moments.append(plan.published_at)
        if plan.recalled_at:
            moments.append(plan.recalled_at)
        return min(max(moments), self.now)

    def _links(self, plans: list[Plan]) -> dict[uuid.UUID, TrackedLink]:
        links: dict[uuid.UUID, TrackedLink] = {}
        for plan in plans:
            if not plan.content.link_url:
                continue
            try:
                destination = destination_validate(plan.content.link_url)
            except DomainError:
                continue
            links[plan.key] = TrackedLink(
                organization=self.organization,
                share=plan.share,
                code=_code(plan.key),
                destination=destination,
                utm_source=plan.network,
                utm_campaign=campaign_slug(plan.content),
            )
        created = list(links.values())
        TrackedLink.objects.bulk_create(created)
        self._ensure_pks(created, TrackedLink, "code")
        for plan in plans:
            if plan.key in links:
                links[plan.key].created_at = plan.created_at
        TrackedLink.objects.bulk_update(created, ["created_at"], batch_size=500)
        return links

    def _clicks(
        self, plans: list[Plan], links: dict[uuid.UUID, TrackedLink], persons: dict[int, Person]
    ) -> list[Click]:
        """Clicks on what was posted: most in the first day, fewer each day after."""
        clicks: list[Click] = []
        for plan in plans:
            link = links.get(plan.key)
            if link is None or plan.published_at is None:
                continue
            person = persons.get(plan.user.pk)
            rng = _rng(plan.key, "clicks")
            # No click inside the points' settle window (and an hour of margin): a click
            # that settles between two runs would be paid by the second, so a rerun would
            # change the demo depending on the moment it runs.
            until = min(plan.recalled_at or self.now, self.clicks_until)
            mean = (
                CLICK_BASE[plan.network]
                * (person.reach if person else 1.0)
                * self._appeal(plan.content)
                / 1.6
            )
            count = max(0, round(rng.lognormvariate(math.log(mean), 0.5)))
            visitors: list[str] = []
            for index in range(count):
                delay = timedelta(hours=rng.expovariate(1 / 20) + rng.random() / 4)
                at = plan.published_at + delay
                if at >= until:
                    continue
                is_self = rng.random() < 0.02
                if is_self:
                    visitor = _visitor("self", plan.user.pk, at.date())
                elif visitors and rng.random() < 0.06:
                    visitor = rng.choice(visitors)  # the same reader, back again
                else:
                    visitor = _visitor(plan.key, index)
                    visitors.append(visitor)
                clicks.append(
                    Click(
                        event_id=_key(plan.key, "click", index),
                        organization=self.organization,
                        link=link,
                        share=plan.share,
                        content=plan.content,
                        sharer=plan.user,
                        team_id=person.first_team if person else None,
                        network=plan.network,
                        visitor=visitor,
                        is_self=is_self,
                        referrer_host=rng.choice(REFERRERS[plan.network]),
                        clicked_at=at,
                    )
                )
        Click.objects.bulk_create(clicks, batch_size=500)
        self._ensure_pks(clicks, Click, "event_id")
        for click in clicks:
            click.recorded_at = click.clicked_at + timedelta(seconds=1)
        Click.objects.bulk_update(clicks, ["recorded_at"], batch_size=500)
        return clicks

    def _activities(self, plans: list[Plan], clicks: list[Click]) -> None:
        """The feed as the pipeline writes it (same kinds and source keys), without the
        signal."""
        rows = []

        def add(kind: str, share: Share, at: datetime, click: Click | None = None) -> None:
            rows.append(
                Activity(
                    organization=self.organization,
                    kind=kind,
                    source_key=f"{kind}:{click.event_id if click else share.pk}",
                    user_id=share.user_id,
                    share=share,
                    content_id=share.content_id,
                    click=click,
                    network=share.network,
                    occurred_at=at,
                )
            )

        for plan in plans:
            assert plan.share is not None
            if plan.published_at is None:
                continue
            kind = (
                ActivityKind.SHARE_PUBLISHED
                if plan.mode == ShareMode.API
                else ActivityKind.SHARE_LINK_CONFIRMED
            )
            add(kind, plan.share, plan.published_at)
            if plan.recalled_at:
                add(ActivityKind.SHARE_RECALLED, plan.share, plan.recalled_at)
        for click in clicks:
            add(ActivityKind.CLICK_RECORDED, click.share, click.clicked_at, click)
        Activity.objects.bulk_create(rows, batch_size=500)

    @staticmethod
    def _ensure_pks(objects: list[Any], model: Any, field_name: str) -> None:
        """Databases that do not return ids from a bulk insert: read them back."""
        missing = [obj for obj in objects if obj.pk is None]
        if not missing:
            return
        values = [getattr(obj, field_name) for obj in missing]
        found: dict[Any, int] = {}
        for start in range(0, len(values), 500):
            found.update(
                model.objects.filter(
                    **{f"{field_name}__in": values[start : start + 500]}
                ).values_list(field_name, "pk")
            )
        for obj in missing:
            obj.pk = found[getattr(obj, field_name)]


def _code(key: uuid.UUID) -> str:
    """A link code shaped like the real ones (8 URL-safe characters), fixed per share."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    number = _key(key, "link").int
    return "".join(alphabet[(number >> (6 * i)) & 63] for i in range(8))


def _visitor(*parts: object) -> str:
    return hashlib.sha256("|".join(str(p) for p in ("demo-visitor", *parts)).encode()).hexdigest()[
        :32
    ]
