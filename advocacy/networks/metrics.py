"""Engagement metrics with the same names on every network: `impressions`, `reactions`,
`comments`, `reshares`, `clicks` (on the post's link, as the network counts them) and
`followers` (the author's audience when the post was read). A name is left out when the
network does not give it: unknown is not zero.

One mapping per network, from the documented payloads, so that each adapter stays a thin
HTTP seam; and the sandbox network's growth curve, shared by the fake network and the demo
data so that both tell the same story."""

from __future__ import annotations

import math
import zlib
from collections.abc import Mapping
from typing import Any

METRIC_NAMES = ("impressions", "reactions", "comments", "reshares", "clicks", "followers")


def _count(value: Any) -> int | None:
    # bool is an int in Python; a network never means True as a count.
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return None
    return value


def _dict(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _first(*values: Any) -> int | None:
    for value in values:
        count = _count(value)
        if count is not None:
            return count
    return None


def _clean(counts: Mapping[str, int | None]) -> dict[str, int]:
    return {name: count for name, count in counts.items() if count is not None}


# --- the sandbox network -------------------------------------------------------------------


def sandbox_metrics_map(payload: Mapping[str, Any]) -> dict[str, int]:
    """The sandbox already answers with our names."""
    return _clean({name: _count(payload.get(name)) for name in METRIC_NAMES})


def _unit(seed: str, salt: str) -> float:
    """A number in [0, 1) fixed by the seed: crc32, not hash(), which changes per process."""
    return (zlib.crc32(f"{seed}|{salt}".encode()) % 10_000) / 10_000


def sandbox_followers(account_id: str) -> int:
    """An account's audience: most between a hundred and a thousand, a few far more."""
    base = 120 + int(880 * _unit(account_id, "followers"))
    return base * (4 if _unit(account_id, "influencer") > 0.9 else 1)


def sandbox_curve(post_id: str, account_id: str, age_seconds: float) -> dict[str, int]:
    """What the sandbox network reports for a post of that age: most of it in the first
    day (a fast rise over a few hours), then a slow tail that flattens within two weeks.
    Deterministic per post and never decreasing with age."""
    hours = max(0.0, age_seconds) / 3600
    grown = 0.82 * (1 - math.exp(-hours / 5)) + 0.18 * (1 - math.exp(-hours / 80))
    followers = sandbox_followers(account_id)
    # How far the post travels beyond the author's followers, and how engaging it is.
    reach = 0.35 + 1.4 * _unit(post_id, "reach")
    engagement = 0.008 + 0.03 * _unit(post_id, "engagement")
    final_impressions = followers * reach
    impressions = int(final_impressions * grown)
    reactions = int(final_impressions * engagement * grown)
    return {
        "impressions": impressions,
        "reactions": reactions,
        "comments": int(reactions * (0.08 + 0.15 * _unit(post_id, "comments"))),
        "reshares": int(reactions * (0.04 + 0.1 * _unit(post_id, "reshares"))),
        "clicks": int(final_impressions * (0.004 + 0.012 * _unit(post_id, "clicks")) * grown),
        "followers": followers,
    }


# --- X (API v2, GET /2/tweets/:id) -----------------------------------------------------------


def x_metrics_map(response: Mapping[str, Any]) -> dict[str, int]:
    """Map `GET /2/tweets/:id?tweet.fields=public_metrics,non_public_metrics,organic_metrics
    &expansions=author_id&user.fields=public_metrics`.

    `public_metrics` (like_count, reply_count, retweet_count, quote_count, impression_count)
    comes with any token; `non_public_metrics` (impression_count, url_link_clicks,
    user_profile_clicks) and `organic_metrics` only with the author's user token and for
    posts of the last 30 days. Organic figures win where both exist (they leave out paid
    promotion). Followers come from the expanded author's `public_metrics.followers_count`."""
    tweet = _dict(response.get("data"))
    public = _dict(tweet.get("public_metrics"))
    private = _dict(tweet.get("non_public_metrics"))
    organic = _dict(tweet.get("organic_metrics"))
    author_id = tweet.get("author_id")
    users = _dict(response.get("includes")).get("users")
    author: Mapping[str, Any] = {}
    if isinstance(users, list):
        author = next(
            (_dict(u) for u in users if _dict(u).get("id") == author_id),
            _dict(users[0]) if len(users) == 1 else {},
        )
    retweets = _first(organic.get("retweet_count"), public.get("retweet_count"))
    quotes = _count(public.get("quote_count"))
    reshares = None if retweets is None and quotes is None else (retweets or 0) + (quotes or 0)
    return _clean(
        {
            "impressions": _first(
                organic.get("impression_count"),
                private.get("impression_count"),
                public.get("impression_count"),
            ),
            "reactions": _first(organic.get("like_count"), public.get("like_count")),
            "comments": _first(organic.get("reply_count"), public.get("reply_count")),
            "reshares": reshares,
            "clicks": _first(organic.get("url_link_clicks"), private.get("url_link_clicks")),
            "followers": _count(_dict(author.get("public_metrics")).get("followers_count")),
        }
    )


# --- LinkedIn (member post analytics, socialActions, follower count) ------------------------

_LINKEDIN_QUERY_TYPES = {
    "IMPRESSION": "impressions",
    "REACTION": "reactions",
    "COMMENT": "comments",
    "RESHARE": "reshares",
}


def _linkedin_metric_type(element: Mapping[str, Any]) -> str:
    # Rest.li wraps the enum in a union keyed by its full type name.
    metric = element.get("metricType")
    if isinstance(metric, str):
        return metric
    values = [v for v in _dict(metric).values() if isinstance(v, str)]
    return values[0] if values else ""


def linkedin_metrics_map(
    *,
    post_analytics: Mapping[str, Mapping[str, Any]] | None = None,
    social_actions: Mapping[str, Any] | None = None,
    followers: Mapping[str, Any] | None = None,
) -> dict[str, int]:
    """Map LinkedIn's answers for one member post.

    `post_analytics`: the answers of `GET /rest/memberCreatorPostAnalytics?q=entity
    &entity=<post urn>&queryType=<T>&aggregation=TOTAL`, one per query type (IMPRESSION,
    REACTION, COMMENT, RESHARE), each `{"elements": [{"count": n, "metricType": ...}]}`;
    only with the r_member_postAnalytics permission.
    `social_actions`: `GET /rest/socialActions/<urn>`, `likesSummary` and `commentsSummary`;
    a fallback for reactions and comments (no impressions there).
    `followers`: `GET /rest/memberFollowersCount?q=me`, `{"elements":
    [{"memberFollowersCount": n}]}`. LinkedIn reports no link clicks on member posts."""
    counts: dict[str, int | None] = {}
    for query_type, answer in (post_analytics or {}).items():
        name = _LINKEDIN_QUERY_TYPES.get(query_type)
        elements = _dict(answer).get("elements")
        if name is None or not isinstance(elements, list):
            continue
        total: int | None = None
        for element in elements:
            element = _dict(element)
            count = _count(element.get("count"))
            if count is not None and _linkedin_metric_type(element) in (query_type, ""):
                total = (total or 0) + count
        counts[name] = total
    actions = _dict(social_actions)
    likes = _dict(actions.get("likesSummary"))
    comments = _dict(actions.get("commentsSummary"))
    if counts.get("reactions") is None:
        counts["reactions"] = _first(likes.get("aggregatedTotalLikes"), likes.get("totalLikes"))
    if counts.get("comments") is None:
        counts["comments"] = _first(
            comments.get("aggregatedTotalComments"), comments.get("totalFirstLevelComments")
        )
    elements = _dict(followers).get("elements")
    if isinstance(elements, list) and elements:
        counts["followers"] = _count(_dict(elements[0]).get("memberFollowersCount"))
    return _clean(counts)
