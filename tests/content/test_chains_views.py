"""The pages: the approval chains administration (org admins only, clear errors, scoped),
the review desk's steps, and the chain on the content page with buttons only for those
who may decide."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from content import chains, services
from content.models import ApprovalChain, ChainRule, ContentKind, ReviewerGroup
from content.services import ContentInput
from organizations.models import Role
from tests.conftest import client_for
from tests.content.factories import TopicFactory
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

ADMIN = "/admin/approval-chains/"


@pytest.fixture
def cast(personas):
    org = personas.organization

    def person(role, name):
        return UserFactory(organization=org, role=role, first_name=name, language="en")

    medical, legal = person(Role.REVIEWER, "Marie"), person(Role.REVIEWER, "Léa")
    editor = person(Role.EDITOR, "Eddie")
    topic = TopicFactory(organization=org, name="Products", slug="products")
    chain = chains.chain_save(actor=personas.owner, name="Medical → Legal")
    chains.chain_steps_replace(
        actor=personas.owner,
        chain=chain,
        steps=[
            chains.StepInput(name="Medical", reviewers=[medical], deadline_hours=48),
            chains.StepInput(name="Legal", reviewers=[legal]),
        ],
    )
    chains.rule_add(actor=personas.owner, chain=chain, data=chains.RuleInput(topic=topic))
    return {
        "admin": personas.owner,
        "medical": medical,
        "legal": legal,
        "editor": editor,
        "topic": topic,
        "chain": chain,
        "personas": personas,
    }


def product_post(cast, title="New product"):
    content = services.content_create(
        actor=cast["editor"],
        data=ContentInput(
            kind=ContentKind.TEXT,
            title=title,
            topics=[cast["topic"]],
            captions={"linkedin": ["Our new product."]},
        ),
    )
    return services.content_submit(actor=cast["editor"], content=content)


# --- Administration ------------------------------------------------------------------------


def test_only_org_admins_open_the_administration(cast):
    for who in ("medical", "editor"):
        assert client_for(cast[who]).get(ADMIN).status_code == 404
    html = client_for(cast["admin"]).get(ADMIN).content.decode()
    assert "Medical → Legal" in html and "Medical" in html and "Legal" in html
    assert 'class="admin-tabs"' in html


def test_an_admin_builds_a_chain_with_steps_and_a_rule_from_the_pages(cast):
    client = client_for(cast["admin"])
    answer = client.post(ADMIN, {"create_chain": "1", "name": "HR"}, follow=True)
    chain = ApprovalChain.objects.get(name="HR")
    assert answer.redirect_chain[-1][0] == f"{ADMIN}{chain.pk}/"
    url = f"{ADMIN}{chain.pk}/"
    answer = client.post(
        url,
        {
            "add_step": "1",
            "new-name": "HR",
            "new-required_approvals": "1",
            "new-deadline_hours": "24",
            "new-reviewers": [cast["legal"].pk],
        },
        follow=True,
    )
    assert "Step added." in answer.content.decode()
    # A new chain starts with one open step, named in the organisation's language.
    assert list(chain.steps.order_by("position").values_list("name", flat=True)) == [
        "Validation",
        "HR",
    ]
    first = chain.steps.get(position=1)
    client.post(url, {"delete_step": first.pk})
    assert list(chain.steps.values_list("name", "position")) == [("HR", 1)]

    jobs = TopicFactory(organization=cast["personas"].organization, name="Jobs", slug="jobs")
    client.post(ADMIN, {"add_rule": "1", "chain": chain.pk, "priority": "5", "topic": jobs.pk})
    assert ChainRule.objects.get(chain=chain).topic == jobs


def test_errors_are_shown_on_the_forms_and_nothing_is_written(cast):
    client = client_for(cast["admin"])
    answer = client.post(ADMIN, {"create_chain": "1", "name": "Medical → Legal"})
    assert answer.status_code == 200
    assert "A chain already has this name." in answer.content.decode()
    answer = client.post(ADMIN, {"add_rule": "1", "chain": cast["chain"].pk, "priority": "5"})
    assert "A rule needs at least one condition" in answer.content.decode()
    url = f"{ADMIN}{cast['chain'].pk}/"
    editor = cast["editor"]
    answer = client.post(
        url,
        {
            "add_step": "1",
            "new-name": "X",
            "new-required_approvals": "1",
            "new-reviewers": [editor.pk],
        },
    )
    assert answer.status_code == 200
    assert cast["chain"].steps.count() == 2
    default = chains.chain_default_for(cast["personas"].organization)
    answer = client.post(f"{ADMIN}{default.pk}/", {"delete_chain": "1"}, follow=True)
    assert "cannot be deleted" in answer.content.decode()
    assert ApprovalChain.objects.filter(pk=default.pk).exists()


def test_steps_are_reordered_and_edited(cast):
    client = client_for(cast["admin"])
    chain = cast["chain"]
    legal = chain.steps.get(name="Legal")
    client.post(f"{ADMIN}{chain.pk}/", {"move_up": legal.pk})
    assert list(chain.steps.order_by("position").values_list("name", flat=True)) == [
        "Legal",
        "Medical",
    ]
    client.post(
        f"{ADMIN}{chain.pk}/",
        {
            "save_step": "1",
            "step": legal.pk,
            f"step{legal.pk}-name": "Legal affairs",
            f"step{legal.pk}-required_approvals": "2",
            f"step{legal.pk}-reviewers": [cast["legal"].pk, cast["medical"].pk],
        },
    )
    legal.refresh_from_db()
    assert (legal.name, legal.required_approvals) == ("Legal affairs", 2)


def test_reviewer_groups_from_the_pages(cast):
    client = client_for(cast["admin"])
    client.post(
        ADMIN,
        {
            "create_group": "1",
            "group-name": "Medical affairs",
            "group-members": [cast["medical"].pk],
        },
    )
    group = ReviewerGroup.objects.get(name="Medical affairs")
    assert list(group.members.all()) == [cast["medical"]]
    page = client.get(f"{ADMIN}groups/{group.pk}/")
    assert page.status_code == 200
    client.post(f"{ADMIN}groups/{group.pk}/", {"delete_group": "1"})
    assert not ReviewerGroup.objects.filter(pk=group.pk).exists()


def test_another_organisations_chains_and_groups_are_404(cast):
    personas = cast["personas"]
    theirs = chains.chain_default_for(personas.other_organization)
    group = chains.reviewer_group_save(actor=personas.outsider, name="Theirs", members=[])
    client = client_for(cast["admin"])
    assert client.get(f"{ADMIN}{theirs.pk}/").status_code == 404
    assert client.post(f"{ADMIN}{theirs.pk}/", {"delete_chain": "1"}).status_code == 404
    assert client.get(f"{ADMIN}groups/{group.pk}/").status_code == 404
    assert theirs.name not in client.get(ADMIN).content.decode() or theirs.name in {
        c.name for c in ApprovalChain.objects.filter(organization=personas.organization)
    }


def test_the_administration_runs_a_bounded_number_of_queries(cast):
    client = client_for(cast["admin"])

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(ADMIN).status_code == 200
        return len(queries)

    few = count()
    for index in range(3):
        chain = chains.chain_save(actor=cast["admin"], name=f"Chain {index}")
        chains.step_add(
            actor=cast["admin"],
            chain=chain,
            data=chains.StepInput(name="S", reviewers=[cast["legal"]]),
        )
    assert count() == few


# --- Review desk and content page -----------------------------------------------------------


def test_the_desk_shows_the_step_and_filters_my_steps(cast):
    product_post(cast)
    client = client_for(cast["legal"])
    html = client.get("/review/").content.decode()
    assert "Medical" in html and "At another step" in html
    mine = client.get("/review/?mine=1").content.decode()
    assert "New product" not in mine
    assert "Nothing waiting at your steps" in mine
    assert "New product" in client_for(cast["medical"]).get("/review/?mine=1").content.decode()


def test_the_content_page_shows_the_chain_and_buttons_only_for_the_steps_people(cast):
    content = product_post(cast)
    url = f"/content/{content.pk}/"
    legal_html = client_for(cast["legal"]).get(url).content.decode()
    assert "Approval chain: Medical → Legal" in legal_html
    assert 'aria-current="step"' in legal_html
    assert 'id="decision"' not in legal_html
    medical_html = client_for(cast["medical"]).get(url).content.decode()
    assert 'id="decision"' in medical_html
    assert "You can decide at this step." in medical_html

    client_for(cast["medical"]).post(f"{url}approve/", {"comment": "Fine"})
    html = client_for(cast["legal"]).get(url).content.decode()
    assert "Marie" in html and "Fine" in html
    assert 'id="decision"' in html
    # A reviewer outside the step is refused with a message, not a 500.
    answer = client_for(cast["medical"]).post(f"{url}approve/", follow=True)
    assert answer.status_code == 200
