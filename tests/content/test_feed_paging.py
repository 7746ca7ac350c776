"""The feed API's and page's pagination: 20 items by default, a capped `page_size`, the
total read with the page (no COUNT query before it), a bounded number of queries with a
real API token, and the same items and order as the feed itself."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from content import selectors
from content.models import ComplianceRule, ContentPolicy, ImageRendition, Network, RuleKind
from organizations.services import api_token_issue
from tests.conftest import client_for
from tests.content.factories import CaptionFactory, TopicFactory
from tests.content.test_feed import ago, ahead, content, org  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db
API = "/api/v1/feed/"


def _fill(org, count: int) -> None:  # noqa: F811
    topic = TopicFactory(organization=org.organization, name="Climat", slug="climat")
    for index in range(count):
        item = content(
            org,
            title=f"item {index:02d}",
            publish_at=ago(hours=index + 1),
            topics=[topic],
            audience_teams=[org.medical] if index % 3 == 0 else [],
        )
        CaptionFactory(content=item, network=Network.LINKEDIN)
        CaptionFactory(content=item, network=Network.X)


def _token_client(user) -> APIClient:
    _instance, token = api_token_issue(user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def _ids(user) -> list[int]:
    return list(selectors.feed_list(user).values_list("pk", flat=True))


def test_api_pages_twenty_items_with_the_total(org):  # noqa: F811
    _fill(org, 45)
    expected = _ids(org.medic)
    assert len(expected) == 45  # the medic is in Medical Affairs: every item reaches them
    client = _token_client(org.medic)
    first = client.get(API).json()
    assert first["count"] == 45
    assert [item["id"] for item in first["results"]] == expected[:20]
    third = client.get(API, {"page": 3}).json()
    assert third["count"] == 45
    assert [item["id"] for item in third["results"]] == expected[40:]
    assert third["next"] is None


def test_api_page_size_is_honoured_and_capped(org):  # noqa: F811
    _fill(org, 60)
    client = _token_client(org.medic)
    assert len(client.get(API, {"page_size": 5}).json()["results"]) == 5
    capped = client.get(API, {"page_size": 500}).json()
    assert len(capped["results"]) == 50
    assert capped["count"] == 60


def test_api_page_past_the_end_or_malformed_is_a_404_never_a_500(org):  # noqa: F811
    _fill(org, 3)
    client = _token_client(org.medic)
    assert client.get(API, {"page": 2}).status_code == 404
    assert client.get(API, {"page": "abc"}).status_code == 404
    assert client.get(API, {"page": 0}).status_code == 404
    assert client.get(API, {"page": "last"}).json()["count"] == 3


def test_api_counts_only_what_reaches_the_caller(org):  # noqa: F811
    _fill(org, 9)
    # The rep (Sales) is not in the audience of the items aimed at Medical Affairs.
    body = _token_client(org.rep).get(API).json()
    assert body["count"] == 6 == len(body["results"])
    assert [item["id"] for item in body["results"]] == _ids(org.rep)


def test_empty_feed_has_a_zero_count(org):  # noqa: F811
    assert _token_client(org.rep).get(API).json() == {
        "count": 0,
        "next": None,
        "previous": None,
        "results": [],
    }


def _api_queries(client: APIClient) -> int:
    client.get(API)  # warm up (the content policy is created on first use)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(API)
    assert response.status_code == 200
    return len(captured.captured_queries)


def test_api_queries_with_a_token_stay_within_eight_and_do_not_grow(org):  # noqa: F811
    client = _token_client(org.medic)
    _fill(org, 4)
    few = _api_queries(client)
    _fill(org, 30)
    many = _api_queries(client)
    # Token and its owner, the caller's other tokens (knox's clean-up), the page with its
    # total, topics, captions; the policy and the compliance rules come from the cache.
    assert few == many <= 6


def test_api_list_items_are_what_the_serializer_shows(org, settings, tmp_path):  # noqa: F811
    """The list shapes plain rows itself for speed; each item must equal the single item's
    representation (FeedItemSerializer, also the schema) in keys, order and values."""
    settings.MEDIA_ROOT = tmp_path
    _fill(org, 3)
    pictured = content(
        org, title="pictured", publish_at=ago(minutes=5), image="content/a.jpg", hashtags=["Santé"]
    )
    ImageRendition.objects.create(content=pictured, name="x", file="r/x.jpg", width=1, height=1)
    ImageRendition.objects.create(
        content=pictured, name="linkedin", file="r/l.jpg", width=1, height=1
    )
    for position in range(3):
        CaptionFactory(content=pictured, network=Network.X, position=position)
    content(org, title="ends", publish_at=ago(minutes=9), expires_at=ahead(days=2))
    ComplianceRule.objects.create(
        organization=org.organization, kind=RuleKind.BLOCKED_TERM, value="guérit"
    )
    client = _token_client(org.medic)
    listed = client.get(API).json()["results"]
    assert len(listed) == 5
    for item in listed:
        single = client.get(f"{API}{item['id']}/").json()
        assert list(item) == list(single)
        assert item == single
    shown = next(item for item in listed if item["title"] == "pictured")
    assert set(shown["renditions"]) == {"x", "linkedin"}
    assert shown["image_url"].startswith("http://testserver/")


def test_a_new_rule_reaches_the_feed_previews_at_once(org):  # noqa: F811
    item = content(org, title="rule", publish_at=ago(minutes=1))
    CaptionFactory(content=item, network=Network.LINKEDIN, text="Lisez ceci")
    client = _token_client(org.medic)

    def shown() -> str:
        return client.get(API).json()["results"][0]["captions"][0]["caption_with_disclosure"]

    assert shown() == "Lisez ceci"
    ContentPolicy.objects.update_or_create(
        organization=org.organization, defaults={"disclosure": "#partenariat"}
    )
    assert shown() == "Lisez ceci #partenariat"


def test_feed_page_reads_no_separate_count(org):  # noqa: F811
    _fill(org, 30)
    client = client_for(org.medic)
    client.get("/feed/")
    with CaptureQueriesContext(connection) as captured:
        response = client.get("/feed/", {"page": 2})
    assert response.status_code == 200
    sql = [query["sql"] for query in captured.captured_queries]
    assert not any('COUNT(*) AS "__count" FROM "content_content"' in text for text in sql)
    assert response.context["page"].paginator.count == 30
    assert response.context["page"].number == 2
    # Past the end: the last page, as before.
    assert client.get("/feed/", {"page": 99}).context["page"].number == 3
    assert client.get("/feed/", {"page": "x"}).context["page"].number == 1
