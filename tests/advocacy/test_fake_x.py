"""Smoke test of the fake X API (tests/fakes/x_api.py): over HTTP with requests only, no
database. It pins the answers the X adapter will rely on."""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from tests.fakes.x_api import FakeX

CLIENT_ID = "portevoix-test"
CLIENT_SECRET = "s3cret"
CALLBACK = "http://app.test/accounts/twitter_oauth2/login/callback/"
SCOPES = "tweet.read tweet.write users.read offline.access media.write"


@pytest.fixture
def fake_x() -> Iterator[FakeX]:
    fake = FakeX(clients={CLIENT_ID: CLIENT_SECRET}).start()
    yield fake
    fake.stop()


@pytest.fixture
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        yield session


def bearer(token: dict) -> dict[str, str]:
    return {"Authorization": f"Bearer {token['access_token']}"}


def connect(fake_x: FakeX, http: requests.Session, username: str = "demo_user") -> dict:
    """The browser flow: consent page, approval, code exchange with the PKCE verifier."""
    verifier = secrets.token_urlsafe(48)
    challenge = (
        base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
    )
    params = {
        "response_type": "code",
        "client_id": CLIENT_ID,
        "redirect_uri": CALLBACK,
        "scope": SCOPES,
        "state": "st4te",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    page = http.get(f"{fake_x.url}/i/oauth2/authorize", params=params)
    assert page.status_code == 200
    assert "<title>Authorize app</title>" in page.text
    assert "offline.access" in page.text
    approved = http.post(
        f"{fake_x.url}/i/oauth2/authorize",
        data={**params, "username": username, "action": "allow"},
        allow_redirects=False,
    )
    assert approved.status_code == 302
    location = urlsplit(approved.headers["Location"])
    query = parse_qs(location.query)
    assert location.path == urlsplit(CALLBACK).path
    assert query["state"] == ["st4te"]
    answer = http.post(
        f"{fake_x.url}/2/oauth2/token",
        data={
            "grant_type": "authorization_code",
            "code": query["code"][0],
            "redirect_uri": CALLBACK,
            "code_verifier": verifier,
        },
        auth=(CLIENT_ID, CLIENT_SECRET),
    )
    assert answer.status_code == 200
    return answer.json()


def test_authorization_code_flow_and_me(fake_x: FakeX, http: requests.Session):
    token = connect(fake_x, http, "alice")
    assert token["token_type"] == "bearer"
    assert token["expires_in"] == 7200
    assert token["scope"] == SCOPES
    assert token["refresh_token"]

    me = http.get(f"{fake_x.url}/2/users/me", headers=bearer(token))
    assert me.status_code == 200
    assert me.headers["content-type"] == "application/json; charset=utf-8"
    assert me.headers["x-rate-limit-limit"] == "75"
    assert me.headers["x-rate-limit-remaining"] == "74"
    assert int(me.headers["x-rate-limit-reset"]) > time.time()
    data = me.json()["data"]
    assert data["username"] == "alice"
    assert data["id"].isdigit()
    assert data == {"id": data["id"], "name": data["name"], "username": "alice"}

    cancelled = http.post(
        f"{fake_x.url}/i/oauth2/authorize",
        data={
            "response_type": "code",
            "client_id": CLIENT_ID,
            "redirect_uri": CALLBACK,
            "scope": SCOPES,
            "state": "st4te",
            "code_challenge": "c",
            "code_challenge_method": "S256",
            "action": "cancel",
        },
        allow_redirects=False,
    )
    assert parse_qs(urlsplit(cancelled.headers["Location"]).query) == {
        "error": ["access_denied"],
        "state": ["st4te"],
    }
    unknown = http.get(f"{fake_x.url}/i/oauth2/authorize", params={"client_id": "nobody"})
    assert unknown.status_code == 400


def test_token_endpoint_errors(fake_x: FakeX, http: requests.Session):
    token_url = f"{fake_x.url}/2/oauth2/token"
    no_client = http.post(token_url, data={"grant_type": "refresh_token", "refresh_token": "x"})
    assert no_client.status_code == 401
    assert no_client.json() == {
        "error": "unauthorized_client",
        "error_description": "Missing valid authorization header",
    }
    bad_code = http.post(
        token_url,
        data={"grant_type": "authorization_code", "code": "nope", "code_verifier": "v"},
        auth=(CLIENT_ID, CLIENT_SECRET),
    )
    assert bad_code.status_code == 400
    assert bad_code.json() == {
        "error": "invalid_request",
        "error_description": "Value passed for the authorization code was invalid.",
    }


def test_refresh_rotates_and_a_replay_kills_the_chain(fake_x: FakeX, http: requests.Session):
    first = connect(fake_x, http)
    token_url = f"{fake_x.url}/2/oauth2/token"
    refresh = {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}

    second = http.post(token_url, data=refresh, auth=(CLIENT_ID, CLIENT_SECRET)).json()
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    assert fake_x.state.refresh_count == 1
    assert http.get(f"{fake_x.url}/2/users/me", headers=bearer(second)).status_code == 200

    replay = http.post(token_url, data=refresh, auth=(CLIENT_ID, CLIENT_SECRET))
    assert replay.status_code == 400
    assert replay.json() == {
        "error": "invalid_request",
        "error_description": "Value passed for the token was invalid.",
    }
    for token in (first, second):
        me = http.get(f"{fake_x.url}/2/users/me", headers=bearer(token))
        assert me.status_code == 401
        assert me.json() == {
            "title": "Unauthorized",
            "type": "about:blank",
            "status": 401,
            "detail": "Unauthorized",
        }
        assert "x-rate-limit-limit" not in me.headers
    assert fake_x.state.refresh_count == 1


def test_post_wraps_links_and_refuses_duplicates_and_long_text(
    fake_x: FakeX, http: requests.Session
):
    token = fake_x.issue_token("bob")
    text = "Our new report https://www.example.org/news/1?utm_source=x is out."
    created = http.post(f"{fake_x.url}/2/tweets", json={"text": text}, headers=bearer(token))
    assert created.status_code == 201
    data = created.json()["data"]
    assert len(data["id"]) == 19
    assert data["edit_history_tweet_ids"] == [data["id"]]
    assert data["text"].startswith("Our new report https://t.co/")
    assert data["text"].endswith(" is out.")
    assert created.headers["location"].endswith(f"/2/tweets/{data['id']}")
    assert created.headers["x-rate-limit-limit"] == "100"
    assert created.headers["x-rate-limit-remaining"] == "99"
    assert [tweet.original_text for tweet in fake_x.live_tweets()] == [text]

    again = http.post(f"{fake_x.url}/2/tweets", json={"text": text}, headers=bearer(token))
    assert again.status_code == 403
    assert again.json() == {
        "title": "Forbidden",
        "type": "about:blank",
        "status": 403,
        "detail": "You are not allowed to create a Tweet with duplicate content.",
    }

    # 257 characters and a URL counted 23: 280 is allowed, 281 is not.
    fits = "a" * 256 + " https://example.org/" + "x" * 100
    assert (
        http.post(f"{fake_x.url}/2/tweets", json={"text": fits}, headers=bearer(token)).status_code
        == 201
    )
    too_long = http.post(f"{fake_x.url}/2/tweets", json={"text": "b" + fits}, headers=bearer(token))
    assert too_long.status_code == 400
    assert too_long.json()["errors"][0]["message"].startswith("Your Tweet text is too long.")

    no_write = fake_x.issue_token("reader", scopes=["tweet.read", "users.read"])
    refused = http.post(f"{fake_x.url}/2/tweets", json={"text": "hi"}, headers=bearer(no_write))
    assert refused.status_code == 403
    assert refused.json()["detail"] == "Forbidden"


def test_delete_and_lookup(fake_x: FakeX, http: requests.Session):
    owner = fake_x.issue_token("carol")
    other = fake_x.issue_token("dave")
    post_id = http.post(
        f"{fake_x.url}/2/tweets", json={"text": "to be deleted"}, headers=bearer(owner)
    ).json()["data"]["id"]

    assert http.delete(f"{fake_x.url}/2/tweets/{post_id}", headers=bearer(other)).status_code == 403
    deleted = http.delete(f"{fake_x.url}/2/tweets/{post_id}", headers=bearer(owner))
    assert deleted.status_code == 200
    assert deleted.json() == {"data": {"deleted": True}}
    assert deleted.headers["x-rate-limit-limit"] == "50"
    assert fake_x.live_tweets() == []

    gone = http.get(f"{fake_x.url}/2/tweets/{post_id}", headers=bearer(owner))
    assert gone.status_code == 404
    assert gone.json()["errors"][0]["title"] == "Not Found Error"
    assert gone.json()["errors"][0]["detail"] == f"Could not find tweet with id: [{post_id}]."


def test_metrics_grow_and_private_ones_are_the_authors_for_30_days(
    fake_x: FakeX, http: requests.Session
):
    start = time.time()
    fake_x.clock = lambda: start
    author = fake_x.issue_token("erin", expires_in=60 * 86400)
    stranger = fake_x.issue_token("frank", expires_in=60 * 86400)
    post_id = http.post(
        f"{fake_x.url}/2/tweets",
        json={"text": "Metrics https://example.org/m"},
        headers=bearer(author),
    ).json()["data"]["id"]
    fields = {"tweet.fields": "public_metrics,non_public_metrics,organic_metrics"}
    url = f"{fake_x.url}/2/tweets/{post_id}"

    fake_x.clock = lambda: start + 2 * 86400
    early = http.get(url, params=fields, headers=bearer(author)).json()["data"]
    assert set(early["public_metrics"]) == {
        "retweet_count",
        "reply_count",
        "like_count",
        "quote_count",
        "bookmark_count",
        "impression_count",
    }
    assert early["non_public_metrics"]["url_link_clicks"] >= 0
    assert (
        early["organic_metrics"]["impression_count"] == early["public_metrics"]["impression_count"]
    )
    fake_x.clock = lambda: start + 10 * 86400
    later = http.get(url, params=fields, headers=bearer(author)).json()["data"]
    assert (
        later["public_metrics"]["impression_count"] >= early["public_metrics"]["impression_count"]
    )

    foreign = http.get(url, params=fields, headers=bearer(stranger))
    assert foreign.status_code == 200
    assert "data" not in foreign.json()
    first = foreign.json()["errors"][0]
    assert first["title"] == "Field Authorization Error"
    assert first["field"] == "non_public_metrics.impression_count"
    assert http.get(
        url, params={"tweet.fields": "public_metrics"}, headers=bearer(stranger)
    ).json()["data"]["public_metrics"]

    fake_x.clock = lambda: start + 31 * 86400
    old = http.get(url, params=fields, headers=bearer(author)).json()
    assert "data" not in old
    assert {error["field"].split(".")[0] for error in old["errors"]} == {
        "non_public_metrics",
        "organic_metrics",
    }


def test_timeline_lists_newest_first_with_expanded_urls(fake_x: FakeX, http: requests.Session):
    token = fake_x.issue_token("gina")
    for n in range(3):
        http.post(
            f"{fake_x.url}/2/tweets",
            json={"text": f"Post {n} https://example.org/{n}"},
            headers=bearer(token),
        )
    account = fake_x.account_for_token(token["access_token"])
    assert account is not None
    user_id = account.id
    timeline = http.get(
        f"{fake_x.url}/2/users/{user_id}/tweets",
        params={"max_results": "5", "tweet.fields": "entities,created_at"},
        headers=bearer(token),
    ).json()
    assert [post["text"].split()[1] for post in timeline["data"]] == ["2", "1", "0"]
    url = timeline["data"][0]["entities"]["urls"][0]
    assert url["expanded_url"] == "https://example.org/2"
    assert url["url"].startswith("https://t.co/")
    assert timeline["data"][0]["text"][url["start"] : url["end"]] == url["url"]
    assert timeline["meta"] == {
        "result_count": 3,
        "newest_id": timeline["data"][0]["id"],
        "oldest_id": timeline["data"][-1]["id"],
    }
    too_few = http.get(
        f"{fake_x.url}/2/users/{user_id}/tweets", params={"max_results": 3}, headers=bearer(token)
    )
    assert too_few.status_code == 400


def test_media_upload_then_post(fake_x: FakeX, http: requests.Session):
    token = fake_x.issue_token("hana")
    image = bytes(range(256)) * 8 + b"\r\n--boundary-like\r\n"
    started = http.post(
        f"{fake_x.url}/2/media/upload/initialize",
        json={
            "media_type": "image/jpeg",
            "total_bytes": len(image),
            "media_category": "tweet_image",
        },
        headers=bearer(token),
    )
    assert started.status_code == 200
    media = started.json()["data"]
    assert media["media_key"] == f"3_{media['id']}"
    assert media["expires_after_secs"] == 86400

    for index, chunk in enumerate((image[:1000], image[1000:])):
        appended = http.post(
            f"{fake_x.url}/2/media/upload/{media['id']}/append",
            files={"media": ("chunk", chunk, "application/octet-stream")},
            data={"segment_index": str(index)},
            headers=bearer(token),
        )
        assert appended.status_code == 200
        assert appended.json()["data"]["expires_at"] > time.time()
    done = http.post(f"{fake_x.url}/2/media/upload/{media['id']}/finalize", headers=bearer(token))
    assert done.json()["data"] == {
        "id": media["id"],
        "media_key": media["media_key"],
        "size": len(image),
        "expires_after_secs": 86400,
    }

    posted = http.post(
        f"{fake_x.url}/2/tweets",
        json={"text": "With a picture", "media": {"media_ids": [media["id"]]}},
        headers=bearer(token),
    )
    assert posted.status_code == 201
    tweet = fake_x.tweet(posted.json()["data"]["id"])
    assert tweet is not None
    assert tweet.media_ids == [media["id"]]
    bad = http.post(
        f"{fake_x.url}/2/tweets",
        json={"text": "Another", "media": {"media_ids": ["1234"]}},
        headers=bearer(token),
    )
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["message"] == "Your media IDs are invalid."

    no_media_scope = fake_x.issue_token("ivan", scopes=["tweet.read", "tweet.write", "users.read"])
    assert (
        http.post(
            f"{fake_x.url}/2/media/upload/initialize",
            json={"media_type": "image/png", "total_bytes": 1},
            headers=bearer(no_media_scope),
        ).status_code
        == 403
    )


def test_scripted_faults_and_the_real_rate_limit(fake_x: FakeX, http: requests.Session):
    token = fake_x.issue_token("jules")
    url = f"{fake_x.url}/2/tweets"
    fake_x.script({"status": 429, "reset_in": 2.0}, {"status": 503}, {"status": 401})
    limited = http.post(url, json={"text": "one"}, headers=bearer(token))
    assert limited.status_code == 429
    assert limited.headers["x-rate-limit-remaining"] == "0"
    assert int(limited.headers["x-rate-limit-reset"]) >= int(time.time()) + 1
    assert http.post(url, json={"text": "one"}, headers=bearer(token)).status_code == 503
    assert http.post(url, json={"text": "one"}, headers=bearer(token)).status_code == 401
    assert fake_x.live_tweets() == []

    fake_x.script({"accept_then_hang": 1.0})
    with pytest.raises(requests.Timeout):
        http.post(url, json={"text": "lost answer"}, headers=bearer(token), timeout=0.3)
    assert [tweet.original_text for tweet in fake_x.live_tweets()] == ["lost answer"]

    for n in range(99):
        assert http.post(url, json={"text": f"n{n}"}, headers=bearer(token)).status_code == 201
    over = http.post(url, json={"text": "one too many"}, headers=bearer(token))
    assert over.status_code == 429
    assert over.json() == {
        "title": "Too Many Requests",
        "type": "about:blank",
        "status": 429,
        "detail": "Too Many Requests",
    }
    assert over.headers["x-rate-limit-remaining"] == "0"
    posts = [r for r in fake_x.requests_log if r.method == "POST" and r.path == "/2/tweets"]
    assert posts[-1].status == 429
    assert posts[-1].token_kind == "access"
