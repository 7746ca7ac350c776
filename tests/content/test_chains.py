"""Approval chains through the services: steps in order, who may act at which step, no
self-approval and one decision per person and round, the restart after an edit, the rules
that choose a chain, deadlines and their reminders, and the chains' administration."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse

from content import chains, selectors, services
from content.models import (
    ApprovalChain,
    ApprovalStep,
    Content,
    ContentKind,
    ContentStatus,
    Review,
    ReviewDecision,
)
from content.services import ContentInput
from notifications.models import Notification
from organizations.errors import ConflictError, DomainError, PermissionDeniedError
from organizations.models import AuditLogEntry, Organization, Role, User
from tests.content.factories import TopicFactory
from tests.factories import OrganizationFactory, UserFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@dataclass
class Pharma:
    organization: Organization
    admin: User
    editor: User
    medical: User  # reviewer on the Medical step (through the group)
    medical2: User
    legal: User  # reviewer named on the Legal step
    hr: User
    chain: ApprovalChain
    products: object  # Topic


@pytest.fixture
def pharma(db) -> Pharma:
    organization = OrganizationFactory(name="Pharmalys", slug="pharmalys")

    def person(role: str, name: str) -> User:
        return UserFactory(organization=organization, role=role, first_name=name, language="en")

    admin = person(Role.ORG_ADMIN, "Ada")
    editor = person(Role.EDITOR, "Eddie")
    medical, medical2 = person(Role.REVIEWER, "Marie"), person(Role.REVIEWER, "Max")
    legal, hr = person(Role.REVIEWER, "Léa"), person(Role.REVIEWER, "Hugo")
    products = TopicFactory(organization=organization, name="Products", slug="products")
    group = chains.reviewer_group_save(
        actor=admin, name="Medical affairs", members=[medical, medical2]
    )
    chain = chains.chain_save(actor=admin, name="Medical → Legal")
    chains.chain_steps_replace(
        actor=admin,
        chain=chain,
        steps=[
            chains.StepInput(name="Medical", reviewer_group=group, deadline_hours=48),
            chains.StepInput(name="Legal", reviewers=[legal], deadline_hours=24),
        ],
    )
    chains.rule_add(actor=admin, chain=chain, data=chains.RuleInput(priority=10, topic=products))
    return Pharma(organization, admin, editor, medical, medical2, legal, hr, chain, products)


def data(**overrides) -> ContentInput:
    values = {
        "kind": ContentKind.TEXT,
        "title": "Our new vaccine line",
        "why_it_matters": "Thirty jobs in Lyon.",
        "captions": {"linkedin": ["A new vaccine line in Lyon."]},
    }
    values.update(overrides)
    return ContentInput(**values)


def submitted(pharma: Pharma, **overrides) -> Content:
    content = services.content_create(actor=pharma.editor, data=data(**overrides))
    return services.content_submit(actor=pharma.editor, content=content)


def product_post(pharma: Pharma) -> Content:
    return submitted(pharma, topics=[pharma.products])


def fresh(content: Content) -> Content:
    return Content.objects.select_related("approval_step").get(pk=content.pk)


def titles_for(user: User) -> list[str]:
    return list(Notification.objects.filter(recipient=user).values_list("title", flat=True))


# --- Order ---------------------------------------------------------------------------------


def test_steps_are_passed_in_order_and_the_last_one_approves(pharma):
    content = product_post(pharma)
    assert content.status == ContentStatus.IN_REVIEW
    assert (content.approval_chain_id, content.approval_step.name) == (pharma.chain.pk, "Medical")
    # Only the Medical step's people are asked first; Legal waits for its turn.
    assert titles_for(pharma.medical) == ["To review (Medical): Our new vaccine line"]
    assert titles_for(pharma.legal) == []
    assert titles_for(pharma.hr) == []

    content = services.content_approve(actor=pharma.medical, content=content)
    content = fresh(content)
    assert content.status == ContentStatus.IN_REVIEW
    assert content.approval_step.name == "Legal"
    assert titles_for(pharma.legal) == ["To review (Legal): Our new vaccine line"]

    content = services.content_approve(actor=pharma.legal, content=content, comment="OK legal")
    content = fresh(content)
    assert content.status == ContentStatus.APPROVED
    assert content.approval_step is None
    reviews = Review.objects.filter(content=content).order_by("created_at", "id")
    assert [(r.reviewer_id, r.step_name) for r in reviews] == [
        (pharma.medical.pk, "Medical"),
        (pharma.legal.pk, "Legal"),
    ]
    actions = list(
        AuditLogEntry.objects.filter(target_id=str(content.pk)).values_list("action", flat=True)
    )
    assert actions.count("content.step_passed") == 1
    assert actions.count("content.approved") == 1
    assert titles_for(pharma.editor) == ["Approved: Our new vaccine line"]


def test_a_step_needing_two_approvals_waits_for_the_second(pharma):
    step = pharma.chain.steps.get(position=1)
    chains.step_update(
        actor=pharma.admin,
        step=step,
        data=chains.StepInput(
            name="Medical", required_approvals=2, reviewer_group=step.reviewer_group
        ),
    )
    content = product_post(pharma)
    services.content_approve(actor=pharma.medical, content=content)
    assert fresh(content).approval_step.name == "Medical"
    services.content_approve(actor=pharma.medical2, content=content)
    assert fresh(content).approval_step.name == "Legal"


# --- Who may act at which step -------------------------------------------------------------


def test_only_the_current_steps_reviewers_decide(pharma):
    content = product_post(pharma)
    for outsider in (pharma.legal, pharma.hr):
        with pytest.raises(PermissionDeniedError, match="Medical"):
            services.content_approve(actor=outsider, content=content)
        with pytest.raises(PermissionDeniedError):
            services.content_reject(actor=outsider, content=content, comment="No")
    assert not Review.objects.filter(content=content).exists()

    services.content_approve(actor=pharma.medical, content=content)
    with pytest.raises(PermissionDeniedError, match="Legal"):
        services.content_approve(actor=pharma.medical2, content=content)


def test_an_open_step_accepts_every_reviewer_and_admin(pharma):
    content = submitted(pharma)  # no rule matches: the default chain's open step
    assert content.approval_chain.is_default
    assert chains.step_allows(content.approval_step, pharma.hr)
    assert chains.step_allows(content.approval_step, pharma.admin)
    assert not chains.step_allows(content.approval_step, pharma.editor)
    content = services.content_approve(actor=pharma.hr, content=content)
    assert content.status == ContentStatus.APPROVED


def test_a_reject_at_any_step_sends_the_content_back_to_draft(pharma):
    content = product_post(pharma)
    services.content_approve(actor=pharma.medical, content=content)
    content = services.content_reject(
        actor=pharma.legal, content=content, comment="Mention the risks"
    )
    content = fresh(content)
    assert content.status == ContentStatus.DRAFT
    assert content.approval_step is None and content.step_due_at is None
    assert Review.objects.get(content=content, decision=ReviewDecision.REJECT).step_name == "Legal"
    # Submitted again: a new round from step 1.
    content = services.content_submit(actor=pharma.editor, content=content)
    assert content.version == 2 and content.approval_step.name == "Medical"


def test_a_reviewer_removed_from_the_group_can_no_longer_decide(pharma):
    content = product_post(pharma)
    group = pharma.chain.steps.get(position=1).reviewer_group
    chains.reviewer_group_save(
        actor=pharma.admin, group=group, name=group.name, members=[pharma.medical2]
    )
    with pytest.raises(PermissionDeniedError):
        services.content_approve(actor=pharma.medical, content=content)


# --- No self-approval, once per round ------------------------------------------------------


def test_nobody_approves_their_own_version_even_when_named(pharma):
    # The admin writes, and is also named on the first step of the default chain.
    default = chains.chain_default_for(pharma.organization)
    step = default.steps.get()
    chains.step_update(
        actor=pharma.admin,
        step=step,
        data=chains.StepInput(name=step.name, reviewers=[pharma.admin]),
    )
    content = services.content_create(actor=pharma.admin, data=data())
    content = services.content_submit(actor=pharma.admin, content=content)
    with pytest.raises(PermissionDeniedError):
        services.content_approve(actor=pharma.admin, content=content)
    # A reviewer who edited the current version cannot approve it either.
    assert not chains.chain_state(fresh(content), pharma.admin).can_act


def test_nobody_approves_twice_in_one_round(pharma):
    # Léa is on both steps: she approves Medical, and cannot approve Legal as well.
    medical = pharma.chain.steps.get(position=1)
    chains.step_update(
        actor=pharma.admin,
        step=medical,
        data=chains.StepInput(name="Medical", reviewers=[pharma.legal]),
    )
    content = product_post(pharma)
    services.content_approve(actor=pharma.legal, content=content)
    assert fresh(content).approval_step.name == "Legal"
    with pytest.raises(ConflictError):
        services.content_approve(actor=pharma.legal, content=content)
    assert fresh(content).status == ContentStatus.IN_REVIEW
    assert not chains.chain_state(fresh(content), pharma.legal).can_act


# --- Restart on change ---------------------------------------------------------------------


def test_an_edit_after_an_approval_restarts_the_chain_with_the_diff(pharma):
    content = product_post(pharma)
    services.content_approve(actor=pharma.medical, content=content)
    assert fresh(content).approval_step.name == "Legal"
    Notification.objects.all().delete()

    content = services.content_update(
        actor=pharma.editor,
        content=fresh(content),
        data=data(title="Our new vaccine line in Lyon", topics=[pharma.products]),
    )
    content = fresh(content)
    assert content.status == ContentStatus.IN_REVIEW
    assert content.version == 2
    assert content.approval_step.name == "Medical"
    diff_url = reverse("content_version", args=[content.pk, 2])
    note = Notification.objects.get(recipient=pharma.medical)
    assert note.url == diff_url
    assert Notification.objects.filter(recipient=pharma.legal).count() == 0
    # The approval of version 1 does not count: Medical must approve again.
    assert chains.step_approvals(content, content.approval_step) == 0
    services.content_approve(actor=pharma.medical, content=content)
    assert fresh(content).approval_step.name == "Legal"


def test_an_edit_of_approved_content_restarts_the_chain(pharma):
    content = product_post(pharma)
    services.content_approve(actor=pharma.medical, content=content)
    services.content_approve(actor=pharma.legal, content=content)
    content = services.content_update(
        actor=pharma.editor, content=fresh(content), data=data(topics=[pharma.products])
    )
    content = fresh(content)
    assert (content.status, content.approval_step.name) == (ContentStatus.IN_REVIEW, "Medical")


def test_an_edit_that_changes_the_topic_changes_the_chain(pharma):
    content = product_post(pharma)
    content = services.content_update(actor=pharma.editor, content=fresh(content), data=data())
    content = fresh(content)
    assert content.approval_chain.is_default


def test_changing_the_steps_restarts_the_rounds_under_way(pharma):
    content = product_post(pharma)
    services.content_approve(actor=pharma.medical, content=content)
    chains.step_add(
        actor=pharma.admin,
        chain=pharma.chain,
        data=chains.StepInput(name="Regulatory", reviewers=[pharma.hr]),
    )
    content = fresh(content)
    assert content.version == 2 and content.approval_step.name == "Medical"
    # The words did not change; the editor stays the version's writer.
    assert content.versions.get(number=2).author_id == pharma.editor.pk
    services.content_approve(actor=pharma.medical, content=content)
    services.content_approve(actor=pharma.legal, content=content)
    assert fresh(content).approval_step.name == "Regulatory"
    services.content_approve(actor=pharma.hr, content=content)
    assert fresh(content).status == ContentStatus.APPROVED


def test_renaming_a_step_or_changing_its_reviewers_does_not_restart(pharma):
    content = product_post(pharma)
    services.content_approve(actor=pharma.medical, content=content)
    legal = pharma.chain.steps.get(position=2)
    chains.step_update(
        actor=pharma.admin,
        step=legal,
        data=chains.StepInput(name="Legal affairs", reviewers=[pharma.hr]),
    )
    content = fresh(content)
    assert content.version == 1 and content.approval_step.name == "Legal affairs"
    services.content_approve(actor=pharma.hr, content=content)
    assert fresh(content).status == ContentStatus.APPROVED


# --- Rules ---------------------------------------------------------------------------------


def _chain(pharma: Pharma, name: str, step_name: str, reviewer: User) -> ApprovalChain:
    chain = chains.chain_save(actor=pharma.admin, name=name)
    chains.chain_steps_replace(
        actor=pharma.admin,
        chain=chain,
        steps=[chains.StepInput(name=step_name, reviewers=[reviewer])],
    )
    return chain


def test_rules_choose_the_chain_by_topic_kind_language_and_network(pharma):
    hr_chain = _chain(pharma, "HR only", "HR", pharma.hr)
    jobs = TopicFactory(organization=pharma.organization, name="Jobs", slug="jobs")
    chains.rule_add(
        actor=pharma.admin, chain=hr_chain, data=chains.RuleInput(priority=20, topic=jobs)
    )
    english = _chain(pharma, "English", "Proofreading", pharma.medical2)
    chains.rule_add(
        actor=pharma.admin, chain=english, data=chains.RuleInput(priority=30, language="en")
    )
    x_chain = _chain(pharma, "X", "Social", pharma.legal)
    chains.rule_add(
        actor=pharma.admin,
        chain=x_chain,
        data=chains.RuleInput(priority=40, network="x", kind="text"),
    )

    assert product_post(pharma).approval_chain_id == pharma.chain.pk
    assert submitted(pharma, topics=[jobs]).approval_chain_id == hr_chain.pk
    # Product and job: the lower priority number (the product rule, 10) wins.
    assert submitted(pharma, topics=[jobs, pharma.products]).approval_chain_id == pharma.chain.pk
    assert submitted(pharma, language="en").approval_chain_id == english.pk
    on_x = submitted(pharma, captions={"x": ["Short."]})
    assert on_x.approval_chain_id == x_chain.pk
    assert submitted(pharma).approval_chain.is_default  # nothing matches
    # A job offer needs only HR: Medical people are not asked.
    job = submitted(pharma, title="We are hiring", topics=[jobs])
    assert job.approval_step.name == "HR"
    with pytest.raises(PermissionDeniedError):
        services.content_approve(actor=pharma.medical, content=job)
    assert services.content_approve(actor=pharma.hr, content=job).status == ContentStatus.APPROVED


def test_a_rule_needs_a_condition_and_its_own_organisations_topic(pharma):
    with pytest.raises(DomainError):
        chains.rule_add(actor=pharma.admin, chain=pharma.chain, data=chains.RuleInput())
    elsewhere = TopicFactory(name="Elsewhere", slug="elsewhere")
    with pytest.raises(DomainError) as error:
        chains.rule_add(
            actor=pharma.admin, chain=pharma.chain, data=chains.RuleInput(topic=elsewhere)
        )
    assert error.value.field == "topic"


# --- Deadlines and reminders ---------------------------------------------------------------


def test_overdue_steps_remind_their_reviewers_and_the_author_once(pharma, time_machine):
    time_machine.move_to(NOW, tick=False)
    content = product_post(pharma)
    assert fresh(content).step_due_at == NOW + timedelta(hours=48)
    Notification.objects.all().delete()

    time_machine.move_to(NOW + timedelta(hours=47), tick=False)
    assert chains.overdue_reminders_send() == 0

    time_machine.move_to(NOW + timedelta(hours=49), tick=False)
    assert chains.overdue_reminders_send() == 1
    overdue = Notification.objects.filter(kind="content.step_overdue")
    assert sorted(overdue.values_list("recipient_id", flat=True)) == sorted(
        [pharma.medical.pk, pharma.medical2.pk, pharma.editor.pk]
    )
    assert chains.overdue_reminders_send() == 0  # never twice for one step entry
    assert overdue.count() == 3
    first_round = list(overdue.values_list("pk", flat=True))

    # Medical approves: the Legal step gets its own due time and its own reminder.
    services.content_approve(actor=pharma.medical, content=content)
    assert fresh(content).step_due_at == NOW + timedelta(hours=49 + 24)
    time_machine.move_to(NOW + timedelta(hours=49 + 25), tick=False)
    assert chains.overdue_reminders_send() == 1
    assert set(
        Notification.objects.filter(kind="content.step_overdue")
        .exclude(pk__in=first_round)
        .values_list("recipient_id", flat=True)
    ) == {pharma.legal.pk, pharma.editor.pk}
    assert AuditLogEntry.objects.filter(action="content.step_overdue").count() == 2


def test_reminders_skip_decided_content_and_steps_without_deadline(pharma, time_machine):
    time_machine.move_to(NOW, tick=False)
    content = product_post(pharma)
    services.content_reject(actor=pharma.medical, content=content, comment="Rewrite")
    no_deadline = submitted(pharma)  # the default chain's step has no deadline
    assert fresh(no_deadline).step_due_at is None
    time_machine.move_to(NOW + timedelta(days=30), tick=False)
    assert chains.overdue_reminders_send() == 0


def test_the_beat_task_runs_the_reminders(pharma, time_machine):
    from content.tasks import remind_overdue_steps

    time_machine.move_to(NOW, tick=False)
    product_post(pharma)
    time_machine.move_to(NOW + timedelta(hours=50), tick=False)
    assert remind_overdue_steps.apply().get() == 1


# --- Chain state and the review desk --------------------------------------------------------


def test_the_chain_state_says_who_approved_what_and_when(pharma, time_machine):
    time_machine.move_to(NOW, tick=False)
    content = product_post(pharma)
    services.content_approve(actor=pharma.medical, content=content, comment="Fine")
    state = chains.chain_state(fresh(content), pharma.legal)
    assert state.chain_name == "Medical → Legal"
    assert [(s.name, s.state) for s in state.steps] == [("Medical", "done"), ("Legal", "current")]
    decision = state.steps[0].decisions[0]
    assert (decision.reviewer, decision.decision, decision.comment, decision.at) == (
        pharma.medical.get_full_name(),
        "approve",
        "Fine",
        NOW,
    )
    assert state.steps[1].reviewers == [pharma.legal.get_full_name()]
    assert state.steps[1].due_at == NOW + timedelta(hours=24)
    assert state.can_act
    assert not chains.chain_state(fresh(content), pharma.medical2).can_act


def test_the_review_desk_tells_my_steps_from_the_others(pharma):
    product = product_post(pharma)
    plain = submitted(pharma, title="Team lunch")
    for_legal = {c.title: c.my_step for c in selectors.review_queue(pharma.legal)}
    assert for_legal == {product.title: False, plain.title: True}
    mine = [c.title for c in selectors.review_queue(pharma.legal, mine=True)]
    assert mine == ["Team lunch"]
    assert {c.title for c in selectors.review_queue(pharma.medical, mine=True)} == {
        product.title,
        "Team lunch",
    }


# --- Administration ------------------------------------------------------------------------


def test_only_admins_change_chains(pharma):
    with pytest.raises(PermissionDeniedError):
        chains.chain_save(actor=pharma.legal, name="Mine")
    with pytest.raises(PermissionDeniedError):
        chains.step_add(actor=pharma.editor, chain=pharma.chain, data=chains.StepInput(name="X"))


def test_there_is_always_exactly_one_default_chain(pharma):
    default = chains.chain_default_for(pharma.organization)
    with pytest.raises(DomainError):
        chains.chain_save(actor=pharma.admin, chain=default, name=default.name, is_default=False)
    with pytest.raises(ConflictError):
        chains.chain_delete(actor=pharma.admin, chain=default)
    chains.chain_save(
        actor=pharma.admin, chain=pharma.chain, name=pharma.chain.name, is_default=True
    )
    defaults = ApprovalChain.objects.filter(organization=pharma.organization, is_default=True)
    assert list(defaults.values_list("pk", flat=True)) == [pharma.chain.pk]


def test_steps_are_reordered_and_a_chain_keeps_one_step(pharma):
    legal = pharma.chain.steps.get(position=2)
    chains.step_move(actor=pharma.admin, step=legal, up=True)
    assert list(pharma.chain.steps.order_by("position").values_list("name", flat=True)) == [
        "Legal",
        "Medical",
    ]
    chains.step_delete(
        actor=pharma.admin, step=ApprovalStep.objects.get(chain=pharma.chain, name="Medical")
    )
    with pytest.raises(ConflictError):
        chains.step_delete(actor=pharma.admin, step=pharma.chain.steps.get())
    assert pharma.chain.steps.count() == 1


def test_a_chain_with_content_in_review_and_a_group_in_use_are_not_deleted(pharma):
    product_post(pharma)
    with pytest.raises(ConflictError):
        chains.chain_delete(actor=pharma.admin, chain=pharma.chain)
    group = pharma.chain.steps.get(position=1).reviewer_group
    with pytest.raises(ConflictError, match="Medical"):
        chains.reviewer_group_delete(actor=pharma.admin, group=group)
    assert ApprovalChain.objects.filter(pk=pharma.chain.pk).exists()


def test_only_reviewers_of_the_organisation_are_named(pharma):
    stranger = UserFactory(role=Role.REVIEWER)
    with pytest.raises(DomainError) as error:
        chains.step_add(
            actor=pharma.admin,
            chain=pharma.chain,
            data=chains.StepInput(name="X", reviewers=[stranger]),
        )
    assert error.value.field == "reviewers"
    with pytest.raises(DomainError):
        chains.reviewer_group_save(actor=pharma.admin, name="Editors", members=[pharma.editor])
    outsider_admin = UserFactory(role=Role.ORG_ADMIN)
    with pytest.raises(Exception) as refused:
        chains.chain_delete(actor=outsider_admin, chain=pharma.chain)
    assert refused.type.__name__ == "Http404"


def test_every_change_is_audited(pharma):
    actions = set(
        AuditLogEntry.objects.filter(organization=pharma.organization).values_list(
            "action", flat=True
        )
    )
    assert {
        "approval.group_created",
        "approval.chain_created",
        "approval.steps_replaced",
        "approval.rule_added",
    } <= actions


def test_a_new_organisation_gets_a_default_chain_like_the_old_policy():
    organization = OrganizationFactory()
    chain = chains.chain_default_for(organization)
    assert chain.is_default
    assert [(s.position, s.required_approvals) for s in chain.steps.all()] == [(1, 1)]
    assert chains.chain_default_for(organization).pk == chain.pk
