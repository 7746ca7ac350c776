"""The content API: the library and its review workflow by role, compliance, the feed,
suggestions, topics, organisation isolation and bounded query counts."""

from __future__ import annotations

import io
from dataclasses import dataclass

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from PIL import Image

from content import chains
from content.models import (
    ComplianceRule,
    Content,
    ContentPolicy,
    ContentStatus,
    Network,
    RuleKind,
    Suggestion,
    SuggestionStatus,
    Topic,
)
from organizations.models import Organization, Role, Team, User
from tests.conftest import api_client_for
from tests.content.factories import (
    CaptionFactory,
    ContentFactory,
    SuggestionFactory,
    TopicFactory,
)
from tests.factories import TeamFactory, UserFactory

pytestmark = pytest.mark.django_db

API = "/api/v1"


@dataclass
class Cast:
    organization: Organization
    team: Team
    owner: User  # org admin: may edit and review
    employee: User
    editor: User
    reviewer: User
    reviewer2: User
    outsider: User
    other_organization: Organization
    other_team: Team


@pytest.fixture
def cast(personas) -> Cast:
    org = personas.organization

    def person(role: str) -> User:
        return UserFactory(organization=org, role=role, teams=[personas.team])

    return Cast(
        organization=org,
        team=personas.team,
        owner=personas.owner,
        employee=personas.teammate,
        editor=person(Role.EDITOR),
        reviewer=person(Role.REVIEWER),
        reviewer2=person(Role.REVIEWER),
        outsider=personas.outsider,
        other_organization=personas.other_organization,
        other_team=personas.other_team,
    )


def payload(**overrides) -> dict:
    values = {
        "kind": "text",
        "title": "Nos équipes à Lyon",
        "why_it_matters": "Le site de Lyon recrute.",
        "hashtags": ["Lyon", "#Santé"],
        "captions": {"linkedin": ["Fiers de nos équipes lyonnaises."], "x": ["Bravo Lyon !"]},
    }
    values.update(overrides)
    return values


def create(user: User, **overrides) -> dict:
    response = api_client_for(user).post(f"{API}/contents/", payload(**overrides), format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def post(user: User, url: str, body: dict | None = None):
    return api_client_for(user).post(url, body or {}, format="json")


def submitted(cast: Cast, **overrides) -> dict:
    content = create(cast.editor, **overrides)
    response = post(cast.editor, f"{API}/contents/{content['id']}/submit/")
    assert response.status_code == 200, response.json()
    return response.json()


def approved(cast: Cast, **overrides) -> dict:
    content = submitted(cast, **overrides)
    response = post(cast.reviewer, f"{API}/contents/{content['id']}/approve/")
    assert response.status_code == 200, response.json()
    return response.json()


def error_fields(response) -> set[str]:
    return {error["field"] for error in response.json().get("errors", [])}


# --- Roles and the workflow --------------------------------------------------------------


def test_employee_cannot_list_create_edit_or_review(cast):
    content = approved(cast)  # published now, in the employee's feed
    client = api_client_for(cast.employee)

    assert client.get(f"{API}/contents/").status_code == 403
    response = client.post(f"{API}/contents/", payload(), format="json")
    assert response.status_code == 403
    assert response["Content-Type"] == "application/problem+json"
    assert (
        client.put(f"{API}/contents/{content['id']}/", payload(), format="json").status_code == 403
    )
    assert (
        client.patch(f"{API}/contents/{content['id']}/", {"title": "x"}, format="json").status_code
        == 403
    )
    for verb in ("submit", "approve", "reject", "withdraw"):
        body = {"comment": "no", "reason": "no"}
        assert (
            post(cast.employee, f"{API}/contents/{content['id']}/{verb}/", body).status_code == 403
        )
    assert client.get(f"{API}/contents/{content['id']}/versions/").status_code == 403
    # Reading one item the feed shows is fine.
    response = client.get(f"{API}/contents/{content['id']}/")
    assert response.status_code == 200
    assert response.json()["title"] == "Nos équipes à Lyon"
    assert Content.objects.count() == 1


def test_editor_creates_with_everything_and_submits(cast, django_capture_on_commit_callbacks):
    topic = TopicFactory(organization=cast.organization, name="Recrutement", slug="recrutement")
    publish_at = timezone.now() + timezone.timedelta(days=1)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        content = create(
            cast.editor,
            kind="link",
            link_url="https://example.com/lyon",
            topics=[topic.pk],
            audience_teams=[cast.team.pk],
            language="en",
            publish_at=publish_at.isoformat(),
            pinned=True,
            caption_locked=True,
        )
    assert callbacks, "the link preview fetch is queued on commit"

    assert content["status"] == "draft"
    assert content["lifecycle"] == "draft"
    assert content["version"] == 1
    assert content["author"] == cast.editor.email
    assert content["hashtags"] == ["#Lyon", "#Santé"]
    assert content["topics"] == [{"id": topic.pk, "name": "Recrutement", "slug": "recrutement"}]
    assert content["audience_teams"] == [{"id": cast.team.pk, "name": cast.team.name}]
    assert content["language"] == "en"
    assert content["pinned"] is True
    assert content["caption_locked"] is True
    assert content["preview"]["status"] == "pending"
    assert content["image_url"] is None
    assert content["renditions"] == {}
    captions = {c["network"]: c for c in content["captions"]}
    assert captions["x"]["text"] == "Bravo Lyon !"
    assert captions["x"]["length"] == len("Bravo Lyon !")
    assert set(captions) == {"linkedin", "x"}

    response = post(cast.editor, f"{API}/contents/{content['id']}/submit/")
    assert response.status_code == 200
    assert response.json()["status"] == "in_review"

    listed = api_client_for(cast.reviewer).get(f"{API}/contents/").json()
    assert [item["id"] for item in listed["results"]] == [content["id"]]


def test_language_defaults_to_the_organisation_language(cast):
    cast.organization.default_language = "en"
    cast.organization.save()
    content = create(cast.editor)
    assert content["language"] == "en"


def test_reviewer_approves_and_the_content_is_published(cast):
    content = submitted(cast)
    response = post(cast.reviewer, f"{API}/contents/{content['id']}/approve/", {"comment": "OK"})
    assert response.status_code == 200
    assert response.json()["status"] == "approved"
    assert response.json()["lifecycle"] == "published"


def test_author_cannot_approve_their_own_content(cast):
    content = create(cast.owner)  # an org admin may write and review, not both on one item
    assert post(cast.owner, f"{API}/contents/{content['id']}/submit/").status_code == 200
    response = post(cast.owner, f"{API}/contents/{content['id']}/approve/")
    assert response.status_code == 403
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == 403
    assert body["detail"]
    assert Content.objects.get(pk=content["id"]).status == ContentStatus.IN_REVIEW


def test_two_approvals_from_different_reviewers(cast):
    # The single-step policy is now the default chain's one step (content.chains).
    step = chains.chain_default_for(cast.organization).steps.get()
    step.required_approvals = 2
    step.save()
    content = submitted(cast)
    url = f"{API}/contents/{content['id']}/approve/"

    first = post(cast.reviewer, url)
    assert first.status_code == 200
    assert first.json()["status"] == "in_review"

    again = post(cast.reviewer, url)
    assert again.status_code == 409
    assert again["Content-Type"] == "application/problem+json"

    second = post(cast.reviewer2, url)
    assert second.status_code == 200
    assert second.json()["status"] == "approved"


def test_reject_requires_a_comment(cast):
    content = submitted(cast)
    url = f"{API}/contents/{content['id']}/reject/"
    for body in ({}, {"comment": "   "}):
        response = post(cast.reviewer, url, body)
        assert response.status_code == 400
        assert "comment" in error_fields(response)
    response = post(cast.reviewer, url, {"comment": "Trop vague."})
    assert response.status_code == 200
    assert response.json()["status"] == "draft"


def test_editing_approved_content_sends_it_back_to_review(cast):
    content = approved(cast)
    response = api_client_for(cast.editor).patch(
        f"{API}/contents/{content['id']}/", {"title": "Nos équipes à Lyon et Lille"}, format="json"
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "in_review"
    assert body["version"] == 2
    # A partial update keeps what it does not mention.
    assert body["hashtags"] == ["#Lyon", "#Santé"]
    assert {c["network"] for c in body["captions"]} == {"linkedin", "x"}

    versions = api_client_for(cast.reviewer).get(f"{API}/contents/{content['id']}/versions/")
    assert versions.status_code == 200
    latest, first = versions.json()
    assert (latest["number"], first["number"]) == (2, 1)
    assert latest["author"] == cast.editor.email
    assert [c["field"] for c in latest["changes"]] == ["title"]
    change = latest["changes"][0]
    assert change["before"] == "Nos équipes à Lyon"
    assert change["after"] == "Nos équipes à Lyon et Lille"
    assert {"op": "insert", "text": "et Lille"} in change["diff"]


def test_full_update_replaces_the_captions(cast):
    content = create(cast.editor, language="en")
    response = api_client_for(cast.editor).put(
        f"{API}/contents/{content['id']}/",
        payload(captions={"facebook": ["Une autre légende."]}, hashtags=[]),
        format="json",
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert [c["network"] for c in body["captions"]] == ["facebook"]
    assert body["hashtags"] == []
    assert body["status"] == "draft"
    assert body["version"] == 2
    assert body["language"] == "en"  # kept, like the publication date
    assert body["publish_at"] == content["publish_at"]


def test_withdraw_needs_a_reason_and_approved_content(cast):
    draft = create(cast.editor)
    response = post(cast.editor, f"{API}/contents/{draft['id']}/withdraw/", {"reason": "Crise"})
    assert response.status_code == 409

    content = approved(cast)
    url = f"{API}/contents/{content['id']}/withdraw/"
    response = post(cast.editor, url, {})
    assert response.status_code == 400
    assert "reason" in error_fields(response)

    response = post(cast.reviewer, url, {"reason": "Erreur de chiffres"})
    assert response.status_code == 200
    assert response.json()["status"] == "withdrawn"
    assert response.json()["withdrawn_reason"] == "Erreur de chiffres"
    # Withdrawn content cannot be edited.
    response = api_client_for(cast.editor).patch(url.replace("withdraw/", ""), {"title": "x"})
    assert response.status_code == 409


def test_delete_is_not_allowed(cast):
    content = create(cast.editor)
    response = api_client_for(cast.owner).delete(f"{API}/contents/{content['id']}/")
    assert response.status_code == 405
    assert Content.objects.filter(pk=content["id"]).exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [("kind", "video"), ("title", ""), ("link_url", "ftp://example.com/"), ("language", "de")],
)
def test_invalid_input_names_the_field(cast, field, value):
    response = api_client_for(cast.editor).post(
        f"{API}/contents/", payload(**{field: value}), format="json"
    )
    assert response.status_code == 400
    assert field in error_fields(response)
    assert Content.objects.count() == 0


def test_unknown_caption_network_is_refused(cast):
    response = api_client_for(cast.editor).post(
        f"{API}/contents/", payload(captions={"myspace": ["Hello"]}), format="json"
    )
    assert response.status_code == 400
    assert any(field.startswith("captions") for field in error_fields(response))


def test_a_link_post_needs_a_link(cast):
    response = api_client_for(cast.editor).post(
        f"{API}/contents/", payload(kind="link"), format="json"
    )
    assert response.status_code == 400
    assert "link_url" in error_fields(response)


def test_an_expiry_already_past_is_refused_without_a_publication_date(cast):
    past = (timezone.now() - timezone.timedelta(days=1)).isoformat()
    response = api_client_for(cast.editor).post(
        f"{API}/contents/", payload(expires_at=past), format="json"
    )
    assert response.status_code == 400
    assert "expires_at" in error_fields(response)
    content = create(cast.editor)
    response = api_client_for(cast.editor).patch(
        f"{API}/contents/{content['id']}/", {"expires_at": past}, format="json"
    )
    assert response.status_code == 400
    assert "expires_at" in error_fields(response)


def test_expiry_before_publication_is_refused(cast):
    now = timezone.now()
    response = api_client_for(cast.editor).post(
        f"{API}/contents/",
        payload(
            publish_at=now.isoformat(), expires_at=(now - timezone.timedelta(days=1)).isoformat()
        ),
        format="json",
    )
    assert response.status_code == 400
    assert "expires_at" in error_fields(response)


# --- Library filters ---------------------------------------------------------------------


def test_library_filters(cast):
    topic = TopicFactory(organization=cast.organization, name="Climat", slug="climat")
    climate = create(cast.editor, title="Notre bilan carbone", topics=[topic.pk])
    create(cast.owner, title="Recrutement à Lyon", language="en")
    published = approved(cast, title="Journée portes ouvertes")
    client = api_client_for(cast.reviewer)

    def ids(query: str) -> list[int]:
        response = client.get(f"{API}/contents/?{query}")
        assert response.status_code == 200, response.json()
        return [item["id"] for item in response.json()["results"]]

    assert ids("topic=climat") == [climate["id"]]
    assert ids("q=carbone") == [climate["id"]]
    assert ids("status=published") == [published["id"]]
    assert ids("status=approved") == [published["id"]]
    assert ids("status=scheduled") == []
    assert len(ids("status=draft")) == 2
    assert ids(f"author={cast.owner.pk}") != []
    assert all(
        item["author"] == cast.owner.email
        for item in client.get(f"{API}/contents/?author={cast.owner.pk}").json()["results"]
    )
    assert [i for i in ids("language=en")] == [c.pk for c in Content.objects.filter(language="en")]


@pytest.mark.parametrize(
    ("query", "field"),
    [("status=bogus", "status"), ("author=abc", "author"), ("language=xx", "language")],
)
def test_bad_library_filter_is_a_400_naming_it(cast, query, field):
    response = api_client_for(cast.editor).get(f"{API}/contents/?{query}")
    assert response.status_code == 400
    assert field in error_fields(response)


# --- Compliance --------------------------------------------------------------------------


def test_a_blocked_term_stops_the_submission(cast):
    ComplianceRule.objects.create(
        organization=cast.organization, kind=RuleKind.BLOCKED_TERM, value="guérison garantie"
    )
    content = create(cast.editor, captions={"linkedin": ["Une Guérison garantie pour tous !"]})
    response = post(cast.editor, f"{API}/contents/{content['id']}/submit/")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    messages = [error["message"] for error in response.json()["errors"]]
    assert any("guérison garantie" in message for message in messages), messages
    assert "captions" in error_fields(response)
    assert Content.objects.get(pk=content["id"]).status == ContentStatus.DRAFT


def test_content_without_captions_cannot_be_submitted(cast):
    content = create(cast.editor, captions={})
    response = post(cast.editor, f"{API}/contents/{content['id']}/submit/")
    assert response.status_code == 400
    assert "captions" in error_fields(response)


def test_compliance_check_reports_positions_length_and_disclosure(cast):
    ComplianceRule.objects.create(
        organization=cast.organization, kind=RuleKind.BLOCKED_TERM, value="sans risque"
    )
    ContentPolicy.objects.create(organization=cast.organization, disclosure="#employé")
    text = "Un traitement Sans Risque pour tous"
    response = post(cast.employee, f"{API}/compliance/check/", {"network": "x", "text": text})
    assert response.status_code == 200, response.json()
    body = response.json()
    # The length the verdict counts: the disclosure is part of what is shared.
    assert body["length"] == len(f"{text} #employé")
    assert body["limit"] == 280
    assert body["text_with_disclosure"] == f"{text} #employé"
    [violation] = body["violations"]
    assert violation["code"] == "blocked_term"
    assert violation["term"] == "sans risque"
    assert text[violation["start"] : violation["end"]] == "Sans Risque"
    assert "sans risque" in violation["message"]


def test_compliance_check_counts_x_urls_and_limits(cast):
    ContentPolicy.objects.create(organization=cast.organization, x_max_length=30)
    text = "Lisez https://example.com/un/tres/long/chemin/vers/la/page maintenant"
    response = post(cast.editor, f"{API}/compliance/check/", {"network": "x", "text": text})
    body = response.json()
    assert body["length"] == len("Lisez ") + 23 + len(" maintenant")
    assert body["limit"] == 30
    assert [v["code"] for v in body["violations"]] == ["too_long"]


def test_compliance_check_refuses_an_unknown_network(cast):
    response = post(cast.editor, f"{API}/compliance/check/", {"network": "myspace", "text": "Hi"})
    assert response.status_code == 400
    assert "network" in error_fields(response)


def test_compliance_check_uses_the_callers_organisation_rules(cast):
    ComplianceRule.objects.create(
        organization=cast.other_organization, kind=RuleKind.BLOCKED_TERM, value="secret"
    )
    response = post(
        cast.editor, f"{API}/compliance/check/", {"network": "linkedin", "text": "secret"}
    )
    assert response.json()["violations"] == []
    response = post(
        cast.outsider, f"{API}/compliance/check/", {"network": "linkedin", "text": "secret"}
    )
    assert [v["term"] for v in response.json()["violations"]] == ["secret"]


# --- Organisation isolation --------------------------------------------------------------


def test_another_organisations_content_does_not_exist(cast):
    content = approved(cast)
    draft = create(cast.editor)
    outsider = api_client_for(cast.outsider)
    for item in (content, draft):
        assert outsider.get(f"{API}/contents/{item['id']}/").status_code == 404
        assert outsider.get(f"{API}/contents/{item['id']}/versions/").status_code == 404
        assert (
            outsider.patch(
                f"{API}/contents/{item['id']}/", {"title": "hijacked"}, format="json"
            ).status_code
            == 404
        )
        assert outsider.get(f"{API}/feed/{item['id']}/").status_code == 404
    assert post(cast.outsider, f"{API}/contents/{draft['id']}/submit/").status_code == 404
    response = post(cast.outsider, f"{API}/contents/{content['id']}/withdraw/", {"reason": "x"})
    assert response.status_code == 404
    assert outsider.get(f"{API}/contents/").json()["results"] == []
    assert outsider.get(f"{API}/feed/").json()["results"] == []
    assert Content.objects.get(pk=content["id"]).status == ContentStatus.APPROVED
    assert Content.objects.get(pk=draft["id"]).title == "Nos équipes à Lyon"


@pytest.mark.parametrize("field", ["topics", "audience_teams"])
def test_another_organisations_topic_or_team_is_refused(cast, field):
    foreign = {
        "topics": lambda: TopicFactory(organization=cast.other_organization).pk,
        "audience_teams": lambda: cast.other_team.pk,
    }[field]()
    response = api_client_for(cast.editor).post(
        f"{API}/contents/", payload(**{field: [foreign]}), format="json"
    )
    assert response.status_code == 400
    assert field in error_fields(response)
    assert Content.objects.count() == 0

    content = create(cast.editor)
    response = api_client_for(cast.editor).patch(
        f"{API}/contents/{content['id']}/", {field: [foreign]}, format="json"
    )
    assert response.status_code == 400
    assert field in error_fields(response)


# --- Feed --------------------------------------------------------------------------------


def test_feed_shows_only_published_unexpired_targeted_content(cast):
    org = cast.organization
    now = timezone.now()
    sub_team = TeamFactory(organization=org, name="Lyon", parent=cast.team)
    cast.employee.teams.set([sub_team])
    elsewhere = TeamFactory(organization=org, name="Finance")
    visible = [
        ContentFactory(organization=org, title="Whole organisation"),
        ContentFactory(organization=org, title="Parent team", audience_teams=[cast.team]),
        ContentFactory(
            organization=org, title="Expires later", expires_at=now + timezone.timedelta(days=1)
        ),
    ]
    hidden = [
        ContentFactory(organization=org, title="Other team", audience_teams=[elsewhere]),
        ContentFactory(
            organization=org, title="Scheduled", publish_at=now + timezone.timedelta(hours=2)
        ),
        ContentFactory(
            organization=org,
            title="Expired",
            publish_at=now - timezone.timedelta(days=3),
            expires_at=now - timezone.timedelta(days=1),
        ),
        ContentFactory(organization=org, title="Draft", status=ContentStatus.DRAFT),
        ContentFactory(organization=org, title="In review", status=ContentStatus.IN_REVIEW),
        ContentFactory(organization=org, title="Withdrawn", status=ContentStatus.WITHDRAWN),
        ContentFactory(organization=cast.other_organization, title="Foreign"),
    ]
    client = api_client_for(cast.employee)
    response = client.get(f"{API}/feed/")
    assert response.status_code == 200
    titles = {item["title"] for item in response.json()["results"]}
    assert titles == {c.title for c in visible}
    for content in hidden:
        assert client.get(f"{API}/feed/{content.pk}/").status_code == 404
        assert client.get(f"{API}/contents/{content.pk}/").status_code == 404
    assert client.get(f"{API}/feed/{visible[1].pk}/").status_code == 200


def test_feed_offers_one_caption_per_network_with_the_disclosure(cast):
    ContentPolicy.objects.create(organization=cast.organization, disclosure="#employee")
    content = ContentFactory(organization=cast.organization)
    CaptionFactory(content=content, network=Network.LINKEDIN, text="First LinkedIn caption")
    CaptionFactory(content=content, network=Network.LINKEDIN, text="Second LinkedIn caption")
    CaptionFactory(content=content, network=Network.X, text="Vive l'équipe #employee")

    [item] = api_client_for(cast.employee).get(f"{API}/feed/").json()["results"]
    captions = {c["network"]: c for c in item["captions"]}
    assert set(captions) == {"linkedin", "x"}
    linkedin = captions["linkedin"]
    assert linkedin["text"] in {"First LinkedIn caption", "Second LinkedIn caption"}
    assert linkedin["length"] == len(linkedin["text"])
    assert linkedin["caption_with_disclosure"] == f"{linkedin['text']} #employee"
    assert linkedin["length_with_disclosure"] == len(linkedin["text"]) + len(" #employee")
    assert linkedin["limit"] == 3000
    # Already disclosed: nothing is added.
    assert captions["x"]["caption_with_disclosure"] == "Vive l'équipe #employee"
    assert captions["x"]["limit"] == 280
    # The same person is always offered the same caption.
    again = api_client_for(cast.employee).get(f"{API}/feed/{content.pk}/").json()
    assert {c["network"]: c["id"] for c in again["captions"]}["linkedin"] == linkedin["id"]


def test_feed_filters(cast):
    topic = TopicFactory(organization=cast.organization, name="Climat", slug="climat")
    climate = ContentFactory(organization=cast.organization, title="Bilan carbone", topics=[topic])
    ContentFactory(organization=cast.organization, title="Recrutement")
    client = api_client_for(cast.employee)
    assert [i["id"] for i in client.get(f"{API}/feed/?topic=climat").json()["results"]] == [
        climate.pk
    ]
    assert [i["id"] for i in client.get(f"{API}/feed/?q=carbone").json()["results"]] == [climate.pk]
    assert len(client.get(f"{API}/feed/?new_only=true").json()["results"]) == 2
    response = client.get(f"{API}/feed/?new_only=perhaps")
    assert response.status_code == 400
    assert "new_only" in error_fields(response)


# --- Query counts --------------------------------------------------------------------------


def _populate(cast: Cast, count: int) -> None:
    topic = TopicFactory(organization=cast.organization, name="Climat", slug="climat")
    for index in range(count):
        content = ContentFactory(
            organization=cast.organization,
            author=cast.editor,
            topics=[topic],
            audience_teams=[cast.team] if index % 2 else [],
        )
        CaptionFactory(content=content, network=Network.LINKEDIN)
        CaptionFactory(content=content, network=Network.LINKEDIN)
        CaptionFactory(content=content, network=Network.X)


def _queries(user: User, url: str) -> tuple[int, int]:
    client = api_client_for(user)
    client.get(url)  # warm up (e.g. the content policy created on first use)
    with CaptureQueriesContext(connection) as context:
        response = client.get(url)
    assert response.status_code == 200
    return len(context.captured_queries), len(response.json()["results"])


@pytest.mark.parametrize(
    ("persona", "url", "bound"),
    [
        # count, page, then one prefetch each for topics, captions, teams, renditions
        ("editor", f"{API}/contents/", 6),
        # plus the caller's teams (2) and the organisation's policy and rules (2)
        ("employee", f"{API}/feed/", 10),
    ],
)
def test_list_queries_are_bounded_and_constant(cast, persona, url, bound):
    user = getattr(cast, persona)
    _populate(cast, 3)
    few, shown = _queries(user, url)
    assert shown == 3
    _populate(cast, 12)
    many, shown = _queries(user, url)
    assert shown == 15
    assert few == many
    assert many <= bound


# --- Images (multipart) --------------------------------------------------------------------


def test_multipart_create_with_an_image(cast, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    buffer = io.BytesIO()
    Image.new("RGB", (800, 500), (200, 30, 60)).save(buffer, format="PNG")
    buffer.name = "photo.png"
    buffer.seek(0)
    response = api_client_for(cast.editor).post(
        f"{API}/contents/",
        {"kind": "image", "title": "Notre équipe", "image": buffer, "hashtags": ["Lyon"]},
        format="multipart",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["image_url"].startswith("http://testserver/")
    assert set(body["renditions"]) >= {"linkedin", "x", "facebook"}
    assert all(url.startswith("http://testserver/") for url in body["renditions"].values())
    assert body["hashtags"] == ["#Lyon"]


def test_a_file_that_is_not_an_image_is_refused(cast, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    upload = io.BytesIO(b"%PDF-1.4 not an image")
    upload.name = "photo.png"
    response = api_client_for(cast.editor).post(
        f"{API}/contents/", {"kind": "image", "title": "Oops", "image": upload}, format="multipart"
    )
    assert response.status_code == 400
    assert "image" in error_fields(response)
    assert Content.objects.count() == 0


# --- Suggestions ---------------------------------------------------------------------------


def test_employee_suggests_and_sees_only_their_own(cast):
    other = SuggestionFactory(organization=cast.organization, text="Someone else's idea")
    response = post(
        cast.employee,
        f"{API}/suggestions/",
        {"url": "https://example.com/article", "comment": "Great read"},
    )
    assert response.status_code == 201, response.json()
    mine = response.json()
    assert mine["status"] == "pending"
    assert mine["author"] == cast.employee.email

    client = api_client_for(cast.employee)
    assert [s["id"] for s in client.get(f"{API}/suggestions/").json()["results"]] == [mine["id"]]
    assert client.get(f"{API}/suggestions/{other.pk}/").status_code == 404

    editor = api_client_for(cast.editor)
    assert {s["id"] for s in editor.get(f"{API}/suggestions/").json()["results"]} == {
        mine["id"],
        other.pk,
    }


def test_a_suggestion_needs_a_link_or_a_text(cast):
    response = post(cast.employee, f"{API}/suggestions/", {"comment": "Nothing"})
    assert response.status_code == 400
    assert "url" in error_fields(response)


def test_editor_accepts_or_declines_a_suggestion(cast):
    accepted = SuggestionFactory(
        organization=cast.organization, author=cast.employee, text="Blood drive"
    )
    declined = SuggestionFactory(organization=cast.organization, author=cast.employee)

    assert post(cast.employee, f"{API}/suggestions/{accepted.pk}/accept/").status_code == 403
    assert post(cast.reviewer, f"{API}/suggestions/{accepted.pk}/accept/").status_code == 403
    assert post(cast.outsider, f"{API}/suggestions/{accepted.pk}/accept/").status_code == 404

    response = post(cast.editor, f"{API}/suggestions/{accepted.pk}/accept/", {"note": "Merci"})
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "accepted"
    assert body["decided_by"] == cast.editor.email
    draft = Content.objects.get(pk=body["content"])
    assert draft.status == ContentStatus.DRAFT
    assert draft.suggested_by == cast.employee

    response = post(
        cast.editor, f"{API}/suggestions/{declined.pk}/decline/", {"note": "Hors sujet"}
    )
    assert response.json()["status"] == "declined"
    assert response.json()["decision_note"] == "Hors sujet"
    # Decided once.
    assert post(cast.editor, f"{API}/suggestions/{declined.pk}/accept/").status_code == 409

    editor = api_client_for(cast.editor)
    pending = editor.get(f"{API}/suggestions/?status=pending").json()["results"]
    assert pending == []
    assert len(editor.get(f"{API}/suggestions/?status=declined").json()["results"]) == 1
    response = editor.get(f"{API}/suggestions/?status=bogus")
    assert response.status_code == 400
    assert "status" in error_fields(response)
    assert Suggestion.objects.filter(status=SuggestionStatus.PENDING).count() == 0


# --- Topics ---------------------------------------------------------------------------------


def test_topics(cast):
    TopicFactory(organization=cast.organization, name="Climat", slug="climat")
    TopicFactory(organization=cast.other_organization, name="Secret", slug="secret")
    employee = api_client_for(cast.employee)
    assert [t["slug"] for t in employee.get(f"{API}/topics/").json()["results"]] == ["climat"]
    assert employee.post(f"{API}/topics/", {"name": "Sport"}, format="json").status_code == 403

    editor = api_client_for(cast.editor)
    response = editor.post(f"{API}/topics/", {"name": "Vie d'équipe"}, format="json")
    assert response.status_code == 201
    assert response.json()["slug"] == "vie-dequipe"
    again = editor.post(f"{API}/topics/", {"name": "Vie d'équipe"}, format="json")
    assert again.json()["id"] == response.json()["id"]
    assert Topic.objects.filter(organization=cast.organization).count() == 2
    response = editor.post(f"{API}/topics/", {"name": ""}, format="json")
    assert response.status_code == 400
    assert "name" in error_fields(response)


def test_unauthenticated_requests_are_refused(cast):
    from rest_framework.test import APIClient

    client = APIClient()
    for url in ("contents/", "feed/", "suggestions/", "topics/"):
        assert client.get(f"{API}/{url}").status_code in (401, 403)
    assert client.post(f"{API}/compliance/check/", {}).status_code in (401, 403)


def test_an_id_that_is_not_a_number_is_not_found(cast):
    client = api_client_for(cast.owner)
    for url in ("contents/abc/", "contents/1e3/versions/", "feed/abc/", "suggestions/abc/"):
        assert client.get(f"{API}/{url}").status_code == 404
    assert post(cast.owner, f"{API}/contents/abc/approve/").status_code == 404
