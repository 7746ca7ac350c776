"""The migration that turns each organisation's single-step policy into its default
approval chain, without changing anyone's behaviour."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("content", "0004_feeds")]
AFTER = [("content", "0007_remove_contentpolicy_required_approvals")]


def _migrate(targets):
    """Migrate the content app to `targets` (migrations of other apps that need a later
    content migration are unapplied with it) and return the models as they are then:
    every other app at its latest migration that does not need a later content one."""
    executor = MigrationExecutor(connection)
    graph = executor.loader.graph
    if targets == AFTER:
        targets = graph.leaf_nodes()  # everything back, other apps included
    executor.migrate(targets)
    executor.loader.build_graph()
    graph = executor.loader.graph
    later = {node for node in graph.nodes if node[0] == "content" and node > BEFORE[0]}
    if targets == BEFORE:
        nodes = []
        for leaf in graph.leaf_nodes():
            if leaf[0] == "content":
                continue
            plan = [n for n in graph.forwards_plan(leaf) if n[0] == leaf[0]]
            fitting = [n for n in plan if not later & set(graph.forwards_plan(n))]
            nodes.extend(fitting[-1:])
        return executor.loader.project_state([*nodes, *BEFORE]).apps
    return executor.loader.project_state(graph.leaf_nodes()).apps


@pytest.mark.django_db(transaction=True)
def test_existing_policies_become_default_chains_and_reviews_carry_over():
    old = _migrate(BEFORE)
    Organization = old.get_model("organizations", "Organization")
    User = old.get_model("organizations", "User")
    ContentPolicy = old.get_model("content", "ContentPolicy")
    Content = old.get_model("content", "Content")
    Review = old.get_model("content", "Review")

    strict = Organization.objects.create(name="Strict", slug="strict", default_language="en")
    plain = Organization.objects.create(name="Plain", slug="plain", default_language="fr")
    ContentPolicy.objects.create(organization=strict, required_approvals=2)
    reviewer = User.objects.create(email="r@strict.test", organization=strict, role="reviewer")
    waiting = Content.objects.create(
        organization=strict, kind="text", title="Waiting", status="in_review", version=3
    )
    Review.objects.create(content=waiting, version=3, reviewer=reviewer, decision="approve")
    Review.objects.create(content=waiting, version=2, reviewer=reviewer, decision="reject")
    draft = Content.objects.create(organization=strict, kind="text", title="Draft", status="draft")

    new = _migrate(AFTER)
    ApprovalChain = new.get_model("content", "ApprovalChain")
    Content = new.get_model("content", "Content")
    Review = new.get_model("content", "Review")

    chain = ApprovalChain.objects.get(organization_id=strict.pk)
    assert (chain.name, chain.is_default) == ("Standard", True)
    steps = list(chain.steps.values_list("position", "name", "required_approvals"))
    assert steps == [(1, "Review", 2)]
    plain_chain = ApprovalChain.objects.get(organization_id=plain.pk)
    assert list(plain_chain.steps.values_list("name", "required_approvals")) == [("Validation", 1)]

    waiting = Content.objects.get(pk=waiting.pk)
    assert waiting.approval_chain_id == chain.pk
    assert waiting.approval_step_id == chain.steps.get().pk
    assert Review.objects.get(content_id=waiting.pk, version=3).step_id == waiting.approval_step_id
    assert Review.objects.get(content_id=waiting.pk, version=2).step_id is None
    assert Content.objects.get(pk=draft.pk).approval_step_id is None

    # And back: the policy gets its number again.
    back = _migrate(BEFORE)
    ContentPolicy = back.get_model("content", "ContentPolicy")
    assert ContentPolicy.objects.get(organization_id=strict.pk).required_approvals == 2
    assert ContentPolicy.objects.get(organization_id=plain.pk).required_approvals == 1
    _migrate(AFTER)


@pytest.mark.django_db(transaction=True)
def test_migrated_content_is_approved_as_before():
    """One approval of two is recorded before the migration; the second, after, approves."""
    old = _migrate(BEFORE)
    Organization = old.get_model("organizations", "Organization")
    OldUser = old.get_model("organizations", "User")
    ContentPolicy = old.get_model("content", "ContentPolicy")
    OldContent = old.get_model("content", "Content")
    OldReview = old.get_model("content", "Review")
    org = Organization.objects.create(name="Strict", slug="strict2", default_language="en")
    ContentPolicy.objects.create(organization=org, required_approvals=2)
    first = OldUser.objects.create(email="a@strict.test", organization=org, role="reviewer")
    OldUser.objects.create(email="b@strict.test", organization=org, role="reviewer")
    content = OldContent.objects.create(
        organization=org, kind="text", title="Waiting", status="in_review"
    )
    OldReview.objects.create(content=content, version=1, reviewer=first, decision="approve")
    _migrate(AFTER)

    from content import services
    from content.models import Content, ContentStatus
    from organizations.models import User

    second = User.objects.get(email="b@strict.test")
    approved = services.content_approve(actor=second, content=Content.objects.get(pk=content.pk))
    assert approved.status == ContentStatus.APPROVED
