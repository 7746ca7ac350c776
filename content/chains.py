"""Approval chains: named review steps in order (Medical, then Legal...), the rules that
choose a chain for a content item, the round of a content item through its chain, and the
overdue reminders.

A round is one version of a content item in review: the chain is chosen by the rules when
the round starts (at submission, or when an edit restarts it) and the item walks its steps
in order. A person decides at most once per round (the Review row is unique per content,
version and reviewer), never on a version they wrote or edited, and only at a step that
names them (or at an open step, one that names nobody: every reviewer and admin). When the
steps of a chain change shape (added, removed, reordered, approvals required changed),
the rounds under way on it start again at step 1 as a new version: approvals given under
other rules do not count. Renaming a step, or changing its reviewers or deadline, applies
at once to the rounds under way."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.http import Http404, HttpRequest
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from content.models import (
    ApprovalChain,
    ApprovalStep,
    ChainRule,
    Content,
    ContentKind,
    ContentStatus,
    Network,
    Review,
    ReviewDecision,
    ReviewerGroup,
    Topic,
)
from notifications.services import notification_create
from organizations.audit import audit_record
from organizations.errors import ConflictError, DomainError, PermissionDeniedError
from organizations.models import Language, Organization, Role, User

REVIEW_ROLES = (Role.REVIEWER, Role.ORG_ADMIN)
MAX_STEPS = 10
MAX_APPROVALS = 10
MAX_DEADLINE_HOURS = 24 * 60

# Notification titles, translated for each recipient in their own language.
TITLE_TO_REVIEW = gettext_noop("To review (%(step)s): %(title)s")
TITLE_OVERDUE = gettext_noop("Overdue review (%(step)s): %(title)s")
TITLE_OVERDUE_AUTHOR = gettext_noop(
    "Your content waits at step “%(step)s” past its deadline: %(title)s"
)

# --- Reads --------------------------------------------------------------------------------


def _default_names(organization: Organization) -> tuple[str, str]:
    with translation.override(organization.default_language or "fr"):
        return _("Standard"), _("Review")


def chain_default_for(organization: Organization) -> ApprovalChain:
    """The organisation's default chain, made on first use for an organisation created
    after the migration: one open step needing one approval (the old default policy)."""
    chain = ApprovalChain.objects.filter(organization=organization, is_default=True).first()
    if chain is not None:
        return chain
    chain_name, step_name = _default_names(organization)
    try:
        with transaction.atomic():
            if ApprovalChain.objects.filter(organization=organization, name=chain_name).exists():
                chain_name = f"{chain_name} ({organization.pk})"
            chain = ApprovalChain.objects.create(
                organization=organization, name=chain_name, is_default=True
            )
            ApprovalStep.objects.create(chain=chain, position=1, name=step_name)
    except IntegrityError:
        # Made at the same moment by another request: theirs is the one.
        return ApprovalChain.objects.get(organization=organization, is_default=True)
    return chain


def _steps_prefetch() -> Prefetch:
    return Prefetch(
        "steps",
        queryset=ApprovalStep.objects.select_related("reviewer_group")
        .prefetch_related(
            Prefetch("reviewers", queryset=User.objects.order_by("first_name", "email")),
            Prefetch(
                "reviewer_group__members", queryset=User.objects.order_by("first_name", "email")
            ),
        )
        .order_by("position", "id"),
    )


def chains_of(user: User) -> QuerySet[ApprovalChain]:
    """The chains of the user's organisation with their steps and rules (the default chain
    first). For the comms team only; others get nothing."""
    if user.role not in (Role.EDITOR, Role.REVIEWER, Role.ORG_ADMIN) or not user.organization_id:
        return ApprovalChain.objects.none()
    chain_default_for(user.organization)  # type: ignore[arg-type]
    return (
        ApprovalChain.objects.filter(organization_id=user.organization_id)
        .prefetch_related(
            _steps_prefetch(),
            Prefetch("rules", queryset=ChainRule.objects.select_related("topic")),
        )
        .order_by("-is_default", "name", "id")
    )


def chain_for_user(user: User, pk: int | str) -> ApprovalChain:
    try:
        return chains_of(user).get(pk=pk)
    except (ApprovalChain.DoesNotExist, ValueError):
        raise Http404 from None


def reviewer_groups_of(user: User) -> QuerySet[ReviewerGroup]:
    if user.role not in (Role.EDITOR, Role.REVIEWER, Role.ORG_ADMIN) or not user.organization_id:
        return ReviewerGroup.objects.none()
    return (
        ReviewerGroup.objects.filter(organization_id=user.organization_id)
        .prefetch_related(
            Prefetch("members", queryset=User.objects.order_by("first_name", "email"))
        )
        .order_by("name", "id")
    )


def rules_of(user: User) -> QuerySet[ChainRule]:
    if user.role not in (Role.EDITOR, Role.REVIEWER, Role.ORG_ADMIN) or not user.organization_id:
        return ChainRule.objects.none()
    return ChainRule.objects.filter(organization_id=user.organization_id).select_related(
        "chain", "topic"
    )


def possible_reviewers(organization: Organization) -> QuerySet[User]:
    """Who may be named on a step or in a group: active reviewers and admins."""
    return User.objects.filter(
        organization=organization, is_active=True, role__in=REVIEW_ROLES
    ).order_by("first_name", "last_name", "email")


def _content_networks(content: Content) -> set[str]:
    return set(content.captions.values_list("network", flat=True))


def chain_choose(content: Content) -> ApprovalChain:
    """The chain for this content: the first rule by priority whose every condition holds,
    else the organisation's default chain."""
    topic_ids = set(content.topics.values_list("pk", flat=True))
    networks: set[str] | None = None
    rules = ChainRule.objects.filter(organization_id=content.organization_id).select_related(
        "chain"
    )
    for rule in rules.order_by("priority", "id"):
        if rule.topic_id and rule.topic_id not in topic_ids:
            continue
        if rule.kind and rule.kind != content.kind:
            continue
        if rule.language and rule.language != content.language:
            continue
        if rule.network:
            if networks is None:
                networks = _content_networks(content)
            if rule.network not in networks:
                continue
        return rule.chain
    return chain_default_for(content.organization)


def step_is_open(step: ApprovalStep) -> bool:
    """A step naming nobody: every reviewer and admin of the organisation may act on it."""
    return step.reviewer_group_id is None and not step.reviewers.exists()


def step_people(step: ApprovalStep, organization: Organization) -> QuerySet[User]:
    """The people who may decide at this step (active, and still reviewers or admins)."""
    people = possible_reviewers(organization)
    if step_is_open(step):
        return people
    named = Q(pk__in=step.reviewers.values("pk"))
    if step.reviewer_group_id:
        named |= Q(pk__in=step.reviewer_group.members.values("pk"))  # type: ignore[union-attr]
    return people.filter(named)


def step_allows(step: ApprovalStep, user: User) -> bool:
    if not user.can_review or not user.is_active:
        return False
    if step.chain.organization_id != user.organization_id:
        return False
    return step_people(step, step.chain.organization).filter(pk=user.pk).exists()


def my_step_condition(user: User) -> Q:
    """A filter on Content: its current step is one where `user` may act (for the review
    desk, in one query)."""
    through = ApprovalStep.reviewers.through
    members = ReviewerGroup.members.through
    any_named = through.objects.filter(approvalstep_id=OuterRef("approval_step_id"))
    named = any_named.filter(user_id=user.pk)
    in_group = members.objects.filter(
        reviewergroup_id=OuterRef("approval_step__reviewer_group_id"), user_id=user.pk
    )
    return Q(
        Q(approval_step__isnull=True)
        | (Q(approval_step__reviewer_group__isnull=True) & ~Exists(any_named))
        | Exists(named)
        | Exists(in_group)
    )


@dataclass
class StepDecision:
    reviewer: str
    decision: str
    decision_label: str
    comment: str
    at: datetime


@dataclass
class StepState:
    step_id: int
    position: int
    name: str
    required_approvals: int
    deadline_hours: int | None
    reviewers: list[str]
    group: str
    is_open: bool
    state: str  # done, current, waiting
    approvals: int = 0
    due_at: datetime | None = None
    overdue: bool = False
    decisions: list[StepDecision] = field(default_factory=list)


@dataclass
class ChainState:
    chain_id: int | None
    chain_name: str
    current_position: int | None
    steps: list[StepState]
    can_act: bool


def chain_state(content: Content, user: User | None = None) -> ChainState:
    """The content's chain as people see it: each step with its reviewers, the decisions
    given on the current version at that step, which step it is at and when it is due.
    Content not in review shows the chain its last round used (or would use)."""
    chain = None
    if content.approval_chain_id:
        chain = ApprovalChain.objects.filter(pk=content.approval_chain_id).first()
    if chain is None:
        chain = chain_choose(content)
    steps = list(
        ApprovalStep.objects.filter(chain=chain)
        .select_related("reviewer_group")
        .prefetch_related("reviewers", "reviewer_group__members")
        .order_by("position", "id")
    )
    reviews = list(
        Review.objects.filter(content=content, version=content.version)
        .select_related("reviewer")
        .order_by("created_at", "id")
    )
    current = content.approval_step if content.status == ContentStatus.IN_REVIEW else None
    current_position = current.position if current is not None else None
    now = timezone.now()
    rows = []
    for step in steps:
        if content.status == ContentStatus.APPROVED and content.approval_chain_id == chain.pk:
            state = "done"
        elif current_position is None:
            state = "waiting"
        elif step.position < current_position:
            state = "done"
        elif step.position == current_position:
            state = "current"
        else:
            state = "waiting"
        names = [str(person.get_full_name() or person.email) for person in step.reviewers.all()]
        decisions = [
            StepDecision(
                reviewer=(review.reviewer.get_full_name() or review.reviewer.email)
                if review.reviewer
                else "—",
                decision=review.decision,
                decision_label=str(review.get_decision_display()),
                comment=review.comment,
                at=review.created_at,
            )
            for review in reviews
            if review.step_id == step.pk
        ]
        row = StepState(
            step_id=step.pk,
            position=step.position,
            name=step.name,
            required_approvals=step.required_approvals,
            deadline_hours=step.deadline_hours,
            reviewers=names,
            group=step.reviewer_group.name if step.reviewer_group else "",
            is_open=step.reviewer_group_id is None and not names,
            state=state,
            approvals=sum(1 for d in decisions if d.decision == ReviewDecision.APPROVE),
            decisions=decisions,
        )
        if state == "current":
            row.due_at = content.step_due_at
            row.overdue = bool(content.step_due_at and content.step_due_at <= now)
        rows.append(row)
    can_act = False
    if user is not None and current is not None and user.pk not in _authors_of(content):
        already = any(review.reviewer_id == user.pk for review in reviews)
        can_act = not already and step_allows(current, user)
    return ChainState(
        chain_id=chain.pk,
        chain_name=chain.name,
        current_position=current_position,
        steps=rows,
        can_act=can_act,
    )


def _authors_of(content: Content) -> set[int]:
    from content.services import _version_authors

    return _version_authors(content)


# --- The round ----------------------------------------------------------------------------


def _notify(people: Iterable[User], *, kind: str, title: str, args: dict, url: str) -> None:
    for person in people:
        with translation.override(person.language):
            notification_create(recipient=person, kind=kind, title=_(title) % args, url=url)


def step_enter(
    content: Content, step: ApprovalStep, *, exclude: set[int], url: str | None = None
) -> None:
    """Inside a transaction, the content locked: the content is now at `step`; its due
    time starts now; the step's reviewers (not the content's own writers) are told."""
    now = timezone.now()
    content.approval_chain_id = step.chain_id
    content.approval_step = step
    content.step_entered_at = now
    content.step_due_at = (
        now + timedelta(hours=step.deadline_hours) if step.deadline_hours else None
    )
    content.step_reminded_at = None
    content.save(
        update_fields=[
            "approval_chain",
            "approval_step",
            "step_entered_at",
            "step_due_at",
            "step_reminded_at",
            "updated_at",
        ]
    )
    people = step_people(step, content.organization).exclude(pk__in=exclude)
    _notify(
        people,
        kind="content.review_requested",
        title=TITLE_TO_REVIEW,
        args={"step": step.name, "title": content.title},
        url=url or reverse("content_detail", args=[content.pk]),
    )


def round_start(content: Content, *, exclude: set[int], url: str | None = None) -> ApprovalStep:
    """Start (or start again) the content's round at step 1 of the chain the rules choose
    now (an edit may have changed its topic)."""
    chain = chain_choose(content)
    step = chain.steps.order_by("position", "id").first()
    if step is None:  # every chain keeps at least one step; this is a safety net
        chain = chain_default_for(content.organization)
        step = chain.steps.order_by("position", "id").first()
    assert step is not None
    step_enter(content, step, exclude=exclude, url=url)
    return step


def round_end(content: Content, *, status: str) -> None:
    """The round is over (rejected or approved): the content takes `status`, with no step
    and no due time, saved."""
    content.status = status
    content.approval_step = None
    content.step_due_at = None
    content.step_reminded_at = None
    content.save(
        update_fields=["status", "approval_step", "step_due_at", "step_reminded_at", "updated_at"]
    )


def current_step(content: Content, *, exclude: set[int]) -> ApprovalStep:
    """The step the content (locked, in review) is at; content put in review without a
    round (imported data) starts one now."""
    if content.approval_step_id is not None:
        step = ApprovalStep.objects.select_related("chain").get(pk=content.approval_step_id)
        return step
    return round_start(content, exclude=exclude)


def next_step(step: ApprovalStep) -> ApprovalStep | None:
    return (
        ApprovalStep.objects.filter(chain_id=step.chain_id, position__gt=step.position)
        .order_by("position", "id")
        .first()
    )


def step_approvals(content: Content, step: ApprovalStep) -> int:
    return Review.objects.filter(
        content=content, version=content.version, step=step, decision=ReviewDecision.APPROVE
    ).count()


# --- Reminders ----------------------------------------------------------------------------


def overdue_reminders_send(*, now: datetime | None = None) -> int:
    """Remind the reviewers of every overdue step, and the content's author, once per step
    entry: the reminder is claimed with a conditional UPDATE, so two runs never send it
    twice. Returns how many steps were reminded."""
    now = now or timezone.now()
    due = list(
        Content.objects.filter(
            status=ContentStatus.IN_REVIEW,
            step_due_at__lte=now,
            step_reminded_at__isnull=True,
            approval_step__isnull=False,
        ).values_list("pk", "approval_step_id")[:500]
    )
    sent = 0
    for content_id, step_id in due:
        with transaction.atomic():
            claimed = Content.objects.filter(
                pk=content_id,
                status=ContentStatus.IN_REVIEW,
                approval_step_id=step_id,
                step_reminded_at__isnull=True,
            ).update(step_reminded_at=now)
            if not claimed:
                continue
            content = Content.objects.select_related("organization", "author").get(pk=content_id)
            step = ApprovalStep.objects.select_related("chain").get(pk=step_id)
            authors = _authors_of(content)
            already = set(
                Review.objects.filter(content=content, version=content.version).values_list(
                    "reviewer_id", flat=True
                )
            )
            people = list(step_people(step, content.organization).exclude(pk__in=authors | already))
            url = reverse("content_detail", args=[content.pk])
            _notify(
                people,
                kind="content.step_overdue",
                title=TITLE_OVERDUE,
                args={"step": step.name, "title": content.title},
                url=url,
            )
            author = content.author
            if author is not None and author.is_active:
                _notify(
                    [author],
                    kind="content.step_overdue",
                    title=TITLE_OVERDUE_AUTHOR,
                    args={"step": step.name, "title": content.title},
                    url=url,
                )
            audit_record(
                action="content.step_overdue",
                organization=content.organization,
                target=content,
                details={
                    "version": content.version,
                    "step": step.name,
                    "reminded": len(people) + (1 if author else 0),
                },
            )
            sent += 1
    return sent


# --- Configuration (organisation admins) --------------------------------------------------


def _require_admin(actor: User) -> Organization:
    if not actor.is_org_admin or actor.organization is None:
        raise PermissionDeniedError(
            _("Only organisation administrators can change approval chains.")
        )
    return actor.organization


def _clean_name(name: str, field_name: str = "name") -> str:
    name = (name or "").strip()
    if not name:
        raise DomainError(_("Give it a name."), field=field_name)
    if len(name) > 80:
        raise DomainError(_("Keep the name under 80 characters."), field=field_name)
    return name


def _clean_people(
    organization: Organization, people: Sequence[User], field_name: str
) -> list[User]:
    allowed = set(possible_reviewers(organization).values_list("pk", flat=True))
    refused = [person for person in people if person.pk not in allowed]
    if refused:
        raise DomainError(
            _("Only active reviewers and administrators of the organisation can review: %(names)s.")
            % {"names": ", ".join(person.email for person in refused)},
            field=field_name,
        )
    return list({person.pk: person for person in people}.values())


def reviewer_group_save(
    *,
    actor: User,
    name: str,
    members: Sequence[User],
    group: ReviewerGroup | None = None,
    request: HttpRequest | None = None,
) -> ReviewerGroup:
    organization = _require_admin(actor)
    name = _clean_name(name)
    members = _clean_people(organization, members, "members")
    if group is not None and group.organization_id != organization.pk:
        raise Http404
    clash = ReviewerGroup.objects.filter(organization=organization, name__iexact=name)
    if group is not None:
        clash = clash.exclude(pk=group.pk)
    if clash.exists():
        raise DomainError(_("A reviewer group already has this name."), field="name")
    with transaction.atomic():
        created = group is None
        if group is None:
            group = ReviewerGroup.objects.create(organization=organization, name=name)
        else:
            group.name = name
            group.save(update_fields=["name"])
        group.members.set(members)
        audit_record(
            action="approval.group_created" if created else "approval.group_updated",
            organization=organization,
            actor=actor,
            target=group,
            request=request,
            details={"name": name, "members": sorted(person.email for person in members)},
        )
    return group


def reviewer_group_delete(
    *, actor: User, group: ReviewerGroup, request: HttpRequest | None = None
) -> None:
    organization = _require_admin(actor)
    if group.organization_id != organization.pk:
        raise Http404
    used = list(
        ApprovalStep.objects.filter(reviewer_group=group)
        .select_related("chain")
        .values_list("chain__name", "name")
    )
    if used:
        # Deleting it would open those steps to every reviewer: refuse, and say where.
        raise ConflictError(
            _("This group reviews at %(steps)s; change those steps first.")
            % {"steps": ", ".join(f"{chain} → {step}" for chain, step in used)}
        )
    with transaction.atomic():
        audit_record(
            action="approval.group_deleted",
            organization=organization,
            actor=actor,
            target=group,
            request=request,
            details={"name": group.name},
        )
        group.delete()


@dataclass
class StepInput:
    name: str
    required_approvals: int = 1
    deadline_hours: int | None = None
    reviewers: list[User] = field(default_factory=list)
    reviewer_group: ReviewerGroup | None = None


@dataclass
class RuleInput:
    priority: int = 10
    topic: Topic | None = None
    kind: str = ""
    language: str = ""
    network: str = ""


def _clean_step(organization: Organization, data: StepInput, prefix: str = "") -> StepInput:
    data.name = _clean_name(data.name, f"{prefix}name")
    if not 1 <= int(data.required_approvals) <= MAX_APPROVALS:
        raise DomainError(
            _("A step needs from 1 to %(max)s approvals.") % {"max": MAX_APPROVALS},
            field=f"{prefix}required_approvals",
        )
    if data.deadline_hours is not None and not 1 <= data.deadline_hours <= MAX_DEADLINE_HOURS:
        raise DomainError(
            _("A deadline is from 1 to %(max)s hours, or empty.") % {"max": MAX_DEADLINE_HOURS},
            field=f"{prefix}deadline_hours",
        )
    data.reviewers = _clean_people(organization, data.reviewers, f"{prefix}reviewers")
    if data.reviewer_group is not None and data.reviewer_group.organization_id != organization.pk:
        raise DomainError(_("Unknown reviewer group."), field=f"{prefix}reviewer_group")
    return data


def _clean_rule(organization: Organization, data: RuleInput, prefix: str = "") -> RuleInput:
    if data.topic is not None and data.topic.organization_id != organization.pk:
        raise DomainError(_("Unknown topic."), field=f"{prefix}topic")
    if data.kind and data.kind not in ContentKind.values:
        raise DomainError(_("Unknown kind of content."), field=f"{prefix}kind")
    if data.language and data.language not in Language.values:
        raise DomainError(_("Unknown language."), field=f"{prefix}language")
    if data.network and data.network not in Network.values:
        raise DomainError(_("Unknown network."), field=f"{prefix}network")
    if not 0 <= int(data.priority) <= 1000:
        raise DomainError(_("A priority is from 0 to 1000."), field=f"{prefix}priority")
    if data.topic is None and not (data.kind or data.language or data.network):
        raise DomainError(
            _("A rule needs at least one condition: a topic, kind, language or network."),
            field=f"{prefix}topic",
        )
    return data


def _check_chain(organization: Organization, chain: ApprovalChain) -> None:
    if chain.organization_id != organization.pk:
        raise Http404


def _rounds_restart(chain: ApprovalChain, actor: User, request: HttpRequest | None) -> int:
    """The chain changed shape: each round under way on it starts again at step 1, as a
    new version with the same words (approvals given under other rules do not count)."""
    from content.services import _record_version, _version_authors

    count = 0
    for content in Content.objects.select_for_update().filter(
        approval_chain=chain, status=ContentStatus.IN_REVIEW
    ):
        writer = (
            content.versions.filter(number=content.version).values_list("author", flat=True).first()
        )
        content.version += 1
        content.save(update_fields=["version", "updated_at"])
        _record_version(content, User(pk=writer) if writer else content.author)  # type: ignore[arg-type]
        round_start(content, exclude=_version_authors(content))
        audit_record(
            action="content.chain_restarted",
            organization=content.organization,
            actor=actor,
            target=content,
            request=request,
            details={"version": content.version, "chain": chain.name},
        )
        count += 1
    return count


def chain_save(
    *,
    actor: User,
    name: str,
    is_default: bool = False,
    chain: ApprovalChain | None = None,
    request: HttpRequest | None = None,
) -> ApprovalChain:
    """Create or rename a chain; making it the default takes that from the former one. A
    new chain starts with one open step, "Review"."""
    organization = _require_admin(actor)
    name = _clean_name(name)
    if chain is not None:
        _check_chain(organization, chain)
        if chain.is_default and not is_default:
            raise DomainError(
                _("There is always one default chain: make another chain the default instead."),
                field="is_default",
            )
    clash = ApprovalChain.objects.filter(organization=organization, name__iexact=name)
    if chain is not None:
        clash = clash.exclude(pk=chain.pk)
    if clash.exists():
        raise DomainError(_("A chain already has this name."), field="name")
    chain_default_for(organization)
    with transaction.atomic():
        created = chain is None
        if is_default:
            others = ApprovalChain.objects.filter(organization=organization, is_default=True)
            if chain is not None:
                others = others.exclude(pk=chain.pk)
            others.update(is_default=False)
        if chain is None:
            chain = ApprovalChain.objects.create(
                organization=organization, name=name, is_default=is_default
            )
            step_name = _default_names(organization)[1]
            ApprovalStep.objects.create(chain=chain, position=1, name=step_name)
        else:
            chain.name = name
            chain.is_default = is_default
            chain.save(update_fields=["name", "is_default"])
        audit_record(
            action="approval.chain_created" if created else "approval.chain_updated",
            organization=organization,
            actor=actor,
            target=chain,
            request=request,
            details={"name": name, "is_default": is_default},
        )
    return chain


def chain_delete(*, actor: User, chain: ApprovalChain, request: HttpRequest | None = None) -> None:
    organization = _require_admin(actor)
    _check_chain(organization, chain)
    if chain.is_default:
        raise ConflictError(
            _("The default chain cannot be deleted; make another one the default first.")
        )
    waiting = Content.objects.filter(approval_chain=chain, status=ContentStatus.IN_REVIEW).count()
    if waiting:
        raise ConflictError(
            _("%(n)s content items are in review on this chain; wait until they are decided.")
            % {"n": waiting}
        )
    with transaction.atomic():
        audit_record(
            action="approval.chain_deleted",
            organization=organization,
            actor=actor,
            target=chain,
            request=request,
            details={"name": chain.name},
        )
        chain.delete()


def _step_fields(step: ApprovalStep, data: StepInput) -> None:
    step.name = data.name
    step.required_approvals = data.required_approvals
    step.deadline_hours = data.deadline_hours
    step.reviewer_group = data.reviewer_group


def _step_details(data: StepInput) -> dict:
    return {
        "name": data.name,
        "required_approvals": data.required_approvals,
        "deadline_hours": data.deadline_hours,
        "reviewers": sorted(person.email for person in data.reviewers),
        "group": data.reviewer_group.name if data.reviewer_group else "",
    }


def step_add(
    *, actor: User, chain: ApprovalChain, data: StepInput, request: HttpRequest | None = None
) -> ApprovalStep:
    organization = _require_admin(actor)
    _check_chain(organization, chain)
    data = _clean_step(organization, data)
    with transaction.atomic():
        chain = ApprovalChain.objects.select_for_update().get(pk=chain.pk)
        positions = list(chain.steps.values_list("position", flat=True))
        if len(positions) >= MAX_STEPS:
            raise DomainError(_("A chain has at most %(max)s steps.") % {"max": MAX_STEPS})
        step = ApprovalStep(chain=chain, position=max(positions, default=0) + 1)
        _step_fields(step, data)
        step.save()
        step.reviewers.set(data.reviewers)
        audit_record(
            action="approval.step_added",
            organization=organization,
            actor=actor,
            target=chain,
            request=request,
            details=_step_details(data),
        )
        _rounds_restart(chain, actor, request)
    return step


def step_update(
    *, actor: User, step: ApprovalStep, data: StepInput, request: HttpRequest | None = None
) -> ApprovalStep:
    organization = _require_admin(actor)
    _check_chain(organization, step.chain)
    data = _clean_step(organization, data)
    with transaction.atomic():
        chain = ApprovalChain.objects.select_for_update().get(pk=step.chain_id)
        step = ApprovalStep.objects.get(pk=step.pk)
        reshaped = step.required_approvals != data.required_approvals
        _step_fields(step, data)
        step.save()
        step.reviewers.set(data.reviewers)
        audit_record(
            action="approval.step_updated",
            organization=organization,
            actor=actor,
            target=chain,
            request=request,
            details=_step_details(data),
        )
        if reshaped:
            _rounds_restart(chain, actor, request)
    return step


def _renumber(chain: ApprovalChain, ordered: list[ApprovalStep]) -> None:
    # Two passes, so that the unique (chain, position) never sees two steps at one place.
    offset = 1000
    for index, step in enumerate(ordered, start=1):
        ApprovalStep.objects.filter(pk=step.pk).update(position=offset + index)
    for index, step in enumerate(ordered, start=1):
        ApprovalStep.objects.filter(pk=step.pk).update(position=index)


def step_move(
    *, actor: User, step: ApprovalStep, up: bool, request: HttpRequest | None = None
) -> None:
    organization = _require_admin(actor)
    _check_chain(organization, step.chain)
    with transaction.atomic():
        chain = ApprovalChain.objects.select_for_update().get(pk=step.chain_id)
        ordered = list(chain.steps.order_by("position", "id"))
        index = next(i for i, s in enumerate(ordered) if s.pk == step.pk)
        other = index - 1 if up else index + 1
        if not 0 <= other < len(ordered):
            return
        ordered[index], ordered[other] = ordered[other], ordered[index]
        _renumber(chain, ordered)
        audit_record(
            action="approval.steps_reordered",
            organization=organization,
            actor=actor,
            target=chain,
            request=request,
            details={"order": [s.name for s in ordered]},
        )
        _rounds_restart(chain, actor, request)


def step_delete(*, actor: User, step: ApprovalStep, request: HttpRequest | None = None) -> None:
    organization = _require_admin(actor)
    _check_chain(organization, step.chain)
    with transaction.atomic():
        chain = ApprovalChain.objects.select_for_update().get(pk=step.chain_id)
        ordered = [s for s in chain.steps.order_by("position", "id") if s.pk != step.pk]
        if not ordered:
            raise ConflictError(_("A chain keeps at least one step."))
        # Rounds at this step must not lose their place before they restart.
        Content.objects.filter(approval_step=step).update(approval_step=ordered[0])
        audit_record(
            action="approval.step_deleted",
            organization=organization,
            actor=actor,
            target=chain,
            request=request,
            details={"name": step.name},
        )
        ApprovalStep.objects.filter(pk=step.pk).delete()
        _renumber(chain, ordered)
        _rounds_restart(chain, actor, request)


def chain_steps_replace(
    *,
    actor: User,
    chain: ApprovalChain,
    steps: list[StepInput],
    request: HttpRequest | None = None,
) -> None:
    """The API's whole list of steps: steps keep their identity by position (so decisions
    already given stay linked to them); extra ones are added, missing ones removed."""
    organization = _require_admin(actor)
    _check_chain(organization, chain)
    if not steps:
        raise DomainError(_("A chain keeps at least one step."), field="steps")
    if len(steps) > MAX_STEPS:
        raise DomainError(
            _("A chain has at most %(max)s steps.") % {"max": MAX_STEPS}, field="steps"
        )
    steps = [_clean_step(organization, s, f"steps[{i}].") for i, s in enumerate(steps)]
    with transaction.atomic():
        chain = ApprovalChain.objects.select_for_update().get(pk=chain.pk)
        existing = list(chain.steps.order_by("position", "id"))
        before = [(s.name, s.required_approvals) for s in existing]
        keep = existing[: len(steps)]
        surplus = existing[len(steps) :]
        if surplus:
            Content.objects.filter(approval_step__in=surplus).update(approval_step=existing[0])
            ApprovalStep.objects.filter(pk__in=[s.pk for s in surplus]).delete()
        _renumber(chain, keep)
        for index, data in enumerate(steps, start=1):
            step = keep[index - 1] if index <= len(keep) else ApprovalStep(chain=chain)
            step.position = index
            _step_fields(step, data)
            step.save()
            step.reviewers.set(data.reviewers)
        after = [(s.name, s.required_approvals) for s in steps]
        audit_record(
            action="approval.steps_replaced",
            organization=organization,
            actor=actor,
            target=chain,
            request=request,
            details={"steps": [_step_details(s) for s in steps]},
        )
        if len(before) != len(after) or any(
            b[1] != a[1] for b, a in zip(before, after, strict=False)
        ):
            _rounds_restart(chain, actor, request)


def rule_add(
    *, actor: User, chain: ApprovalChain, data: RuleInput, request: HttpRequest | None = None
) -> ChainRule:
    organization = _require_admin(actor)
    _check_chain(organization, chain)
    data = _clean_rule(organization, data)
    with transaction.atomic():
        rule = ChainRule.objects.create(
            organization=organization,
            chain=chain,
            priority=data.priority,
            topic=data.topic,
            kind=data.kind,
            language=data.language,
            network=data.network,
        )
        audit_record(
            action="approval.rule_added",
            organization=organization,
            actor=actor,
            target=chain,
            request=request,
            details=_rule_details(rule),
        )
    return rule


def _rule_details(rule: ChainRule) -> dict:
    return {
        "chain": rule.chain.name,
        "priority": rule.priority,
        "topic": rule.topic.name if rule.topic else "",
        "kind": rule.kind,
        "language": rule.language,
        "network": rule.network,
    }


def rule_delete(*, actor: User, rule: ChainRule, request: HttpRequest | None = None) -> None:
    organization = _require_admin(actor)
    if rule.organization_id != organization.pk:
        raise Http404
    with transaction.atomic():
        audit_record(
            action="approval.rule_deleted",
            organization=organization,
            actor=actor,
            target=rule.chain,
            request=request,
            details=_rule_details(rule),
        )
        rule.delete()


def chain_rules_replace(
    *,
    actor: User,
    chain: ApprovalChain,
    rules: list[RuleInput],
    request: HttpRequest | None = None,
) -> None:
    organization = _require_admin(actor)
    _check_chain(organization, chain)
    rules = [_clean_rule(organization, r, f"rules[{i}].") for i, r in enumerate(rules)]
    with transaction.atomic():
        ChainRule.objects.filter(chain=chain).delete()
        made = ChainRule.objects.bulk_create(
            ChainRule(
                organization=organization,
                chain=chain,
                priority=r.priority,
                topic=r.topic,
                kind=r.kind,
                language=r.language,
                network=r.network,
            )
            for r in rules
        )
        audit_record(
            action="approval.rules_replaced",
            organization=organization,
            actor=actor,
            target=chain,
            request=request,
            details={"rules": [_rule_details(rule) for rule in made]},
        )
