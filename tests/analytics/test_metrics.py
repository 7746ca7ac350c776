"""Per-network metric mapping from the documented payload shapes (X API v2, LinkedIn
member post analytics and socialActions), the sandbox growth curve, and the sandbox
adapter's metrics call against the fake network over HTTP."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from advocacy.networks.base import MetricsUnavailable, NeedsReconnect, PostRequest, RetryLater
from advocacy.networks.metrics import (
    METRIC_NAMES,
    linkedin_metrics_map,
    sandbox_curve,
    sandbox_metrics_map,
    x_metrics_map,
)
from advocacy.networks.sandbox import SandboxAdapter

X_OWN_RECENT = {
    "data": {
        "id": "1790000000000000001",
        "author_id": "42",
        "text": "Proud of our teams",
        "public_metrics": {
            "retweet_count": 3,
            "reply_count": 2,
            "like_count": 17,
            "quote_count": 1,
            "bookmark_count": 4,
            "impression_count": 1250,
        },
        "non_public_metrics": {
            "impression_count": 1250,
            "url_link_clicks": 31,
            "user_profile_clicks": 5,
        },
        "organic_metrics": {
            "impression_count": 1200,
            "like_count": 16,
            "reply_count": 2,
            "retweet_count": 3,
            "url_link_clicks": 30,
            "user_profile_clicks": 5,
        },
    },
    "includes": {
        "users": [
            {
                "id": "42",
                "username": "ana",
                "public_metrics": {"followers_count": 980, "following_count": 120},
            }
        ]
    },
}


def test_x_prefers_organic_figures_and_reads_followers():
    assert x_metrics_map(X_OWN_RECENT) == {
        "impressions": 1200,
        "reactions": 16,
        "comments": 2,
        "reshares": 3 + 1,  # retweets and quotes
        "clicks": 30,
        "followers": 980,
    }


def test_x_public_only_leaves_clicks_unknown():
    public_only = {
        "data": {
            "id": "1",
            "author_id": "42",
            "public_metrics": {
                "retweet_count": 0,
                "reply_count": 1,
                "like_count": 5,
                "quote_count": 0,
                "impression_count": 300,
            },
        }
    }
    assert x_metrics_map(public_only) == {
        "impressions": 300,
        "reactions": 5,
        "comments": 1,
        "reshares": 0,
    }


def test_x_ignores_malformed_values():
    broken = {"data": {"public_metrics": {"like_count": "12", "reply_count": -1}}}
    assert x_metrics_map(broken) == {}
    assert x_metrics_map({}) == {}
    assert x_metrics_map({"data": {"public_metrics": {"like_count": True}}}) == {}


def _linkedin_total(metric: str, count: int) -> dict:
    return {
        "paging": {"start": 0, "count": 10, "links": []},
        "elements": [
            {
                "count": count,
                "metricType": {
                    "com.linkedin.adsexternalapi.memberanalytics.v1.CreatorPostAnalyticsMetricTypeV1": metric
                },
                "targetEntity": {"share": "urn:li:share:7100000000000000000"},
            }
        ],
    }


def test_linkedin_member_post_analytics():
    analytics = {
        query: _linkedin_total(query, count)
        for query, count in (
            ("IMPRESSION", 2400),
            ("MEMBERS_REACHED", 1700),
            ("REACTION", 48),
            ("COMMENT", 6),
            ("RESHARE", 2),
        )
    }
    followers = {"elements": [{"memberFollowersCount": 1534}]}
    assert linkedin_metrics_map(post_analytics=analytics, followers=followers) == {
        "impressions": 2400,
        "reactions": 48,
        "comments": 6,
        "reshares": 2,
        "followers": 1534,
    }


def test_linkedin_without_analytics_permission_falls_back_on_social_actions():
    social_actions = {
        "$URN": "urn:li:socialActions:urn:li:share:7100000000000000000",
        "likesSummary": {"totalLikes": 21, "aggregatedTotalLikes": 23, "likedByCurrentUser": False},
        "commentsSummary": {"totalFirstLevelComments": 3, "aggregatedTotalComments": 4},
        "target": "urn:li:share:7100000000000000000",
    }
    # No impressions: the dashboards use potential reach instead and say so.
    assert linkedin_metrics_map(social_actions=social_actions) == {
        "reactions": 23,
        "comments": 4,
    }
    assert linkedin_metrics_map() == {}


def test_sandbox_mapping_keeps_known_names_only():
    assert sandbox_metrics_map({"impressions": 10, "likes": 3, "clicks": None}) == {
        "impressions": 10
    }


def test_sandbox_curve_rises_fast_then_flattens_and_is_deterministic():
    ages = [0, 600, 3600, 6 * 3600, 86400, 7 * 86400, 30 * 86400, 90 * 86400]
    series = [sandbox_curve("post-1", "sbx-ana", age) for age in ages]
    assert series[0]["impressions"] == 0
    for name in METRIC_NAMES:
        values = [point[name] for point in series]
        assert values == sorted(values), name
    final = series[-1]["impressions"]
    assert series[4]["impressions"] >= 0.75 * final  # a day in
    assert series[6]["impressions"] >= 0.95 * final  # a month in
    assert sandbox_curve("post-1", "sbx-ana", 86400) == series[4]
    assert sandbox_curve("post-2", "sbx-ana", 86400) != series[4]
    assert {point["followers"] for point in series} == {series[0]["followers"]}


# --- the adapter against the fake network ---------------------------------------------------


@pytest.fixture
def adapter(network_settings, fake_network) -> SandboxAdapter:
    return SandboxAdapter(base_url=fake_network.url)


@pytest.fixture
def posted(adapter):
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        credentials, _identity = adapter.connect("ana")
        post = adapter.publish(credentials, PostRequest(text="Hello", idempotency_key="k"))
        yield credentials, post, traveller


def test_adapter_reads_growing_metrics(adapter, posted):
    credentials, post, traveller = posted
    traveller.shift(timedelta(hours=1))
    early = adapter.fetch_metrics(credentials, post.external_id)
    assert set(early) == set(METRIC_NAMES)
    assert early == sandbox_curve(post.external_id, "sbx-ana", 3600)
    traveller.shift(timedelta(minutes=50))  # within the token's two hours
    later = adapter.fetch_metrics(credentials, post.external_id)
    assert later["impressions"] > early["impressions"] > 0
    assert later["followers"] == early["followers"]


@pytest.mark.parametrize(
    ("answer", "error", "reason"),
    [
        ({"status": 403}, MetricsUnavailable, "no_permission"),
        ({"status": 401}, NeedsReconnect, None),
        ({"status": 429, "reset_in": 5}, RetryLater, None),
        ({"status": 503}, RetryLater, None),
    ],
)
def test_adapter_maps_refusals(adapter, posted, fake_network, answer, error, reason):
    credentials, post, _traveller = posted
    fake_network.script_metrics(answer)
    with pytest.raises(error) as raised:
        adapter.fetch_metrics(credentials, post.external_id)
    if reason:
        assert raised.value.reason == reason


def test_adapter_empty_answer_and_unknown_post(adapter, posted, fake_network):
    credentials, post, _traveller = posted
    fake_network.script_metrics({"empty": True})
    assert adapter.fetch_metrics(credentials, post.external_id) == {}
    with pytest.raises(MetricsUnavailable) as raised:
        adapter.fetch_metrics(credentials, "nope")
    assert raised.value.reason == "gone"
