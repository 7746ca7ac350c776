"""/api/v1/approval-chains/ and the chain state in the content API: who reads and who
writes, validation as problem JSON, organisation scoping, and a bounded query count."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from content import chains, services
from content.models import ApprovalChain, ContentKind, ContentStatus
from content.services import ContentInput
from organizations.models import AuditLogEntry, Role
from tests.conftest import api_client_for
from tests.content.factories import TopicFactory
from tests.factories import OrganizationFactory, UserFactory

pytestmark = pytest.mark.django_db

API = "/api/v1/approval-chains/"
GROUPS = "/api/v1/approval-chains/reviewer-groups/"


@pytest.fixture
def people(personas):
    org = personas.organization

    def person(role, name):
        return UserFactory(organization=org, role=role, first_name=name)

    return {
        "admin": personas.owner,
        "editor": person(Role.EDITOR, "Eddie"),
        "medical": person(Role.REVIEWER, "Marie"),
        "legal": person(Role.REVIEWER, "Léa"),
        "employee": personas.teammate,
        "outsider": personas.outsider,
        "topic": TopicFactory(organization=org, name="Products", slug="products"),
        "org": org,
        "other_org": personas.other_organization,
    }


def problem(response, status):
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    return response.json()


def medical_legal(people) -> dict:
    return {
        "name": "Medical → Legal",
        "steps": [
            {"name": "Medical", "reviewers": [people["medical"].pk], "deadline_hours": 48},
            {"name": "Legal", "reviewers": [people["legal"].pk], "required_approvals": 1},
        ],
        "rules": [{"priority": 10, "topic": people["topic"].pk}],
    }


def test_an_admin_configures_medical_then_legal_by_topic(people):
    admin = api_client_for(people["admin"])
    response = admin.post(API, medical_legal(people), format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert [s["name"] for s in body["steps"]] == ["Medical", "Legal"]
    assert body["steps"][0]["reviewers"][0]["email"] == people["medical"].email
    assert body["steps"][0]["deadline_hours"] == 48
    assert body["rules"][0]["topic"]["slug"] == "products"
    assert body["is_default"] is False

    # Content on the topic now goes Medical → Legal.
    content = services.content_create(
        actor=people["editor"],
        data=ContentInput(
            kind=ContentKind.TEXT,
            title="New product",
            topics=[people["topic"]],
            captions={"linkedin": ["Our new product."]},
        ),
    )
    content = services.content_submit(actor=people["editor"], content=content)
    assert content.approval_step.name == "Medical"
    detail = api_client_for(people["legal"]).get(f"/api/v1/contents/{content.pk}/").json()
    approval = detail["approval"]
    assert approval["chain_name"] == "Medical → Legal"
    assert approval["current_position"] == 1
    assert approval["can_act"] is False
    assert [s["state"] for s in approval["steps"]] == ["current", "waiting"]

    # Legal cannot act at Medical (problem JSON); Medical can, then Legal.
    refused = api_client_for(people["legal"]).post(f"/api/v1/contents/{content.pk}/approve/")
    assert "Medical" in problem(refused, 403)["detail"]
    step1 = api_client_for(people["medical"]).post(f"/api/v1/contents/{content.pk}/approve/")
    assert step1.json()["approval"]["current_position"] == 2
    assert step1.json()["approval"]["steps"][0]["decisions"][0]["decision"] == "approve"
    step2 = api_client_for(people["legal"]).post(f"/api/v1/contents/{content.pk}/approve/")
    assert step2.json()["status"] == ContentStatus.APPROVED


def test_the_whole_steps_list_is_replaced_and_audited(people):
    admin = api_client_for(people["admin"])
    chain = admin.post(API, medical_legal(people), format="json").json()
    response = admin.patch(
        f"{API}{chain['id']}/",
        {"steps": [{"name": "Legal", "reviewers": [people["legal"].pk]}]},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert [s["name"] for s in response.json()["steps"]] == ["Legal"]
    assert response.json()["rules"]  # not sent: kept
    assert AuditLogEntry.objects.filter(action="approval.steps_replaced").count() == 2


def test_unknown_people_topics_and_groups_are_refused_with_the_field_named(people):
    admin = api_client_for(people["admin"])
    stranger = UserFactory(organization=people["other_org"], role=Role.REVIEWER)
    body = medical_legal(people)
    body["steps"][1]["reviewers"] = [stranger.pk]
    answer = problem(admin.post(API, body, format="json"), 400)
    assert "steps[1].reviewers" in str(answer)

    body = medical_legal(people)
    body["rules"][0]["topic"] = TopicFactory(organization=people["other_org"], slug="t").pk
    assert "rules[0].topic" in str(problem(admin.post(API, body, format="json"), 400))

    body = medical_legal(people)
    body["steps"][0]["reviewers"] = [people["employee"].pk]  # not a reviewer
    problem(admin.post(API, body, format="json"), 400)

    body = medical_legal(people)
    body["steps"] = []
    problem(admin.post(API, body, format="json"), 400)
    # Nothing was written half-way.
    assert not ApprovalChain.objects.filter(name="Medical → Legal").exists()


def test_editors_and_reviewers_read_only_admins_write(people):
    chains.chain_default_for(people["org"])
    for role in ("editor", "medical"):
        client = api_client_for(people[role])
        assert client.get(API).status_code == 200
        problem(client.post(API, {"name": "Mine"}, format="json"), 403)
    problem(api_client_for(people["employee"]).get(API), 403)


def test_another_organisations_chains_do_not_exist(people):
    theirs = chains.chain_default_for(people["other_org"])
    admin = api_client_for(people["admin"])
    assert theirs.pk not in [c["id"] for c in admin.get(API).json()["results"]]
    problem(admin.get(f"{API}{theirs.pk}/"), 404)
    problem(admin.delete(f"{API}{theirs.pk}/"), 404)
    problem(admin.patch(f"{API}{theirs.pk}/", {"name": "Mine"}, format="json"), 404)


def test_the_default_chain_is_not_deleted_and_one_default_remains(people):
    admin = api_client_for(people["admin"])
    default = admin.get(API).json()["results"][0]
    assert default["is_default"] is True
    assert default["steps"][0]["open"] is True
    problem(admin.delete(f"{API}{default['id']}/"), 409)
    other = admin.post(API, {"name": "Other", "is_default": True}, format="json").json()
    listed = admin.get(API).json()["results"]
    assert [c["id"] for c in listed if c["is_default"]] == [other["id"]]
    assert admin.delete(f"{API}{default['id']}/").status_code == 204


def test_reviewer_groups(people):
    admin = api_client_for(people["admin"])
    group = admin.post(
        GROUPS, {"name": "Medical affairs", "members": [people["medical"].pk]}, format="json"
    )
    assert group.status_code == 201, group.content
    group_id = group.json()["id"]
    chain = admin.post(
        API,
        {"name": "Medical", "steps": [{"name": "Medical", "reviewer_group": group_id}]},
        format="json",
    ).json()
    assert chain["steps"][0]["reviewer_group"]["name"] == "Medical affairs"
    assert chain["steps"][0]["open"] is False
    problem(admin.delete(f"{GROUPS}{group_id}/"), 409)  # in use
    theirs = chains.reviewer_group_save(
        actor=people["outsider"], name="Theirs", members=[people["outsider"]]
    )
    problem(
        admin.post(
            API, {"name": "X", "steps": [{"name": "X", "reviewer_group": theirs.pk}]}, format="json"
        ),
        400,
    )
    problem(admin.get(f"{GROUPS}{theirs.pk}/"), 404)
    assert api_client_for(people["editor"]).get(GROUPS).status_code == 200


def test_listing_chains_runs_a_bounded_number_of_queries(people):
    admin = api_client_for(people["admin"])

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert admin.get(API).status_code == 200
        return len(queries)

    admin.post(API, medical_legal(people), format="json")
    few = count()
    for index in range(4):
        body = medical_legal(people)
        body["name"] = f"Chain {index}"
        admin.post(API, body, format="json")
    assert count() == few


def test_the_schema_documents_the_resource(people):
    schema = api_client_for(people["admin"]).get("/api/schema/?format=json").json()
    assert "/api/v1/approval-chains/" in schema["paths"]
    assert "/api/v1/approval-chains/reviewer-groups/" in schema["paths"]
    other = OrganizationFactory()
    assert other.pk  # the schema is the same for everyone; nothing organisation-specific
