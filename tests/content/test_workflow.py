"""The review workflow, called through the services: who may do what in which state, N
approvals by different reviewers, versions and their diff, audit entries, notifications,
compliance, suggestions, the charter and the refused link preview."""

from __future__ import annotations

import socket
from dataclasses import dataclass

import pytest

from content import chains, selectors, services
from content.models import (
    CharterAcceptance,
    ComplianceRule,
    Content,
    ContentKind,
    ContentStatus,
    ContentVersion,
    GuidelineKind,
    PreviewStatus,
    Review,
    RuleKind,
    SuggestionStatus,
)
from content.services import ContentInput
from content.signals import content_withdrawn
from notifications.models import Notification
from organizations.errors import ConflictError, DomainError, PermissionDeniedError
from organizations.models import AuditLogEntry, Organization, Role, User
from tests.content.factories import ContentFactory, SuggestionFactory
from tests.factories import OrganizationFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db


@dataclass
class Cast:
    organization: Organization
    employee: User
    editor: User
    editor2: User
    reviewer: User
    reviewer2: User
    manager: User
    org_admin: User
    outsider_editor: User


@pytest.fixture
def cast(db) -> Cast:
    organization = OrganizationFactory(name="Santéa", slug="santea")
    team = TeamFactory(organization=organization, name="Communication")

    def person(role: str, language: str = "en") -> User:
        return UserFactory(organization=organization, role=role, teams=[team], language=language)

    other = OrganizationFactory(name="Elsewhere", slug="elsewhere")
    return Cast(
        organization=organization,
        employee=person(Role.EMPLOYEE),
        editor=person(Role.EDITOR, "fr"),
        editor2=person(Role.EDITOR),
        reviewer=person(Role.REVIEWER),
        reviewer2=person(Role.REVIEWER),
        manager=person(Role.MANAGER),
        org_admin=person(Role.ORG_ADMIN),
        outsider_editor=UserFactory(organization=other, role=Role.EDITOR),
    )


def data(**overrides) -> ContentInput:
    values = {
        "kind": ContentKind.TEXT,
        "title": "Nos équipes à Lyon",
        "why_it_matters": "Le site de Lyon recrute.",
        "captions": {"linkedin": ["Fiers de nos équipes lyonnaises."], "x": ["Bravo Lyon !"]},
        "hashtags": ["Lyon", "#Santé"],
    }
    values.update(overrides)
    return ContentInput(**values)


def draft(cast: Cast, **overrides) -> Content:
    return services.content_create(actor=cast.editor, data=data(**overrides))


def in_review(cast: Cast, **overrides) -> Content:
    return services.content_submit(actor=cast.editor, content=draft(cast, **overrides))


def approved(cast: Cast, **overrides) -> Content:
    return services.content_approve(actor=cast.reviewer, content=in_review(cast, **overrides))


def withdrawn(cast: Cast) -> Content:
    return services.content_withdraw(actor=cast.editor, content=approved(cast), reason="Erreur")


STATES = {"draft": draft, "in_review": in_review, "approved": approved, "withdrawn": withdrawn}


def audit_actions(content: Content) -> list[str]:
    return list(
        AuditLogEntry.objects.filter(target_type="content.content", target_id=str(content.pk))
        .order_by("id")
        .values_list("action", flat=True)
    )


# --- Who may do what ---------------------------------------------------------------------

# transition -> (state it starts from, the call, the status it leads to)
TRANSITIONS = {
    "create": (None, lambda user, c: services.content_create(actor=user, data=data()), "draft"),
    "submit": (
        "draft",
        lambda user, c: services.content_submit(actor=user, content=c),
        "in_review",
    ),
    "approve": (
        "in_review",
        lambda user, c: services.content_approve(actor=user, content=c),
        "approved",
    ),
    "reject": (
        "in_review",
        lambda user, c: services.content_reject(actor=user, content=c, comment="Trop vague."),
        "draft",
    ),
    "withdraw": (
        "approved",
        lambda user, c: services.content_withdraw(actor=user, content=c, reason="Crise"),
        "withdrawn",
    ),
    "edit": (
        "approved",
        lambda user, c: services.content_update(actor=user, content=c, data=data(title="Changé")),
        "in_review",
    ),
}

ALLOWED = {
    "create": {"editor", "org_admin"},
    "submit": {"editor", "org_admin"},
    "approve": {"reviewer", "org_admin"},
    "reject": {"reviewer", "org_admin"},
    "withdraw": {"editor", "reviewer", "org_admin"},
    "edit": {"editor", "org_admin"},
}
ROLES = ["employee", "editor", "reviewer", "manager", "org_admin"]


@pytest.mark.parametrize("transition", list(TRANSITIONS))
@pytest.mark.parametrize("role", ROLES)
def test_role_matrix(cast, role, transition):
    start, call, leads_to = TRANSITIONS[transition]
    # Written by another editor, so that "you wrote it" never hides the role check.
    content = STATES[start](cast) if start else None
    user = cast.editor2 if role == "editor" else getattr(cast, role)
    if role in ALLOWED[transition]:
        result = call(user, content)
        assert Content.objects.get(pk=result.pk).status == leads_to
    else:
        before = Content.objects.count()
        with pytest.raises(PermissionDeniedError):
            call(user, content)
        assert Content.objects.count() == before
        if content is not None:
            assert Content.objects.get(pk=content.pk).status == start


WRONG_STATES = [
    ("submit", "in_review"),
    ("submit", "approved"),
    ("submit", "withdrawn"),
    ("approve", "draft"),
    ("approve", "approved"),
    ("approve", "withdrawn"),
    ("reject", "draft"),
    ("reject", "approved"),
    ("withdraw", "draft"),
    ("withdraw", "in_review"),
    ("withdraw", "withdrawn"),
    ("edit", "withdrawn"),
]


@pytest.mark.parametrize(("transition", "state"), WRONG_STATES)
def test_transition_from_a_wrong_state_is_a_conflict(cast, transition, state):
    _start, call, _leads_to = TRANSITIONS[transition]
    content = STATES[state](cast)
    actor = cast.org_admin  # allowed every transition, and never the author
    with pytest.raises(ConflictError):
        call(actor, content)
    assert Content.objects.get(pk=content.pk).status == state


def test_another_organisations_editor_cannot_touch_the_content(cast):
    content = in_review(cast)
    with pytest.raises(PermissionDeniedError):
        services.content_update(actor=cast.outsider_editor, content=content, data=data())
    outsider_reviewer = UserFactory(
        organization=cast.outsider_editor.organization, role=Role.REVIEWER
    )
    with pytest.raises(PermissionDeniedError):
        services.content_approve(actor=outsider_reviewer, content=content)
    assert Content.objects.get(pk=content.pk).status == ContentStatus.IN_REVIEW


def test_another_organisation_can_neither_submit_reject_nor_withdraw(cast):
    content = draft(cast)
    with pytest.raises(PermissionDeniedError):
        services.content_submit(actor=cast.outsider_editor, content=content)
    assert Content.objects.get(pk=content.pk).status == ContentStatus.DRAFT

    content = services.content_submit(actor=cast.editor, content=content)
    outsider_reviewer = UserFactory(
        organization=cast.outsider_editor.organization, role=Role.REVIEWER
    )
    with pytest.raises(PermissionDeniedError):
        services.content_reject(actor=outsider_reviewer, content=content, comment="Non")
    content = services.content_approve(actor=cast.reviewer, content=content)
    with pytest.raises(PermissionDeniedError):
        services.content_withdraw(actor=cast.outsider_editor, content=content, reason="Crise")
    assert Content.objects.get(pk=content.pk).status == ContentStatus.APPROVED


# --- Approvals ---------------------------------------------------------------------------


def require_approvals(cast: Cast, count: int) -> None:
    # The single-step policy is now the default chain's one step (content.chains).
    chain = chains.chain_default_for(cast.organization)
    step = chain.steps.get()
    chains.step_update(
        actor=cast.org_admin,
        step=step,
        data=chains.StepInput(name=step.name, required_approvals=count),
    )


def test_two_approvals_need_two_different_reviewers(cast):
    require_approvals(cast, 2)
    content = in_review(cast)

    content = services.content_approve(actor=cast.reviewer, content=content)
    assert content.status == ContentStatus.IN_REVIEW
    with pytest.raises(ConflictError):
        services.content_approve(actor=cast.reviewer, content=content)
    assert Review.objects.filter(content=content).count() == 1
    assert Content.objects.get(pk=content.pk).status == ContentStatus.IN_REVIEW

    content = services.content_approve(actor=cast.reviewer2, content=content)
    assert content.status == ContentStatus.APPROVED
    actions = audit_actions(content)
    assert actions.count("content.approval_given") == 2
    assert actions.count("content.approved") == 1


def test_the_author_never_approves_their_own_content(cast):
    content = services.content_submit(
        actor=cast.org_admin, content=services.content_create(actor=cast.org_admin, data=data())
    )
    with pytest.raises(PermissionDeniedError):
        services.content_approve(actor=cast.org_admin, content=content)
    with pytest.raises(PermissionDeniedError):
        services.content_reject(actor=cast.org_admin, content=content, comment="Non.")
    assert not Review.objects.filter(content=content).exists()


def test_whoever_edited_the_current_version_cannot_approve_it(cast):
    content = in_review(cast)
    # The org admin edits the wording: this version is theirs too.
    content = services.content_update(actor=cast.org_admin, content=content, data=data(title="v2"))
    with pytest.raises(PermissionDeniedError):
        services.content_approve(actor=cast.org_admin, content=content)
    assert services.content_approve(actor=cast.reviewer, content=content).status == "approved"


def test_editing_approved_content_sends_it_back_to_review_as_a_new_version(cast):
    require_approvals(cast, 2)
    content = in_review(cast)
    services.content_approve(actor=cast.reviewer, content=content)
    content = services.content_approve(actor=cast.reviewer2, content=content)
    assert (content.status, content.version) == ("approved", 1)

    content = services.content_update(
        actor=cast.editor, content=content, data=data(title="Nos équipes à Lyon et Paris")
    )
    content.refresh_from_db()
    assert (content.status, content.version) == (ContentStatus.IN_REVIEW, 2)
    assert list(
        ContentVersion.objects.filter(content=content)
        .order_by("number")
        .values_list("number", flat=True)
    ) == [1, 2]

    # The approvals of version 1 do not count for version 2, and the same reviewers may
    # approve the new words.
    content = services.content_approve(actor=cast.reviewer, content=content)
    assert content.status == ContentStatus.IN_REVIEW
    content = services.content_approve(actor=cast.reviewer2, content=content)
    assert content.status == ContentStatus.APPROVED
    assert Review.objects.filter(content=content, version=2).count() == 2


# --- Rejection, submission, withdrawal ---------------------------------------------------


def test_rejecting_needs_a_comment(cast):
    content = in_review(cast)
    for comment in ("", "   "):
        with pytest.raises(DomainError) as caught:
            services.content_reject(actor=cast.reviewer, content=content, comment=comment)
        assert caught.value.field == "comment"
    assert Content.objects.get(pk=content.pk).status == ContentStatus.IN_REVIEW
    assert not Review.objects.filter(content=content).exists()


def test_rejecting_returns_to_draft_and_tells_the_author(cast):
    content = in_review(cast)
    services.content_reject(
        actor=cast.reviewer, content=content, comment="Citez la source de l'étude."
    )
    assert Content.objects.get(pk=content.pk).status == ContentStatus.DRAFT
    notification = Notification.objects.get(recipient=cast.editor, kind="content.decision")
    assert notification.body == "Citez la source de l'étude."
    assert content.title in notification.title
    assert notification.url == f"/content/{content.pk}/"
    review = Review.objects.get(content=content)
    assert (review.decision, review.reviewer, review.version) == ("reject", cast.reviewer, 1)


def test_approving_tells_the_author(cast):
    content = approved(cast)
    assert Notification.objects.filter(
        recipient=cast.editor, kind="content.decision", title__contains=content.title
    ).exists()


def test_submitting_asks_every_reviewer_but_not_the_submitter(cast):
    content = draft(cast)
    services.content_submit(actor=cast.org_admin, content=content)
    asked = set(
        Notification.objects.filter(kind="content.review_requested").values_list(
            "recipient", flat=True
        )
    )
    assert asked == {cast.reviewer.pk, cast.reviewer2.pk}


def test_a_draft_without_a_caption_cannot_be_submitted(cast):
    content = draft(cast, captions={})
    with pytest.raises(DomainError) as caught:
        services.content_submit(actor=cast.editor, content=content)
    assert caught.value.errors
    assert Content.objects.get(pk=content.pk).status == ContentStatus.DRAFT


def test_withdrawing_needs_a_reason_and_cancels_the_pin(cast, django_capture_on_commit_callbacks):
    content = approved(cast, pinned=True)
    with pytest.raises(DomainError):
        services.content_withdraw(actor=cast.editor, content=content, reason=" ")
    assert Content.objects.get(pk=content.pk).status == ContentStatus.APPROVED

    received = []

    def receiver(sender, content, actor, **kwargs):
        received.append((content.pk, actor.pk))

    content_withdrawn.connect(receiver, dispatch_uid="test-withdrawn")
    try:
        with django_capture_on_commit_callbacks(execute=True):
            services.content_withdraw(
                actor=cast.reviewer, content=content, reason="Étude retirée par l'éditeur."
            )
    finally:
        content_withdrawn.disconnect(dispatch_uid="test-withdrawn")

    content.refresh_from_db()
    assert content.status == ContentStatus.WITHDRAWN
    assert content.withdrawn_reason == "Étude retirée par l'éditeur."
    assert content.pinned is False
    assert received == [(content.pk, cast.reviewer.pk)]
    assert content.lifecycle == "withdrawn"


def test_withdrawn_content_leaves_the_feed(cast):
    content = approved(cast)
    assert selectors.feed_list(cast.employee).filter(pk=content.pk).exists()
    services.content_withdraw(actor=cast.editor, content=content, reason="Crise")
    assert not selectors.feed_list(cast.employee).filter(pk=content.pk).exists()


# --- Audit and versions ------------------------------------------------------------------


def test_every_transition_is_audited(cast):
    content = draft(cast)
    content = services.content_update(actor=cast.editor, content=content, data=data(title="B"))
    content = services.content_submit(actor=cast.editor, content=content)
    content = services.content_reject(actor=cast.reviewer, content=content, comment="Non")
    content = services.content_update(actor=cast.editor, content=content, data=data(title="C"))
    content = services.content_submit(actor=cast.editor, content=content)
    content = services.content_approve(actor=cast.reviewer, content=content)
    services.content_withdraw(actor=cast.editor, content=content, reason="Crise")
    assert audit_actions(content) == [
        "content.created",
        "content.updated",
        "content.submitted",
        "content.rejected",
        "content.updated",
        "content.submitted",
        "content.approval_given",
        "content.approved",
        "content.withdrawn",
    ]
    entries = AuditLogEntry.objects.filter(target_id=str(content.pk), target_type="content.content")
    assert all(entry.organization_id == cast.organization.pk for entry in entries)
    assert entries.get(action="content.rejected").actor == cast.reviewer
    assert entries.get(action="content.withdrawn").details == {"reason": "Crise"}


def test_each_edit_records_a_version_and_the_diff_shows_the_change(cast):
    content = draft(cast, title="Nos équipes à Lyon")
    content = services.content_update(
        actor=cast.editor2,
        content=content,
        data=data(title="Nos équipes à Paris", captions={"linkedin": ["Fiers de Paris."]}),
    )
    versions = ContentVersion.objects.filter(content=content).order_by("number")
    assert [(v.number, v.author) for v in versions] == [(1, cast.editor), (2, cast.editor2)]
    assert versions[0].snapshot["title"] == "Nos équipes à Lyon"
    assert versions[1].snapshot["title"] == "Nos équipes à Paris"

    changes = {change.field: change for change in selectors.version_diff(content, 2)}
    assert set(changes) == {"title", "captions"}
    title = changes["title"]
    assert (title.before, title.after) == ("Nos équipes à Lyon", "Nos équipes à Paris")
    assert ("delete", "Lyon") in title.diff
    assert ("insert", "Paris") in title.diff
    assert ("equal", "Nos équipes à") in title.diff
    # The first version is diffed against nothing: every field is an insertion.
    first = {change.field: change for change in selectors.version_diff(content, 1)}
    assert ("insert", "Nos équipes à Lyon") in first["title"].diff


# --- Compliance --------------------------------------------------------------------------


@pytest.mark.parametrize("written", ["Une GUÉRISON rapide", "une guerison rapide", "Sans-Risque"])
def test_a_blocked_term_blocks_submission_whatever_the_case_and_accents(cast, written):
    for term in ("guérison", "sans risque"):
        services.compliance_rule_add(actor=cast.org_admin, kind=RuleKind.BLOCKED_TERM, value=term)
    content = draft(cast, captions={"linkedin": [written], "x": ["Rien à signaler."]})
    with pytest.raises(DomainError) as caught:
        services.content_submit(actor=cast.editor, content=content)
    assert len(caught.value.errors) == 1
    assert caught.value.errors[0].startswith("LinkedIn: ")
    assert "Blocked term" in caught.value.errors[0] or "Terme" in caught.value.errors[0]
    assert Content.objects.get(pk=content.pk).status == ContentStatus.DRAFT


def test_every_violation_is_listed(cast):
    services.compliance_rule_add(actor=cast.org_admin, kind=RuleKind.BLOCKED_TERM, value="miracle")
    content = draft(
        cast, captions={"linkedin": ["Un remède miracle."], "x": ["Miracle ! " + "a" * 300]}
    )
    with pytest.raises(DomainError) as caught:
        services.content_submit(actor=cast.editor, content=content)
    errors = caught.value.errors
    assert len(errors) == 3  # the term on LinkedIn, the term and the length on X
    assert sum(error.startswith("X: ") for error in errors) == 2


def test_a_rule_added_during_review_blocks_approval(cast):
    content = in_review(cast, captions={"linkedin": ["Un traitement 100% efficace."]})
    services.compliance_rule_add(
        actor=cast.org_admin, kind=RuleKind.BLOCKED_TERM, value="100% efficace"
    )
    with pytest.raises(DomainError) as caught:
        services.content_approve(actor=cast.reviewer, content=content)
    assert any("100% efficace" in error for error in caught.value.errors)
    assert Content.objects.get(pk=content.pk).status == ContentStatus.IN_REVIEW
    assert not Review.objects.filter(content=content).exists()


def test_a_link_outside_the_allowed_domains_blocks_submission(cast):
    services.compliance_rule_add(
        actor=cast.org_admin, kind=RuleKind.ALLOWED_DOMAIN, value="santea.example"
    )
    content = draft(cast, kind=ContentKind.LINK, link_url="https://evil.example.net/x")
    with pytest.raises(DomainError) as caught:
        services.content_submit(actor=cast.editor, content=content)
    assert any("evil.example.net" in error for error in caught.value.errors)


def test_only_org_admins_change_rules(cast):
    with pytest.raises(PermissionDeniedError):
        services.compliance_rule_add(actor=cast.editor, kind=RuleKind.BLOCKED_TERM, value="x")
    assert not ComplianceRule.objects.exists()


# --- Suggestions -------------------------------------------------------------------------


def test_accepting_a_suggestion_creates_a_draft_credited_to_the_employee(cast):
    suggestion = services.suggestion_create(
        actor=cast.employee, text="Notre équipe a couru pour la recherche.", comment="Beau geste"
    )
    decided = services.suggestion_decide(
        actor=cast.editor, suggestion=suggestion, accept=True, note="Merci !"
    )
    assert decided.status == SuggestionStatus.ACCEPTED
    content = decided.content
    assert content is not None
    assert (content.status, content.suggested_by, content.author) == (
        ContentStatus.DRAFT,
        cast.employee,
        cast.editor,
    )
    assert content.organization == cast.organization
    assert content.captions.get().text == "Notre équipe a couru pour la recherche."
    notification = Notification.objects.get(
        recipient=cast.employee, kind="content.suggestion_decided"
    )
    assert notification.body == "Merci !"


def test_declining_a_suggestion_tells_the_employee(cast):
    suggestion = SuggestionFactory(organization=cast.organization, author=cast.employee)
    services.suggestion_decide(
        actor=cast.editor, suggestion=suggestion, accept=False, note="Déjà publié."
    )
    suggestion.refresh_from_db()
    assert suggestion.status == SuggestionStatus.DECLINED
    assert suggestion.content is None
    assert Notification.objects.filter(
        recipient=cast.employee, kind="content.suggestion_decided", body="Déjà publié."
    ).exists()


@pytest.mark.parametrize("first", [True, False])
def test_a_suggestion_is_decided_once(cast, first):
    suggestion = SuggestionFactory(organization=cast.organization, author=cast.employee)
    services.suggestion_decide(actor=cast.editor, suggestion=suggestion, accept=first)
    contents = Content.objects.count()
    with pytest.raises(ConflictError):
        services.suggestion_decide(actor=cast.editor2, suggestion=suggestion, accept=True)
    assert Content.objects.count() == contents
    assert Notification.objects.filter(kind="content.suggestion_decided").count() == 1


def test_only_editors_decide_suggestions(cast):
    suggestion = SuggestionFactory(organization=cast.organization, author=cast.employee)
    for user in (cast.employee, cast.reviewer, cast.manager):
        with pytest.raises(PermissionDeniedError):
            services.suggestion_decide(actor=user, suggestion=suggestion, accept=True)
    with pytest.raises(PermissionDeniedError):
        services.suggestion_decide(actor=cast.outsider_editor, suggestion=suggestion, accept=True)
    suggestion.refresh_from_db()
    assert suggestion.status == SuggestionStatus.PENDING


def test_a_suggestion_needs_a_link_or_a_text(cast):
    with pytest.raises(DomainError):
        services.suggestion_create(actor=cast.employee, url=" ", text="")
    with pytest.raises(DomainError):
        services.suggestion_create(actor=cast.employee, url="javascript:alert(1)")


# --- Charter -----------------------------------------------------------------------------


CHARTER = "# Charte\n\n- Je reste moi-même.\n- Je ne parle pas des produits.\n"


def test_the_charter_is_pending_until_accepted_and_again_after_a_new_version(cast):
    assert selectors.charter_pending(cast.employee) is None  # no charter yet
    charter = services.guideline_save(
        actor=cast.editor, kind=GuidelineKind.CHARTER, title="Charte", body=CHARTER
    )
    assert charter.version == 1
    assert selectors.charter_pending(cast.employee) == charter

    acceptance = services.charter_accept(user=cast.employee)
    assert (acceptance.guideline, acceptance.version) == (charter, 1)
    assert selectors.charter_pending(cast.employee) is None
    assert selectors.charter_pending(cast.manager) == charter  # everyone accepts for themself
    # Accepting twice keeps one record.
    services.charter_accept(user=cast.employee)
    assert CharterAcceptance.objects.filter(user=cast.employee).count() == 1

    # The same text (a new title, trailing spaces) is not a new version.
    charter = services.guideline_save(
        actor=cast.editor, kind=GuidelineKind.CHARTER, title="Notre charte", body=CHARTER + "  "
    )
    assert charter.version == 1
    assert selectors.charter_pending(cast.employee) is None

    charter = services.guideline_save(
        actor=cast.editor,
        kind=GuidelineKind.CHARTER,
        title="Charte",
        body=CHARTER + "- Je signale mon lien avec l'entreprise.\n",
    )
    assert charter.version == 2
    assert selectors.charter_pending(cast.employee) == charter
    services.charter_accept(user=cast.employee)
    assert sorted(
        CharterAcceptance.objects.filter(user=cast.employee).values_list("version", flat=True)
    ) == [1, 2]
    assert selectors.charter_pending(cast.employee) is None


def test_accepting_without_a_charter_is_a_conflict(cast):
    with pytest.raises(ConflictError):
        services.charter_accept(user=cast.employee)


def test_guidelines_are_written_by_editors_only(cast):
    with pytest.raises(PermissionDeniedError):
        services.guideline_save(
            actor=cast.employee, kind=GuidelineKind.CHARTER, title="Charte", body=CHARTER
        )


# --- Link preview ------------------------------------------------------------------------


def test_a_refused_address_is_recorded_without_any_connection(cast, monkeypatch):
    content = ContentFactory(
        organization=cast.organization,
        author=cast.editor,
        kind=ContentKind.LINK,
        link_url="http://127.0.0.1/admin",
        preview_status=PreviewStatus.PENDING,
    )
    attempts: list[object] = []

    def no_connection(self, address, *args, **kwargs):
        attempts.append(address)
        raise AssertionError(f"a connection was attempted to {address!r}")

    monkeypatch.setattr(socket.socket, "connect", no_connection)
    monkeypatch.setattr(socket.socket, "connect_ex", no_connection)
    monkeypatch.setattr(
        socket, "create_connection", lambda address, *a, **k: no_connection(None, address)
    )

    assert services.link_preview_refresh(content_id=content.pk) == PreviewStatus.REFUSED
    assert attempts == []
    content.refresh_from_db()
    assert content.preview_status == PreviewStatus.REFUSED
    assert content.preview_error
    assert content.preview_title == ""
