"""The OpenAPI schema tells the truth: every operation is called in-process (WSGI) by
schemathesis, as an organisation admin of an organisation with demo-like data, and every
answer must be documented (status code, content type) and match its documented body.

Each operation gets a bounded, derandomised number of generated requests: some aimed at
real objects of the organisation (their ids in the path), the rest with whatever the
schema allows. Failures are collected for every operation and reported together."""

from __future__ import annotations

from datetime import timedelta

import hypothesis
import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.test import Client
from django.utils import timezone
from django.utils.crypto import get_random_string
from hypothesis import HealthCheck, Phase, given
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from advocacy.models import Share, ShareMode, ShareStatus
from challenges.models import ChallengeStatus, Redemption
from content.models import ContentKind, ContentStatus, Network, SuggestionStatus
from notifications.models import Notification
from organizations.models import Role
from tests.challenges.challenge_factories import give_points, make_challenge, make_reward
from tests.content.factories import CaptionFactory, ContentFactory, SuggestionFactory, TopicFactory
from tests.factories import InvitationFactory, TeamFactory, UserFactory

pytestmark = [pytest.mark.django_db(transaction=False)]

CHECKS = [status_code_conformance, content_type_conformance, response_schema_conformance]

# Examples per operation: with the id of a real object (operations with an {id}), then
# generated freely. Small, so the whole API runs in well under two minutes.
REAL_EXAMPLES = 6
FREE_EXAMPLES = 6

# Operations (method, path) whose answers the schema cannot describe yet, with the reason.
# Keep this list empty unless a reason is written next to the entry.
KNOWN_GAPS: dict[tuple[str, str], str] = {}


def _demo_like_data(personas) -> dict[str, int]:
    """An organisation with something of everything, including the empty values that
    the schema must allow for (no image, no link, no external URL, no network)."""
    org, owner = personas.organization, personas.owner
    now = timezone.now()
    second_team = TeamFactory(organization=org, name="Ventes", parent=personas.team)
    editor = UserFactory(organization=org, role=Role.EDITOR, teams=[second_team])
    topic = TopicFactory(organization=org, name="Innovation")
    text_post = ContentFactory(organization=org, author=editor, topics=[topic])
    link_post = ContentFactory(
        organization=org,
        author=editor,
        kind=ContentKind.LINK,
        link_url="https://www.example.org/news/1",
        audience_teams=[personas.team],
    )
    in_review = ContentFactory(organization=org, author=editor, status=ContentStatus.IN_REVIEW)
    ContentFactory(organization=org, author=owner, status=ContentStatus.DRAFT)
    for content in (text_post, link_post, in_review):
        CaptionFactory(content=content, network=Network.LINKEDIN)
        CaptionFactory(content=content, network=Network.X)
    SuggestionFactory(
        organization=org, author=personas.teammate, url="", text="Un article à partager"
    )
    SuggestionFactory(
        organization=org,
        author=personas.teammate,
        url="https://www.example.org/idea",
        status=SuggestionStatus.PENDING,
    )
    shares = []
    for content, status, mode in (
        (text_post, ShareStatus.PUBLISHED, ShareMode.LINK),
        (link_post, ShareStatus.SCHEDULED, ShareMode.LINK),
        (link_post, ShareStatus.FAILED, ShareMode.API),
    ):
        shares.append(
            Share.objects.create(
                organization_id=org.pk,
                user=owner,
                content=content,
                network=Network.LINKEDIN,
                mode=mode,
                text="Fiers de nos équipes.",
                status=status,
                scheduled_at=now + timedelta(hours=2),
                published_at=now if status == ShareStatus.PUBLISHED else None,
            )
        )
    draft_challenge = make_challenge(
        org, status=ChallengeStatus.DRAFT, title="Semaine du lancement"
    )
    make_challenge(org, title="Partager en équipe", teams=[personas.team], contents=[link_post])
    make_challenge(org, title="LinkedIn", network=Network.LINKEDIN, topics=[topic])
    reward = make_reward(org, stock=5)
    give_points(owner, 500)
    give_points(personas.teammate, 300)
    redemption = Redemption.objects.create(
        organization=org, reward=reward, user=personas.teammate, cost=reward.cost
    )
    Notification.objects.create(
        organization=org, recipient=owner, kind="share_published", title="Publié", url=""
    )
    Notification.objects.create(
        organization=org, recipient=owner, kind="content_approved", title="Validé", url="/feed/"
    )
    invitation = InvitationFactory(organization=org)
    return {
        "link_post": link_post.pk,
        "reward": reward.pk,
        "/api/v1/audit-log/": 0,
        "/api/v1/challenges/": draft_challenge.pk,
        "/api/v1/contents/": in_review.pk,
        "/api/v1/feed/": link_post.pk,
        "/api/v1/invitations/": invitation.pk,
        "/api/v1/redemptions/": redemption.pk,
        "/api/v1/rewards/": reward.pk,
        "/api/v1/shares/": shares[1].pk,
        "/api/v1/suggestions/": 0,
        "/api/v1/teams/": second_team.pk,
        "/api/v1/users/": editor.pk,
    }


def _successful_requests(ids: dict[str, int]) -> list[tuple[str, str, dict, object, int]]:
    """Requests that succeed on the demo-like data, so that each success answer is checked
    too (generated bodies rarely name a real content or reward): method, path, path
    parameters, body, expected status."""
    return [
        ("PATCH", "/api/v1/me/points/", {}, {}, 200),
        ("PUT", "/api/v1/queue/", {}, {"slots": [{"weekday": 0, "time": "09:15"}]}, 200),
        ("POST", "/api/v1/sharing/pause/", {}, {"reason": "Crise"}, 200),
        ("DELETE", "/api/v1/sharing/pause/", {}, None, 200),
        (
            "POST",
            "/api/v1/shares/",
            {},
            {"content": ids["link_post"], "networks": ["x"], "when": "now"},
            201,
        ),
        ("POST", "/api/v1/redemptions/", {}, {"reward": ids["reward"]}, 201),
        ("POST", "/api/v1/contents/{id}/approve/", {"id": ids["/api/v1/contents/"]}, {}, 200),
        ("POST", "/api/v1/challenges/{id}/launch/", {"id": ids["/api/v1/challenges/"]}, None, 200),
        (
            "POST",
            "/api/v1/invitations/{id}/revoke/",
            {"id": ids["/api/v1/invitations/"]},
            None,
            204,
        ),
    ]


def _real_id(ids: dict[str, int], path: str) -> int | None:
    for prefix, pk in ids.items():
        if path.startswith(prefix) and "{id}" in path:
            return pk or None
    return None


def _problems(strategy, examples: int, **call) -> list[str]:
    """Up to three distinct ways the operation's answers differ from its schema."""
    problems: list[str] = []

    @hypothesis.settings(
        max_examples=examples,
        derandomize=True,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def run(case):
        if len(problems) >= 3:
            return
        response = case.call(**call)
        try:
            case.validate_response(response, checks=CHECKS, headers=call["headers"])
        except (Exception, BaseExceptionGroup) as error:  # every failure, not the first only
            found = error.exceptions if isinstance(error, BaseExceptionGroup) else (error,)
            for failure in found:
                title = getattr(failure, "title", type(failure).__name__)
                message = " ".join(str(getattr(failure, "message", failure)).split())[:300]
                if not any(f"{title}: {message}" in seen for seen in problems):
                    problems.append(
                        f"{case.method} {case.formatted_path} -> {response.status_code} "
                        f"{response.text[:200]!r}\n    {title}: {message}"
                    )

    run()
    return problems


@pytest.fixture
def _connection_kept_between_requests():
    # A WSGI request closes the database connection when it ends (close_old_connections):
    # it would close the test's transaction. Django's test client unhooks it the same way.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.mark.usefixtures("_connection_kept_between_requests")
def test_every_operation_answers_as_its_schema_says(personas):
    ids = _demo_like_data(personas)
    # The first suggestion and audit entry are whatever exists by now.
    from content.models import Suggestion
    from organizations.models import AuditLogEntry

    ids["/api/v1/suggestions/"] = Suggestion.objects.filter(
        organization=personas.organization, status=SuggestionStatus.PENDING
    ).values_list("pk", flat=True)[0]
    entry = AuditLogEntry.objects.filter(organization=personas.organization).first()
    ids["/api/v1/audit-log/"] = entry.pk if entry else 0

    app = get_wsgi_application()
    schema = schemathesis.openapi.from_wsgi("/api/schema/", app)

    browser = Client()
    browser.force_login(personas.owner, backend="django.contrib.auth.backends.ModelBackend")
    csrf = get_random_string(32)
    cookies = {"sessionid": browser.cookies["sessionid"].value, "csrftoken": csrf}
    headers = {"X-CSRFToken": csrf, "Accept-Language": "en"}

    failures: dict[str, str] = {}
    for method, path, path_parameters, body, expected in _successful_requests(ids):
        operation = schema[path][method]
        with_body = {} if body is None else {"body": body, "media_type": "application/json"}
        case = operation.Case(path_parameters=path_parameters, **with_body)
        response = case.call(app=app, headers=headers, cookies=cookies)
        label = f"{method} {path} (a request that succeeds)"
        if response.status_code != expected:
            failures[label] = f"-> {response.status_code} {response.text[:300]!r}"
            continue
        try:
            case.validate_response(response, checks=CHECKS, headers=headers)
        except (Exception, BaseExceptionGroup) as error:
            failures[label] = " ".join(str(error).split())[:600]

    seen: set[tuple[str, str]] = set()
    for result in schema.get_all_operations():
        operation = result.ok()
        key = (operation.method.upper(), operation.path)
        seen.add(key)
        if key in KNOWN_GAPS:
            continue
        strategies = []
        real = _real_id(ids, operation.path)
        if real is not None:
            strategies.append((REAL_EXAMPLES, operation.as_strategy(path_parameters={"id": real})))
        strategies.append((FREE_EXAMPLES, operation.as_strategy()))
        for examples, strategy in strategies:
            problems = _problems(strategy, examples, app=app, headers=headers, cookies=cookies)
            if problems:
                failures[f"{key[0]} {key[1]}"] = "\n".join(problems)
                break

    assert set(KNOWN_GAPS) <= seen, "a known gap names an operation that no longer exists"
    assert len(seen) > 60
    assert not failures, "\n\n".join(f"== {op}\n{text}" for op, text in sorted(failures.items()))


# --- The cases the outside review found, one by one -----------------------------------------


@pytest.fixture
def openapi(client) -> dict:
    return client.get("/api/schema/?format=json").json()


def test_the_schema_says_what_the_review_found(openapi):
    schemas = openapi["components"]["schemas"]
    for component in ("Content", "FeedItem"):
        assert schemas[component]["properties"]["image_url"]["nullable"] is True
    for component, field in (
        ("Content", "link_url"),
        ("FeedItem", "link_url"),
        ("Share", "external_url"),
        ("Suggestion", "url"),
    ):
        prop = schemas[component]["properties"][field]
        assert "format" not in prop and {"maxLength": 0} in prop["anyOf"], (component, field)
    network = schemas["Challenge"]["properties"]["network"]
    assert any("BlankEnum" in str(choice) for choice in network["oneOf"])
    time = schemas["Slot"]["properties"]["time"]
    assert "format" not in time and time["pattern"]
    assert schemas["ShareInputRequest"]["properties"]["networks"]["minItems"] == 1
    assert "hidden_from_rankings" not in schemas["PatchedPrivacyInputRequest"].get("required", [])
    created = openapi["paths"]["/api/v1/shares/"]["post"]["responses"]["201"]
    assert created["content"]["application/json"]["schema"]["type"] == "array"
    assert "200" in openapi["paths"]["/api/v1/sharing/pause/"]["delete"]["responses"]
    for path, operations in openapi["paths"].items():
        for method, operation in operations.items():
            problem = operation["responses"]["401"]["content"]["application/problem+json"]
            assert problem["schema"] == {"$ref": "#/components/schemas/Problem"}, (method, path)


def test_an_empty_patch_of_my_points_changes_nothing(personas):
    from tests.conftest import api_client_for

    client = api_client_for(personas.owner)
    before = client.get("/api/v1/me/points/").json()
    response = client.patch("/api/v1/me/points/", {}, format="json")
    assert response.status_code == 200
    assert response.json()["hidden_from_rankings"] == before["hidden_from_rankings"]
