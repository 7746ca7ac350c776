"""A fake of the X API v2 and its OAuth 2.0 endpoints on loopback, answering as X does.

The real X adapter is written against X's public documentation; this fake answers with the
same status codes, bodies and headers, checked against that documentation and against recorded
exchanges, so that the adapter meets X's behaviour (token rotation, duplicates, rate limits,
the 30-day window of private metrics) in tests and in `make run` without the network.

    python -m tests.fakes.x_api --host 127.0.0.1 --port 8026 [--demo]

With --demo the confidential client `demo-x-client` / `demo-x-secret` is registered. The fake
keeps nothing across restarts. One URL serves as both the API base (`https://api.x.com`) and
the OAuth base (`https://x.com`).

Sources (the real adapter is written against the same pages):
    [oauth]    https://docs.x.com/fundamentals/authentication/oauth-2-0/authorization-code
    [oauth2]   https://docs.x.com/fundamentals/authentication/oauth-2-0/user-access-token
    [create]   https://docs.x.com/x-api/posts/create-post (openapi `createPosts`)
    [delete]   https://docs.x.com/x-api/posts/delete-post
    [manage]   https://docs.x.com/x-api/posts/manage-tweets/quickstart
    [lookup]   https://docs.x.com/x-api/posts/get-post-by-id
    [me]       https://docs.x.com/x-api/users/get-my-user
    [timeline] https://docs.x.com/x-api/users/get-posts and
               https://docs.x.com/x-api/posts/timelines/integrate
    [metrics]  https://docs.x.com/x-api/fundamentals/metrics
    [media]    https://docs.x.com/x-api/media/initialize-media-upload, .../append-media-upload,
               .../finalize-media-upload, https://docs.x.com/x-api/media/quickstart/media-upload-chunked
    [errors]   https://docs.x.com/x-api/fundamentals/response-codes-and-errors
    [limits]   https://docs.x.com/x-api/fundamentals/rate-limits
    [count]    https://docs.x.com/fundamentals/counting-characters
    [tweepy]   recorded exchanges in github.com/tweepy/tweepy cassettes/ (create/delete, get_me,
               get_tweet, get_users_tweets): bodies, `location`, `x-rate-limit-*`, content type.
Where a shape comes from a recorded answer seen in public issues rather than from the docs, the
endpoint says so; where neither settles it, it says "unverified" and what was chosen.

Common to the API (`/2/...` except `/2/oauth2/*`):
    Success and ordinary errors: `content-type: application/json; charset=utf-8`, and
    `x-rate-limit-limit`, `x-rate-limit-remaining`, `x-rate-limit-reset` (epoch seconds), per
    user and endpoint over 15 minutes, with X's documented per-user limits [limits]:
    POST /2/tweets 100, DELETE /2/tweets/:id 50, GET /2/tweets/:id 900, GET /2/users/:id/tweets
    900, GET /2/users/me 75, media initialize/append/finalize 1875. Past the limit: 429
    {"title":"Too Many Requests","type":"about:blank","status":429,"detail":"Too Many Requests"}
    with remaining 0 (body as recorded; the docs page shows a v1.1 `errors[code 88]` body).
    Invalid, expired or revoked bearer token: 401 {"title":"Unauthorized","type":"about:blank",
    "status":401,"detail":"Unauthorized"}. A token without a required scope: 403 {"title":
    "Forbidden","type":"about:blank","status":403,"detail":"Forbidden"}. These two are answered
    before any rate accounting, as `application/problem+json` and without x-rate-limit
    headers, as recorded (node-twitter-api-v2 #265, #425; iembot #154).
    Scopes required (openapi `security`): posting and deleting need tweet.read, tweet.write and
    users.read; reading needs tweet.read and users.read; media needs media.write.
    Problem `type` URIs are `https://api.x.com/2/problems/<kind>` as the docs now print them
    (recordings before 2024 show `https://api.twitter.com/2/problems/...`).

OAuth 2.0 authorisation code with PKCE [oauth] [oauth2]:
    GET  /i/oauth2/authorize?response_type=code&client_id&redirect_uri&scope&state
         &code_challenge&code_challenge_method=S256|plain
         -> 200 HTML consent page titled "Authorize app": the scopes asked, a text input
         `username` (default "demo_user", the X account that authorises, created on first use)
         and a form POSTing the same parameters back, with buttons "Authorize app" and
         "Cancel". Unknown client, a redirect_uri not registered for it, a missing state or
         code_challenge, an unknown scope -> 400 HTML page "Something went wrong".
    POST /i/oauth2/authorize (form: the same parameters, username, action=allow|cancel)
         -> 302 `redirect_uri?state=<state>&code=<code>`; cancel -> 302
         `redirect_uri?error=access_denied&state=<state>`. A code lives 30 s and is single-use.
    POST /2/oauth2/token (form; confidential client: `Authorization: Basic
         base64(client_id:client_secret)`, client_id in the body is then optional)
         grant_type=authorization_code, code, redirect_uri, code_verifier
         grant_type=refresh_token, refresh_token
         -> 200 {"token_type":"bearer","expires_in":7200,"access_token":"...","scope":"<granted,
         space separated>","refresh_token":"..."} (refresh_token only with offline.access;
         shape as recorded). Refresh tokens are single-use and rotate; replaying a spent one
         answers the invalid-token error below and revokes every token of that chain.
         Errors: no or wrong Basic credentials -> 401 {"error":"unauthorized_client",
         "error_description":"Missing valid authorization header"}; bad, spent or expired code
         -> 400 {"error":"invalid_request","error_description":"Value passed for the
         authorization code was invalid."}; no verifier -> 400 ... "Missing required parameter
         [code_verifier]."; wrong verifier -> 400 ... "Value passed for the code verifier did
         not match the code challenge."; bad, spent or revoked refresh token -> 400 ... "Value
         passed for the token was invalid." (all as recorded in public issues). Unverified
         wording: redirect_uri mismatch (400 invalid_request) and unknown grant_type (400
         unsupported_grant_type).
    POST /2/oauth2/revoke (form: token, token_type_hint, client_id; Basic auth)
         -> 200 {"revoked": true}; the token stops working (that token only).

API:
    GET    /2/users/me -> 200 {"data":{"id","name","username"}} [me] [tweepy get_me]
    POST   /2/tweets  JSON {"text": "...", "media": {"media_ids": ["..."]}}
           -> 201 {"data":{"id":"<19 digits>","text":"<URLs replaced by https://t.co/xxxxxxxxxx>",
           "edit_history_tweet_ids":["<id>"]}} with `location: <url>/2/tweets/<id>` [create]
           [tweepy]. Duplicate of a live post of the same author -> 403 {"detail":"You are not
           allowed to create a Tweet with duplicate content.","type":"about:blank","title":
           "Forbidden","status":403} (recorded). Over 280 weighted characters (URLs 23, emoji
           and CJK 2 [count]) -> 400 {"errors":[{"message":"Your Tweet text is too long. For
           more information on how Twitter determines text length see https://github.com/
           twitter/twitter-text."}],"title":"Invalid Request","detail":"One or more parameters
           to your request was invalid.","type":".../invalid-request"} (message and status as
           recorded through tweepy). Media ids that are not finalized uploads of the author ->
           400 same envelope with {"parameters":{"media.media_ids":[...]},"message":"Your media
           IDs are invalid."} (recorded). No text and no media -> 400 same envelope (message
           unverified).
    DELETE /2/tweets/:id -> 200 {"data":{"deleted":true}} for the author [manage] [tweepy];
           another user's post -> 403 generic Forbidden problem (unverified: X's exact body is
           not documented); unknown or already deleted -> the not-found answer below (chosen:
           the openapi lists a resource-not-found problem for this call; not recorded).
    GET    /2/tweets/:id?tweet.fields=public_metrics,non_public_metrics,organic_metrics,...
           -> 200 {"data":{"id","text","edit_history_tweet_ids", requested fields}} [lookup]
           public_metrics {retweet_count, reply_count, like_count, quote_count, bookmark_count,
           impression_count}; non_public_metrics {impression_count, url_link_clicks,
           user_profile_clicks, engagements}; organic_metrics {impression_count, like_count,
           reply_count, retweet_count, url_link_clicks, user_profile_clicks} [metrics]. Private
           metrics asked by someone else than the author, or for a post 30 days old or more ->
           200 {"errors":[one per private field: {"resource_type":"tweet","field":
           "non_public_metrics.impression_count","parameter":"id","resource_id","title":"Field
           Authorization Error","section":"data","detail":"Sorry, you are not authorized to
           access 'non_public_metrics.impression_count' on the Tweet with id : [<id>].",
           "value","type":".../not-authorized-for-field"}]} and no data (as recorded).
           Not found (never existed or deleted): `not_found_status` 404 (default) ->
           {"errors":[{"value","detail":"Could not find tweet with id: [<id>].","title":"Not
           Found Error","resource_type":"tweet","parameter":"id","resource_id","type":
           ".../resource-not-found"}],"title":"Not Found Error","detail":...,"type":...} (the
           docs now say deleted posts answer 404); set `not_found_status = 200` for the older
           recorded answer, the same `errors` array in a 200 without the top-level fields.
           Fields also served: created_at, author_id, entities, attachments. An unknown field
           name -> 400 invalid-request "The `tweet.fields` query parameter value [x] is not
           one of [...]" (recorded shape).
    GET    /2/users/:id/tweets?max_results=N&tweet.fields=entities,created_at,...
           -> 200 {"data":[newest first, as above, entities.urls[{"start","end","url":
           "https://t.co/...","expanded_url":"<original>","display_url"}]],"meta":
           {"result_count","newest_id","oldest_id"[,"next_token"]}} [timeline] [tweepy];
           none -> {"meta":{"result_count":0}}. max_results outside 5..100 -> 400 "The
           `max_results` query parameter value [N] is not between 5 and 100" (recorded).
           With private metrics asked by the author, only posts under 30 days old are listed;
           asked by someone else, each post is an authorization error instead.
    POST   /2/media/upload/initialize JSON {"media_type":"image/jpeg","total_bytes":N,
           "media_category":"tweet_image"} -> 200 {"data":{"id","media_key":"3_<id>",
           "expires_after_secs":86400}} (key prefix 3_ image, 16_ gif, 7_ video, 13_
           amplify_video) [media]
    POST   /2/media/upload/{id}/append multipart/form-data `media` (bytes) + `segment_index`
           (or JSON with `media` base64) -> 200 {"data":{"expires_at":<epoch s>}} [media]
    POST   /2/media/upload/{id}/finalize -> 200 {"data":{"id","media_key","size",
           "expires_after_secs"}} (+ processing_info succeeded for video); appended bytes !=
           total_bytes, or an upload of another user -> 400 invalid-request (wording unverified).

Fault switches (as in social_network.py):
    script(*steps)       answers for the next write calls (POST /2/tweets, DELETE /2/tweets/:id,
                         media upload calls): {"status": 500}, {"status": 503}, {"status": 429,
                         "reset_in": 2.0}, {"status": 401}, {"duplicate": True}, {"latency": 1.5}
                         (then normal service), {"accept_then_hang": 30} (does the call, then
                         holds the answer that long: the post exists, the client times out).
    script_token(*steps) the same for POST /2/oauth2/token ({"status": 400} refuses the grant;
                         accept_then_hang rotates the refresh token and then hangs).
Inspection: `state` (refresh_count, tweets, tokens...), `requests_log`, `live_tweets()`,
`tweet(id)`, `account(username)`, `account_for_token(token)`, `issue_token(username, scopes=...,
expires_in=...)`, `expire(token)`, `register_client(id, secret, redirect_uris=None)`; settable
`clock` (default time.time), `token_lifetime` (7200), `not_found_status` (404). Over HTTP: GET /_fake/state, POST /_fake/script
{"responses": [...]}, POST /_fake/script_token, POST /_fake/token {"username", "scopes"},
POST /_fake/reset.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import html
import json
import re
import secrets
import socket
import string
import threading
import time
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from email import policy
from email.parser import BytesParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlencode, urlsplit, urlunsplit

from advocacy.networks.metrics import sandbox_curve
from tests.fakes.serving import ThreadServed, serve_fake

PROBLEMS = "https://api.x.com/2/problems/"
JSON_TYPE = "application/json; charset=utf-8"
PROBLEM_TYPE = "application/problem+json"

DEMO_CLIENT_ID = "demo-x-client"
DEMO_CLIENT_SECRET = "demo-x-secret"
DEFAULT_SCOPES = ("tweet.read", "tweet.write", "users.read", "offline.access", "media.write")
KNOWN_SCOPES = {
    "tweet.read": "All the Tweets you can view, including Tweets from protected accounts.",
    "tweet.write": "Tweet and Retweet for you.",
    "tweet.moderate.write": "Hide and unhide replies to your Tweets.",
    "users.email": "Email from an authenticated user.",
    "users.read": "Any account you can view, including protected accounts.",
    "follows.read": "People who follow you and people who you follow.",
    "follows.write": "Follow and unfollow people for you.",
    "offline.access": "Stay connected to your account until you revoke access.",
    "space.read": "All the Spaces you can view.",
    "mute.read": "Accounts you've muted.",
    "mute.write": "Mute and unmute accounts for you.",
    "like.read": "Tweets you've liked and likes you can view.",
    "like.write": "Like and un-like Tweets for you.",
    "list.read": "Lists, list members, and list followers of lists you've created or are a "
    "member of, including private lists.",
    "list.write": "Create and manage Lists for you.",
    "block.read": "Accounts you've blocked.",
    "block.write": "Block and unblock accounts for you.",
    "bookmark.read": "Get Bookmarked Tweets from an authenticated user.",
    "bookmark.write": "Bookmark and remove Bookmarks from Tweets.",
    "dm.read": "All the Direct Messages you can view, including Direct Messages from "
    "protected accounts.",
    "dm.write": "Send and manage Direct Messages for you.",
    "media.write": "Upload media.",
}
READ_SCOPES = frozenset({"tweet.read", "users.read"})
WRITE_SCOPES = frozenset({"tweet.read", "tweet.write", "users.read"})
MEDIA_SCOPES = frozenset({"media.write"})

CODE_LIFETIME = 30.0
MEDIA_LIFETIME = 86400
RATE_WINDOW = 900
PRIVATE_METRICS_DAYS = 30
MAX_WEIGHTED_LENGTH = 280
TCO_LENGTH = 23
TWEET_TEXT_TOO_LONG = (
    "Your Tweet text is too long. For more information on how Twitter determines text length "
    "see https://github.com/twitter/twitter-text."
)
DUPLICATE_DETAIL = "You are not allowed to create a Tweet with duplicate content."
SNOWFLAKE_EPOCH_MS = 1288834974657

# Per-user limits for 15 minutes, from the rate-limit tables [limits].
RATE_LIMITS = {
    "POST /2/tweets": 100,
    "DELETE /2/tweets/:id": 50,
    "GET /2/tweets/:id": 900,
    "GET /2/users/:id/tweets": 900,
    "GET /2/users/me": 75,
    "POST /2/media/upload/initialize": 1875,
    "POST /2/media/upload/:id/append": 1875,
    "POST /2/media/upload/:id/finalize": 1875,
}

TWEET_FIELDS = (
    "article",
    "attachments",
    "author_id",
    "card_uri",
    "community_id",
    "context_annotations",
    "conversation_id",
    "created_at",
    "display_text_range",
    "edit_controls",
    "edit_history_tweet_ids",
    "entities",
    "geo",
    "id",
    "in_reply_to_user_id",
    "lang",
    "media_metadata",
    "non_public_metrics",
    "note_tweet",
    "organic_metrics",
    "paid_partnership",
    "possibly_sensitive",
    "promoted_metrics",
    "public_metrics",
    "referenced_tweets",
    "reply_settings",
    "scopes",
    "source",
    "text",
    "withheld",
)
PRIVATE_FIELDS = {
    "non_public_metrics": (
        "impression_count",
        "url_link_clicks",
        "user_profile_clicks",
        "engagements",
    ),
    "organic_metrics": (
        "impression_count",
        "like_count",
        "reply_count",
        "retweet_count",
        "url_link_clicks",
        "user_profile_clicks",
    ),
}
MEDIA_TYPES = {
    "video/mp4",
    "video/webm",
    "video/mp2t",
    "video/quicktime",
    "text/srt",
    "text/vtt",
    "image/jpeg",
    "image/gif",
    "image/bmp",
    "image/png",
    "image/webp",
    "image/pjpeg",
    "image/tiff",
    "model/gltf-binary",
    "model/vnd.usdz+zip",
}
MEDIA_CATEGORIES = {
    "amplify_video": "13",
    "tweet_gif": "16",
    "tweet_image": "3",
    "tweet_video": "7",
    "dm_gif": "16",
    "dm_image": "3",
    "dm_video": "7",
    "subtitles": "3",
}

URL_RE = re.compile(r"(?:https?://|www\.)[^\s<>\"']+", re.IGNORECASE)
URL_TRAILING = ".,;:!?)]}'\""
EMOJI_RE = re.compile(
    "(?:[\U0001f1e6-\U0001f1ff]{2}"
    "|[\U0001f000-\U0001faff\u2300-\u23ff\u2600-\u27bf\u2b00-\u2bff]"
    "[\ufe0f\U0001f3fb-\U0001f3ff]?"
    "(?:\u200d[\U0001f000-\U0001faff\u2600-\u27bf\u2640\u2642\u2695\u2b00-\u2bff]"
    "[\ufe0f\U0001f3fb-\U0001f3ff]?)*)"
)
WEIGHT_ONE_RANGES = ((0, 4351), (8192, 8205), (8208, 8223), (8242, 8247))
USERNAME_RE = re.compile(r"^[A-Za-z0-9_]{1,15}$")


# --- state --------------------------------------------------------------------------------


@dataclass
class XAccount:
    id: str
    username: str
    name: str
    created_at: float


@dataclass
class XToken:
    value: str
    kind: str  # "access" or "refresh"
    account_id: str
    client_id: str
    scopes: tuple[str, ...]
    family: str
    issued_at: float
    expires_at: float | None = None  # access tokens only
    used: bool = False  # refresh tokens are single-use
    revoked: bool = False


@dataclass
class XAuthCode:
    code: str
    client_id: str
    redirect_uri: str
    scopes: tuple[str, ...]
    challenge: str
    method: str
    account_id: str
    issued_at: float
    used: bool = False
    family: str = ""


@dataclass
class XTweet:
    id: str
    author_id: str
    text: str  # as X answers it, URLs replaced by t.co links
    original_text: str
    urls: list[dict[str, Any]]
    media_ids: list[str]
    created_at: float
    deleted: bool = False
    deleted_at: float | None = None


@dataclass
class XMedia:
    id: str
    media_key: str
    owner_id: str
    media_type: str
    media_category: str
    total_bytes: int
    created_at: float
    additional_owners: list[str] = field(default_factory=list)
    segments: dict[int, int] = field(default_factory=dict)  # index -> size
    finalized: bool = False


@dataclass
class XRequest:
    method: str
    path: str
    at: float
    status: int = 0
    # "access" (a live access token), "expired", "revoked", "refresh" (a refresh token used
    # as bearer), "unknown", "basic" (client credentials), or "none".
    token_kind: str = "none"
    account_id: str = ""


@dataclass
class XState:
    accounts: dict[str, XAccount] = field(default_factory=dict)  # by id
    tokens: dict[str, XToken] = field(default_factory=dict)
    codes: dict[str, XAuthCode] = field(default_factory=dict)
    revoked_families: set[str] = field(default_factory=set)
    tweets: list[XTweet] = field(default_factory=list)
    media: dict[str, XMedia] = field(default_factory=dict)
    requests: list[XRequest] = field(default_factory=list)
    script: list[dict[str, Any]] = field(default_factory=list)
    token_script: list[dict[str, Any]] = field(default_factory=list)
    rate_windows: dict[tuple[str, str], list[float]] = field(default_factory=dict)
    refresh_count: int = 0
    sequence: int = 0


class HandledError(Exception):
    """An answer already decided while parsing: status, body, headers, content type."""

    def __init__(
        self,
        status: int,
        payload: Any,
        headers: dict[str, str] | None = None,
        content_type: str = JSON_TYPE,
    ) -> None:
        super().__init__(status)
        self.status = status
        self.payload = payload
        self.headers = headers or {}
        self.content_type = content_type


# --- the fake -----------------------------------------------------------------------------


class FakeX(ThreadServed):
    """The server and its state; usable in-process (tests) or as a program (make run)."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        clients: dict[str, str] | None = None,
    ) -> None:
        self.state = XState()
        self.lock = threading.RLock()
        self.clients: dict[str, str] = dict(clients or {})
        self.redirect_uris: dict[str, set[str]] = {}
        self.clock: Callable[[], float] = time.time
        self.token_lifetime: float = 7200.0
        self.not_found_status: int = 404
        handler = type("Handler", (_Handler,), {"x": self})
        self.server = ThreadingHTTPServer((host, port), handler)
        self.server.daemon_threads = True
        self.thread: threading.Thread | None = None

    # --- test controls ------------------------------------------------------------------

    def register_client(
        self, client_id: str, secret: str, redirect_uris: Iterable[str] | None = None
    ) -> None:
        """A confidential client; with redirect_uris, only those callbacks are accepted
        (exact match, as X requires)."""
        with self.lock:
            self.clients[client_id] = secret
            if redirect_uris is not None:
                self.redirect_uris[client_id] = set(redirect_uris)

    def script(self, *steps: dict[str, Any]) -> None:
        """Answers for the next write calls (POST /2/tweets, DELETE /2/tweets/:id, media
        upload), in order; then normal service. Each is {"status": 500}, {"status": 503},
        {"status": 429, "reset_in": 2.0}, {"status": 401}, {"duplicate": True},
        {"latency": 1.5}, or {"accept_then_hang": 30}."""
        with self.lock:
            self.state.script.extend(steps)

    def script_token(self, *steps: dict[str, Any]) -> None:
        """Answers for the next POST /2/oauth2/token calls, same shapes as script();
        {"status": 400} refuses the grant as X refuses a spent token."""
        with self.lock:
            self.state.token_script.extend(steps)

    def reset(self) -> None:
        with self.lock:
            self.state = XState()

    @property
    def requests_log(self) -> list[XRequest]:
        with self.lock:
            return list(self.state.requests)

    def live_tweets(self) -> list[XTweet]:
        with self.lock:
            return [tweet for tweet in self.state.tweets if not tweet.deleted]

    def tweet(self, tweet_id: str) -> XTweet | None:
        with self.lock:
            return next((t for t in self.state.tweets if t.id == str(tweet_id)), None)

    def account_for_token(self, token: str) -> XAccount | None:
        """The account a token (access or refresh, whatever its state) was issued for."""
        with self.lock:
            record = self.state.tokens.get(token)
            return self.state.accounts.get(record.account_id) if record else None

    def account(self, username: str) -> XAccount:
        """The account with that username, created on first use."""
        with self.lock:
            return self._account(username)

    def issue_token(
        self,
        username: str,
        scopes: Iterable[str] = DEFAULT_SCOPES,
        expires_in: float | None = None,
        client_id: str | None = None,
    ) -> dict[str, Any]:
        """A connected account without the browser: the token endpoint's answer."""
        with self.lock:
            account = self._account(username)
            client = client_id or next(iter(self.clients), DEMO_CLIENT_ID)
            return self._issue(account.id, client, tuple(scopes), expires_in=expires_in)

    def expire(self, token: str) -> None:
        """Make an access token expired now."""
        with self.lock:
            record = self.state.tokens.get(token)
            if record and record.kind == "access":
                record.expires_at = self.clock() - 1

    # --- behaviour ----------------------------------------------------------------------

    def _next_id(self) -> str:
        """A snowflake: 19 digits today, growing with time, unique in this fake."""
        self.state.sequence += 1
        ms = int(self.clock() * 1000)
        return str(((ms - SNOWFLAKE_EPOCH_MS) << 22) | (1 << 17) | (self.state.sequence & 0xFFF))

    def _account(self, username: str) -> XAccount:
        for account in self.state.accounts.values():
            if account.username.lower() == username.lower():
                return account
        digest = int(hashlib.sha256(username.lower().encode()).hexdigest()[:15], 16)
        account_id = str(10**17 + digest % (9 * 10**17))
        name = username.replace("_", " ").strip().title() or username
        account = XAccount(id=account_id, username=username, name=name, created_at=self.clock())
        self.state.accounts[account_id] = account
        return account

    def _token_value(self, kind: str) -> str:
        # Shaped like X's: base64url of "<random>:<ms>:1:0:<at|rt>:1", without padding.
        raw = f"{secrets.token_urlsafe(32)}:{int(self.clock() * 1000)}:1:0:{kind}:1"
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    def _issue(
        self,
        account_id: str,
        client_id: str,
        scopes: tuple[str, ...],
        *,
        family: str | None = None,
        expires_in: float | None = None,
    ) -> dict[str, Any]:
        now = self.clock()
        lifetime = float(self.token_lifetime if expires_in is None else expires_in)
        family = family or secrets.token_hex(8)
        access = XToken(
            value=self._token_value("at"),
            kind="access",
            account_id=account_id,
            client_id=client_id,
            scopes=scopes,
            family=family,
            issued_at=now,
            expires_at=now + lifetime,
        )
        self.state.tokens[access.value] = access
        answer: dict[str, Any] = {
            "token_type": "bearer",
            "expires_in": int(lifetime),
            "access_token": access.value,
            "scope": " ".join(scopes),
        }
        if "offline.access" in scopes:
            refresh = XToken(
                value=self._token_value("rt"),
                kind="refresh",
                account_id=account_id,
                client_id=client_id,
                scopes=scopes,
                family=family,
                issued_at=now,
            )
            self.state.tokens[refresh.value] = refresh
            answer["refresh_token"] = refresh.value
        return answer

    def _token_state(self, token: str) -> tuple[str, XToken | None]:
        record = self.state.tokens.get(token)
        if record is None:
            return "unknown", None
        if record.kind == "refresh":
            return "refresh", record
        if record.revoked or record.family in self.state.revoked_families:
            return "revoked", record
        if record.expires_at is not None and record.expires_at <= self.clock():
            return "expired", record
        return "access", record

    def _revoke_family(self, family: str) -> None:
        self.state.revoked_families.add(family)
        for record in self.state.tokens.values():
            if record.family == family:
                record.revoked = True

    def _rate(self, account_id: str, key: str) -> tuple[bool, dict[str, str]]:
        """Count one call in the user's 15-minute window for that endpoint."""
        limit = RATE_LIMITS[key]
        now = self.clock()
        window = self.state.rate_windows.get((account_id, key))
        if window is None or now >= window[0] + RATE_WINDOW:
            window = [now, 0.0]
            self.state.rate_windows[(account_id, key)] = window
        reset = str(int(window[0] + RATE_WINDOW))
        if window[1] >= limit:
            return False, {
                "x-rate-limit-limit": str(limit),
                "x-rate-limit-remaining": "0",
                "x-rate-limit-reset": reset,
            }
        window[1] += 1
        return True, {
            "x-rate-limit-limit": str(limit),
            "x-rate-limit-remaining": str(int(limit - window[1])),
            "x-rate-limit-reset": reset,
        }

    def _metrics(self, tweet: XTweet) -> dict[str, dict[str, int]]:
        """Counts growing with the post's age along the sandbox curve, the same for the same
        post and moment, never decreasing."""
        age = max(0.0, self.clock() - tweet.created_at)
        curve = sandbox_curve(tweet.id, tweet.author_id, age)
        impressions = curve["impressions"]
        likes = curve["reactions"]
        replies = curve["comments"]
        retweets = curve["reshares"]
        clicks = curve["clicks"] if tweet.urls else 0
        quotes = retweets // 4
        bookmarks = likes // 6
        profile_clicks = impressions // 90
        return {
            "public_metrics": {
                "retweet_count": retweets,
                "reply_count": replies,
                "like_count": likes,
                "quote_count": quotes,
                "bookmark_count": bookmarks,
                "impression_count": impressions,
            },
            "non_public_metrics": {
                "impression_count": impressions,
                "url_link_clicks": clicks,
                "user_profile_clicks": profile_clicks,
                "engagements": likes + replies + retweets + quotes + clicks + profile_clicks,
            },
            "organic_metrics": {
                "impression_count": impressions,
                "like_count": likes,
                "reply_count": replies,
                "retweet_count": retweets,
                "url_link_clicks": clicks,
                "user_profile_clicks": profile_clicks,
            },
        }


# --- text: t.co wrapping and weighted length ----------------------------------------------


def _url_spans(text: str) -> list[tuple[int, int, str]]:
    spans = []
    for match in URL_RE.finditer(text):
        url = match.group(0).rstrip(URL_TRAILING)
        if len(url) > len("https://"):
            spans.append((match.start(), match.start() + len(url), url))
    return spans


def weighted_length(text: str) -> int:
    """X's count [count]: NFC, a URL counts 23, an emoji sequence 2, code points in the
    Latin and punctuation ranges 1, everything else 2."""
    text = unicodedata.normalize("NFC", text)
    total = 0
    cursor = 0
    for start, end, _url in _url_spans(text):
        total += _plain_length(text[cursor:start]) + TCO_LENGTH
        cursor = end
    return total + _plain_length(text[cursor:])


def _plain_length(text: str) -> int:
    total = 0
    cursor = 0
    for match in EMOJI_RE.finditer(text):
        total += _code_point_length(text[cursor : match.start()]) + 2
        cursor = match.end()
    return total + _code_point_length(text[cursor:])


def _code_point_length(text: str) -> int:
    return sum(
        1 if any(low <= ord(char) <= high for low, high in WEIGHT_ONE_RANGES) else 2
        for char in text
    )


def _display_url(url: str) -> str:
    shown = re.sub(r"^https?://", "", url, flags=re.IGNORECASE)
    return shown if len(shown) <= 47 else shown[:47] + "…"


def _wrap_urls(text: str) -> tuple[str, list[dict[str, Any]]]:
    """The text as X answers it, each URL replaced by a t.co link, and the url entities
    (indices in code points of the answered text)."""
    alphabet = string.ascii_letters + string.digits
    parts: list[str] = []
    entities: list[dict[str, Any]] = []
    cursor = 0
    length = 0
    for start, end, url in _url_spans(text):
        parts.append(text[cursor:start])
        length += start - cursor
        tco = "https://t.co/" + "".join(secrets.choice(alphabet) for _ in range(10))
        expanded = url if re.match(r"^https?://", url, re.IGNORECASE) else f"http://{url}"
        entities.append(
            {
                "start": length,
                "end": length + len(tco),
                "url": tco,
                "expanded_url": expanded,
                "display_url": _display_url(url),
            }
        )
        parts.append(tco)
        length += len(tco)
        cursor = end
    parts.append(text[cursor:])
    return "".join(parts), entities


def _iso(timestamp: float) -> str:
    moment = datetime.fromtimestamp(timestamp, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


# --- bodies -------------------------------------------------------------------------------


def _problem(status: int, title: str, detail: str | None = None) -> dict[str, Any]:
    return {"title": title, "type": "about:blank", "status": status, "detail": detail or title}


UNAUTHORIZED = _problem(401, "Unauthorized")
FORBIDDEN = _problem(403, "Forbidden")
TOO_MANY = _problem(429, "Too Many Requests")
STATUS_TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


def _invalid_request(*errors: dict[str, Any]) -> dict[str, Any]:
    return {
        "errors": list(errors),
        "title": "Invalid Request",
        "detail": "One or more parameters to your request was invalid.",
        "type": PROBLEMS + "invalid-request",
    }


def _not_found_error(kind: str, value: str) -> dict[str, Any]:
    return {
        "value": value,
        "detail": f"Could not find {kind} with id: [{value}].",
        "title": "Not Found Error",
        "resource_type": kind,
        "parameter": "id",
        "resource_id": value,
        "type": PROBLEMS + "resource-not-found",
    }


def _field_errors(tweet_id: str, fields: Iterable[str]) -> list[dict[str, Any]]:
    errors = []
    for name in fields:
        for sub in PRIVATE_FIELDS[name]:
            path = f"{name}.{sub}"
            errors.append(
                {
                    "resource_type": "tweet",
                    "field": path,
                    "parameter": "id",
                    "resource_id": tweet_id,
                    "title": "Field Authorization Error",
                    "section": "data",
                    "detail": f"Sorry, you are not authorized to access '{path}' on the Tweet "
                    f"with id : [{tweet_id}].",
                    "value": tweet_id,
                    "type": PROBLEMS + "not-authorized-for-field",
                }
            )
    return errors


def _token_error(error: str, description: str) -> dict[str, str]:
    return {"error": error, "error_description": description}


# --- HTTP ---------------------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    x: FakeX
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def setup(self) -> None:
        super().setup()
        # Small answers leave at once instead of waiting for the client's delayed ACK.
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    # --- plumbing -----------------------------------------------------------------------

    def _begin(self, method: str) -> tuple[str, dict[str, list[str]]]:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        # Read the whole body first: an early answer must not leave bytes on the connection.
        self._body = self.rfile.read(length) if length else b""
        self._record = XRequest(method=method, path=parts.path, at=self.x.clock())
        auth = self.headers.get("Authorization", "")
        if auth.lower().startswith("basic "):
            self._record.token_kind = "basic"
        elif auth.lower().startswith("bearer "):
            with self.x.lock:
                kind, record = self.x._token_state(auth[7:].strip())
            self._record.token_kind = kind
            self._record.account_id = record.account_id if record else ""
        if not parts.path.startswith("/_fake/"):
            with self.x.lock:
                self.x.state.requests.append(self._record)
        return parts.path, parse_qs(parts.query, keep_blank_values=True)

    def _send(
        self,
        status: int,
        payload: Any = None,
        headers: dict[str, str] | None = None,
        *,
        content_type: str = JSON_TYPE,
    ) -> None:
        body = b""
        if payload is not None:
            if isinstance(payload, str):
                body = payload.encode()
            else:
                body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
        self._record.status = status
        try:
            self.send_response(status)
            if body or status not in (204, 302):
                self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            if content_type.startswith("application/"):
                self.send_header("Cache-Control", "no-cache, no-store, max-age=0")
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            if body:
                self.wfile.write(body)
        except OSError:
            # The client gave up (a timeout after accept_then_hang): nothing to answer to.
            self.close_connection = True

    def _answer(self, error: HandledError) -> None:
        self._send(error.status, error.payload, error.headers, content_type=error.content_type)

    def _json(self) -> dict[str, Any]:
        try:
            data = json.loads(self._body or b"{}")
        except ValueError:
            data = None
        if not isinstance(data, dict):
            raise HandledError(
                400, _invalid_request({"message": "Request body must be a JSON object."})
            )
        return data

    def _form(self) -> dict[str, str]:
        parsed = parse_qs(self._body.decode("utf-8", "replace"), keep_blank_values=True)
        return {key: values[0] for key, values in parsed.items()}

    def _multipart(self) -> dict[str, bytes]:
        content_type = self.headers.get("Content-Type", "")
        message = BytesParser(policy=policy.HTTP).parsebytes(
            b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + self._body
        )
        fields: dict[str, bytes] = {}
        if not message.is_multipart():
            return fields
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            payload = part.get_payload(decode=True)
            if name:
                fields[str(name)] = payload if isinstance(payload, bytes) else b""
        return fields

    def _caller(self, key: str, needed: frozenset[str]) -> tuple[XAccount, dict[str, str]]:
        """The account of a live bearer token with the scopes, counted in its rate window;
        or the answer X gives instead."""
        auth = self.headers.get("Authorization", "")
        with self.x.lock:
            kind, record = self.x._token_state(auth[7:].strip()) if auth else ("none", None)
            if not auth.lower().startswith("bearer ") or kind != "access" or record is None:
                raise HandledError(401, UNAUTHORIZED, content_type=PROBLEM_TYPE)
            if not needed <= set(record.scopes):
                raise HandledError(403, FORBIDDEN, content_type=PROBLEM_TYPE)
            account = self.x.state.accounts[record.account_id]
            allowed, headers = self.x._rate(account.id, key)
        if not allowed:
            raise HandledError(429, TOO_MANY, headers)
        return account, headers

    def _step(self, queue: str) -> dict[str, Any] | None:
        with self.x.lock:
            steps = getattr(self.x.state, queue)
            return steps.pop(0) if steps else None

    def _scripted(self, step: dict[str, Any] | None, key: str, *, token: bool = False) -> bool:
        """Answer as scripted; True when the answer is sent."""
        if not step:
            return False
        if step.get("latency"):
            time.sleep(float(step["latency"]))
        status = step.get("status")
        if status == 429:
            reset_in = float(step.get("reset_in", 1.0))
            limit = RATE_LIMITS.get(key, 100)
            headers = {
                "x-rate-limit-limit": str(limit),
                "x-rate-limit-remaining": "0",
                "x-rate-limit-reset": str(int(self.x.clock() + reset_in)),
            }
            self._send(429, TOO_MANY, headers)
            return True
        if status == 401:
            if token:
                self._send(
                    401,
                    _token_error("unauthorized_client", "Missing valid authorization header"),
                )
            else:
                self._send(401, UNAUTHORIZED, content_type=PROBLEM_TYPE)
            return True
        if status == 400 and token:
            self._send(
                400, _token_error("invalid_request", "Value passed for the token was invalid.")
            )
            return True
        if status:
            status = int(status)
            self._send(status, _problem(status, STATUS_TITLES.get(status, "Error")))
            return True
        # {"duplicate": True} is answered by the post itself, after authentication, with
        # the rate-limit headers X sends on that 403.
        return False

    @staticmethod
    def _hang(step: dict[str, Any] | None) -> None:
        if step and step.get("accept_then_hang"):
            time.sleep(float(step["accept_then_hang"]))

    # --- routes -------------------------------------------------------------------------

    def do_GET(self) -> None:
        path, query = self._begin("GET")
        try:
            if path == "/_fake/state":
                self._fake_state()
            elif path == "/healthz":
                self._send(200, {"status": "ok"})
            elif path == "/i/oauth2/authorize":
                self._authorize_page(query)
            elif path == "/2/users/me":
                self._me()
            elif match := re.fullmatch(r"/2/tweets/([^/]+)", path):
                self._lookup(match.group(1), query)
            elif match := re.fullmatch(r"/2/users/([^/]+)/tweets", path):
                self._timeline(match.group(1), query)
            else:
                self._send(404, _problem(404, "Not Found"))
        except HandledError as error:
            self._answer(error)

    def do_POST(self) -> None:
        path, _query = self._begin("POST")
        try:
            if path.startswith("/_fake/"):
                self._fake_control(path)
            elif path == "/i/oauth2/authorize":
                self._authorize_decision()
            elif path == "/2/oauth2/token":
                self._token()
            elif path == "/2/oauth2/revoke":
                self._revoke()
            elif path == "/2/tweets":
                self._create()
            elif path == "/2/media/upload/initialize":
                self._media_initialize()
            elif match := re.fullmatch(r"/2/media/upload/([^/]+)/(append|finalize)", path):
                if match.group(2) == "append":
                    self._media_append(match.group(1))
                else:
                    self._media_finalize(match.group(1))
            else:
                self._send(404, _problem(404, "Not Found"))
        except HandledError as error:
            self._answer(error)

    def do_DELETE(self) -> None:
        path, _query = self._begin("DELETE")
        try:
            if match := re.fullmatch(r"/2/tweets/([^/]+)", path):
                self._delete(match.group(1))
            else:
                self._send(404, _problem(404, "Not Found"))
        except HandledError as error:
            self._answer(error)

    def do_HEAD(self) -> None:
        self._begin("HEAD")
        self._send(405)

    # --- OAuth --------------------------------------------------------------------------

    def _authorize_params(self, params: dict[str, str]) -> str | None:
        """What is wrong with an authorize request, or None."""
        client_id = params.get("client_id", "")
        with self.x.lock:
            known = client_id in self.x.clients
            allowed = self.x.redirect_uris.get(client_id)
        if params.get("response_type") != "code":
            return "response_type must be code."
        if not known:
            return "Unknown client."
        redirect_uri = params.get("redirect_uri", "")
        if not redirect_uri or (allowed is not None and redirect_uri not in allowed):
            return "The redirect_uri does not match a callback URL of the App."
        if not params.get("state") or len(params["state"]) > 500:
            return "A state of at most 500 characters is required."
        if not params.get("code_challenge"):
            return "A code_challenge is required."
        if params.get("code_challenge_method", "plain") not in ("S256", "plain"):
            return "code_challenge_method must be S256 or plain."
        scopes = params.get("scope", "").split()
        if not scopes or any(scope not in KNOWN_SCOPES for scope in scopes):
            return "Unknown scope."
        return None

    def _page(self, status: int, body: str, title: str) -> None:
        document = (
            "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
            f"<title>{html.escape(title)}</title></head><body>{body}</body></html>"
        )
        self._send(status, document, content_type="text/html; charset=utf-8")

    def _error_page(self, problem: str) -> None:
        self._page(
            400,
            "<h1>Something went wrong</h1><p>You weren’t able to give access to the App. "
            f"Go back and try logging in again.</p><p>{html.escape(problem)}</p>",
            "Something went wrong",
        )

    def _authorize_page(self, query: dict[str, list[str]], *, notice: str = "") -> None:
        params = {key: values[0] for key, values in query.items()}
        problem = self._authorize_params(params)
        if problem:
            self._error_page(problem)
            return
        names = (
            "response_type",
            "client_id",
            "redirect_uri",
            "scope",
            "state",
            "code_challenge",
            "code_challenge_method",
        )
        hidden = "".join(
            f"<input type='hidden' name='{name}' value='{html.escape(params[name], quote=True)}'>"
            for name in names
            if name in params
        )
        scopes = "".join(
            f"<li><code>{html.escape(scope)}</code> — {html.escape(KNOWN_SCOPES[scope])}</li>"
            for scope in params["scope"].split()
        )
        username = html.escape(params.get("username", "demo_user"), quote=True)
        warning = f"<p role='alert'>{html.escape(notice)}</p>" if notice else ""
        body = (
            f"<main><h1>Authorize app</h1>{warning}"
            f"<p><strong>{html.escape(params['client_id'])}</strong> wants to access your X "
            f"account.</p><p>It will be able to:</p><ul class='scopes'>{scopes}</ul>"
            "<form method='post' action='/i/oauth2/authorize'>"
            f"{hidden}<label for='username'>Account (username)</label> "
            f"<input type='text' id='username' name='username' value='{username}'>"
            "<button type='submit' name='action' value='allow'>Authorize app</button> "
            "<button type='submit' name='action' value='cancel'>Cancel</button>"
            "</form></main>"
        )
        self._page(200 if not notice else 400, body, "Authorize app")

    def _redirect(self, redirect_uri: str, params: dict[str, str]) -> None:
        parts = urlsplit(redirect_uri)
        query = f"{parts.query}&{urlencode(params)}" if parts.query else urlencode(params)
        location = urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))
        self._send(302, None, {"Location": location})

    def _authorize_decision(self) -> None:
        params = self._form()
        problem = self._authorize_params(params)
        if problem:
            self._error_page(problem)
            return
        if params.get("action") == "cancel":
            self._redirect(
                params["redirect_uri"], {"error": "access_denied", "state": params["state"]}
            )
            return
        username = params.get("username", "").strip().lstrip("@")
        if not USERNAME_RE.match(username):
            query = {key: [value] for key, value in params.items()}
            self._authorize_page(query, notice="Enter a username of 1 to 15 letters, digits or _.")
            return
        with self.x.lock:
            account = self.x._account(username)
            raw = f"{secrets.token_urlsafe(32)}:{int(self.x.clock() * 1000)}:1:1:ac:1"
            code = base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")
            self.x.state.codes[code] = XAuthCode(
                code=code,
                client_id=params["client_id"],
                redirect_uri=params["redirect_uri"],
                scopes=tuple(params["scope"].split()),
                challenge=params["code_challenge"],
                method=params.get("code_challenge_method", "plain"),
                account_id=account.id,
                issued_at=self.x.clock(),
            )
        self._redirect(params["redirect_uri"], {"state": params["state"], "code": code})

    def _client(self, form: dict[str, str]) -> str:
        """The confidential client authenticated by HTTP Basic, or the 401 X answers."""
        auth = self.headers.get("Authorization", "")
        refused = HandledError(
            401, _token_error("unauthorized_client", "Missing valid authorization header")
        )
        if not auth.lower().startswith("basic "):
            raise refused
        try:
            decoded = base64.b64decode(auth[6:].strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            raise refused from None
        client_id, _, secret = decoded.partition(":")
        client_id, secret = unquote(client_id), unquote(secret)
        with self.x.lock:
            expected = self.x.clients.get(client_id)
        if expected is None or not secrets.compare_digest(expected, secret):
            raise refused
        if form.get("client_id") and form["client_id"] != client_id:
            raise refused
        return client_id

    def _token(self) -> None:
        step = self._step("token_script")
        if self._scripted(step, "", token=True):
            return
        form = self._form()
        client_id = self._client(form)
        grant = form.get("grant_type", "")
        if grant == "authorization_code":
            answer = self._grant_code(form, client_id)
        elif grant == "refresh_token":
            answer = self._grant_refresh(form, client_id)
        else:
            raise HandledError(
                400, _token_error("unsupported_grant_type", f"Invalid grant_type: {grant}")
            )
        self._hang(step)
        self._send(200, answer)

    def _grant_code(self, form: dict[str, str], client_id: str) -> dict[str, Any]:
        invalid = HandledError(
            400,
            _token_error("invalid_request", "Value passed for the authorization code was invalid."),
        )
        with self.x.lock:
            code = self.x.state.codes.get(form.get("code", ""))
            if code is None or code.client_id != client_id:
                raise invalid
            if code.used:
                # A code used twice: deny, and revoke what was issued from it (RFC 6749 4.1.2).
                if code.family:
                    self.x._revoke_family(code.family)
                raise invalid
            if self.x.clock() - code.issued_at > CODE_LIFETIME:
                raise invalid
            verifier = form.get("code_verifier", "")
            if not verifier:
                raise HandledError(
                    400,
                    _token_error("invalid_request", "Missing required parameter [code_verifier]."),
                )
            if form.get("redirect_uri", "") != code.redirect_uri:
                raise HandledError(
                    400,
                    _token_error(
                        "invalid_request",
                        "Value passed for the redirect uri did not match the uri of the "
                        "authorization code.",
                    ),
                )
            if code.method == "S256":
                digest = hashlib.sha256(verifier.encode()).digest()
                expected = base64.urlsafe_b64encode(digest).decode().rstrip("=")
            else:
                expected = verifier
            if not secrets.compare_digest(expected, code.challenge):
                raise HandledError(
                    400,
                    _token_error(
                        "invalid_request",
                        "Value passed for the code verifier did not match the code challenge.",
                    ),
                )
            code.used = True
            code.family = secrets.token_hex(8)
            return self.x._issue(code.account_id, client_id, code.scopes, family=code.family)

    def _grant_refresh(self, form: dict[str, str], client_id: str) -> dict[str, Any]:
        invalid = HandledError(
            400, _token_error("invalid_request", "Value passed for the token was invalid.")
        )
        with self.x.lock:
            record = self.x.state.tokens.get(form.get("refresh_token", ""))
            if record is None or record.kind != "refresh" or record.client_id != client_id:
                raise invalid
            if record.revoked or record.family in self.x.state.revoked_families:
                raise invalid
            if record.used:
                # A spent refresh token comes back: the chain is compromised, end it all.
                self.x._revoke_family(record.family)
                raise invalid
            record.used = True
            self.x.state.refresh_count += 1
            return self.x._issue(record.account_id, client_id, record.scopes, family=record.family)

    def _revoke(self) -> None:
        form = self._form()
        self._client(form)
        token = form.get("token", "")
        if not token:
            raise HandledError(
                400, _token_error("invalid_request", "Missing required parameter [token].")
            )
        with self.x.lock:
            record = self.x.state.tokens.get(token)
            if record is not None:
                record.revoked = True
        self._send(200, {"revoked": True})

    # --- API ----------------------------------------------------------------------------

    def _me(self) -> None:
        account, headers = self._caller("GET /2/users/me", READ_SCOPES)
        data = {"id": account.id, "name": account.name, "username": account.username}
        self._send(200, {"data": data}, headers)

    def _not_found(self, kind: str, value: str, headers: dict[str, str]) -> None:
        error = _not_found_error(kind, value)
        if self.x.not_found_status == 200:
            self._send(200, {"errors": [error]}, headers)
        else:
            body = {
                "errors": [error],
                "title": error["title"],
                "detail": error["detail"],
                "type": error["type"],
            }
            self._send(self.x.not_found_status, body, headers)

    def _fields(self, query: dict[str, list[str]], headers: dict[str, str]) -> list[str]:
        raw = (query.get("tweet.fields") or query.get("post.fields") or [""])[0]
        fields = [name for name in raw.split(",") if name]
        for name in fields:
            if name not in TWEET_FIELDS:
                message = (
                    f"The `tweet.fields` query parameter value [{name}] is not one of "
                    f"[{','.join(TWEET_FIELDS)}]"
                )
                raise HandledError(
                    400,
                    _invalid_request({"parameters": {"tweet.fields": [name]}, "message": message}),
                    headers,
                )
        return fields

    def _tweet_json(self, tweet: XTweet, fields: list[str]) -> dict[str, Any]:
        data: dict[str, Any] = {
            "edit_history_tweet_ids": [tweet.id],
            "id": tweet.id,
            "text": tweet.text,
        }
        metrics = self.x._metrics(tweet)
        for name in fields:
            if name == "created_at":
                data["created_at"] = _iso(tweet.created_at)
            elif name == "author_id":
                data["author_id"] = tweet.author_id
            elif name == "entities" and tweet.urls:
                data["entities"] = {"urls": [dict(url) for url in tweet.urls]}
            elif name == "attachments" and tweet.media_ids:
                with self.x.lock:
                    keys = [
                        self.x.state.media[m].media_key
                        for m in tweet.media_ids
                        if m in self.x.state.media
                    ]
                data["attachments"] = {"media_keys": keys}
            elif name in metrics:
                data[name] = metrics[name]
        return data

    def _private_allowed(self, tweet: XTweet, caller: XAccount) -> bool:
        age = self.x.clock() - tweet.created_at
        return tweet.author_id == caller.id and age < PRIVATE_METRICS_DAYS * 86400

    def _lookup(self, tweet_id: str, query: dict[str, list[str]]) -> None:
        caller, headers = self._caller("GET /2/tweets/:id", READ_SCOPES)
        fields = self._fields(query, headers)
        tweet = self.x.tweet(tweet_id)
        if tweet is None or tweet.deleted:
            self._not_found("tweet", tweet_id, headers)
            return
        private = [name for name in fields if name in PRIVATE_FIELDS]
        if private and not self._private_allowed(tweet, caller):
            self._send(200, {"errors": _field_errors(tweet.id, private)}, headers)
            return
        self._send(200, {"data": self._tweet_json(tweet, fields)}, headers)

    def _timeline(self, user_id: str, query: dict[str, list[str]]) -> None:
        caller, headers = self._caller("GET /2/users/:id/tweets", READ_SCOPES)
        raw = (query.get("max_results") or ["10"])[0]
        if not raw.isdigit() or not 5 <= int(raw) <= 100:
            message = f"The `max_results` query parameter value [{raw}] is not between 5 and 100"
            raise HandledError(
                400,
                _invalid_request({"parameters": {"max_results": [raw]}, "message": message}),
                headers,
            )
        token = (query.get("pagination_token") or ["0"])[0] or "0"
        if not token.isdigit():
            message = f"The `pagination_token` query parameter value [{token}] is not valid"
            raise HandledError(
                400,
                _invalid_request({"parameters": {"pagination_token": [token]}, "message": message}),
                headers,
            )
        fields = self._fields(query, headers)
        with self.x.lock:
            known = user_id in self.x.state.accounts
            tweets = [t for t in self.x.state.tweets if t.author_id == user_id and not t.deleted]
        if not known:
            self._not_found("user", user_id, headers)
            return
        private = [name for name in fields if name in PRIVATE_FIELDS]
        if private and caller.id == user_id:
            tweets = [t for t in tweets if self._private_allowed(t, caller)]
        tweets.sort(key=lambda t: int(t.id), reverse=True)
        offset = int(token)
        page = tweets[offset : offset + int(raw)]
        data: list[dict[str, Any]] = []
        errors: list[dict[str, Any]] = []
        for tweet in page:
            if private and caller.id != user_id:
                errors.extend(_field_errors(tweet.id, private))
            else:
                data.append(self._tweet_json(tweet, fields))
        meta: dict[str, Any] = {"result_count": len(data)}
        if data:
            meta["newest_id"] = data[0]["id"]
            meta["oldest_id"] = data[-1]["id"]
        if offset + int(raw) < len(tweets):
            meta["next_token"] = str(offset + int(raw))
        body: dict[str, Any] = {}
        if data:
            body["data"] = data
        if errors:
            body["errors"] = errors
        body["meta"] = meta
        self._send(200, body, headers)

    def _create(self) -> None:
        step = self._step("script")
        if self._scripted(step, "POST /2/tweets"):
            return
        account, headers = self._caller("POST /2/tweets", WRITE_SCOPES)
        data = self._json()
        text = data.get("text")
        media = data.get("media") or {}
        media_ids = media.get("media_ids") if isinstance(media, dict) else None
        if text is not None and not isinstance(text, str):
            raise HandledError(
                400, _invalid_request({"message": "$.text: is not a string."}), headers
            )
        if not (text or "").strip() and not media_ids:
            raise HandledError(
                400,
                _invalid_request({"message": "You must specify either text or media for a Tweet."}),
                headers,
            )
        text = unicodedata.normalize("NFC", text or "")
        if weighted_length(text) > MAX_WEIGHTED_LENGTH:
            raise HandledError(400, _invalid_request({"message": TWEET_TEXT_TOO_LONG}), headers)
        media_ids = [str(m) for m in media_ids or []]
        with self.x.lock:
            now = self.x.clock()
            invalid = [
                media_id
                for media_id in media_ids
                if (item := self.x.state.media.get(media_id)) is None
                or not item.finalized
                or (item.owner_id != account.id and account.id not in item.additional_owners)
                or now > item.created_at + MEDIA_LIFETIME
            ]
            if invalid or len(media_ids) > 4:
                raise HandledError(
                    400,
                    _invalid_request(
                        {
                            "parameters": {"media.media_ids": invalid or media_ids},
                            "message": "Your media IDs are invalid.",
                        }
                    ),
                    headers,
                )
            duplicate = bool(text) and any(
                t.author_id == account.id and t.original_text == text and not t.deleted
                for t in self.x.state.tweets
            )
            if duplicate or (step and step.get("duplicate")):
                raise HandledError(403, _problem(403, "Forbidden", DUPLICATE_DETAIL), headers)
            shown, urls = _wrap_urls(text)
            tweet = XTweet(
                id=self.x._next_id(),
                author_id=account.id,
                text=shown,
                original_text=text,
                urls=urls,
                media_ids=media_ids,
                created_at=now,
            )
            self.x.state.tweets.append(tweet)
        self._hang(step)
        answer = {
            "data": {"id": tweet.id, "text": tweet.text, "edit_history_tweet_ids": [tweet.id]}
        }
        self._send(201, answer, {"location": f"{self.x.url}/2/tweets/{tweet.id}", **headers})

    def _delete(self, tweet_id: str) -> None:
        step = self._step("script")
        if self._scripted(step, "DELETE /2/tweets/:id"):
            return
        account, headers = self._caller("DELETE /2/tweets/:id", WRITE_SCOPES)
        with self.x.lock:
            tweet = self.x.tweet(tweet_id)
            if tweet is None or tweet.deleted:
                missing = True
            elif tweet.author_id != account.id:
                raise HandledError(403, FORBIDDEN, headers)
            else:
                missing = False
                tweet.deleted = True
                tweet.deleted_at = self.x.clock()
        if missing:
            self._not_found("tweet", tweet_id, headers)
            return
        self._hang(step)
        self._send(200, {"data": {"deleted": True}}, headers)

    # --- media --------------------------------------------------------------------------

    def _media_initialize(self) -> None:
        step = self._step("script")
        if self._scripted(step, "POST /2/media/upload/initialize"):
            return
        account, headers = self._caller("POST /2/media/upload/initialize", MEDIA_SCOPES)
        if self.headers.get("Content-Type", "").startswith("application/json"):
            data = self._json()
        else:
            data = dict(self._form())
        media_type = str(data.get("media_type", ""))
        category = str(data.get("media_category") or "")
        total = data.get("total_bytes")
        if isinstance(total, str) and total.isdigit():
            total = int(total)
        total_bytes = total if isinstance(total, int) and not isinstance(total, bool) else -1
        wrong = []
        if media_type not in MEDIA_TYPES:
            wrong.append(("media_type", media_type))
        if total_bytes < 0:
            wrong.append(("total_bytes", str(total)))
        if category and category not in MEDIA_CATEGORIES:
            wrong.append(("media_category", category))
        if wrong:
            problems = [
                {
                    "parameters": {name: [value]},
                    "message": f"The `{name}` value [{value}] is not valid",
                }
                for name, value in wrong
            ]
            raise HandledError(400, _invalid_request(*problems), headers)
        if not category:
            category = (
                "tweet_gif"
                if media_type == "image/gif"
                else "tweet_image"
                if media_type.startswith("image/")
                else "tweet_video"
            )
        owners = data.get("additional_owners")
        owners = owners if isinstance(owners, list) else []
        with self.x.lock:
            media_id = self.x._next_id()
            item = XMedia(
                id=media_id,
                media_key=f"{MEDIA_CATEGORIES[category]}_{media_id}",
                owner_id=account.id,
                media_type=media_type,
                media_category=category,
                total_bytes=total_bytes,
                created_at=self.x.clock(),
                additional_owners=[str(owner) for owner in owners],
            )
            self.x.state.media[media_id] = item
        self._hang(step)
        answer = {"id": item.id, "media_key": item.media_key, "expires_after_secs": MEDIA_LIFETIME}
        self._send(200, {"data": answer}, headers)

    def _upload(self, media_id: str, account: XAccount, headers: dict[str, str]) -> XMedia:
        with self.x.lock:
            item = self.x.state.media.get(media_id)
        if item is None or item.owner_id != account.id:
            raise HandledError(
                400,
                _invalid_request(
                    {"parameters": {"id": [media_id]}, "message": "Media id is not valid."}
                ),
                headers,
            )
        return item

    def _media_append(self, media_id: str) -> None:
        step = self._step("script")
        if self._scripted(step, "POST /2/media/upload/:id/append"):
            return
        account, headers = self._caller("POST /2/media/upload/:id/append", MEDIA_SCOPES)
        item = self._upload(media_id, account, headers)
        if self.headers.get("Content-Type", "").startswith("application/json"):
            data = self._json()
            try:
                chunk = base64.b64decode(str(data.get("media", "")), validate=True)
            except binascii.Error:
                chunk = b""
            index = str(data.get("segment_index", ""))
        else:
            fields = self._multipart()
            chunk = fields.get("media", b"")
            if not chunk and "media_data" in fields:
                chunk = base64.b64decode(fields["media_data"] or b"")
            index = fields.get("segment_index", b"").decode("ascii", "replace")
        if not index.isdigit() or not 0 <= int(index) <= 999 or not chunk:
            raise HandledError(
                400,
                _invalid_request(
                    {
                        "parameters": {"segment_index": [index]},
                        "message": "A media chunk and a segment_index between 0 and 999 are "
                        "required.",
                    }
                ),
                headers,
            )
        with self.x.lock:
            if item.finalized:
                raise HandledError(
                    400,
                    _invalid_request({"message": "The upload is already finalized."}),
                    headers,
                )
            item.segments[int(index)] = len(chunk)
        self._hang(step)
        self._send(200, {"data": {"expires_at": int(item.created_at + MEDIA_LIFETIME)}}, headers)

    def _media_finalize(self, media_id: str) -> None:
        step = self._step("script")
        if self._scripted(step, "POST /2/media/upload/:id/finalize"):
            return
        account, headers = self._caller("POST /2/media/upload/:id/finalize", MEDIA_SCOPES)
        item = self._upload(media_id, account, headers)
        with self.x.lock:
            size = sum(item.segments.values())
            if size != item.total_bytes:
                raise HandledError(
                    400,
                    _invalid_request(
                        {
                            "parameters": {"id": [media_id]},
                            "message": f"File size mismatch: {size} bytes appended, "
                            f"{item.total_bytes} declared.",
                        }
                    ),
                    headers,
                )
            item.finalized = True
        self._hang(step)
        answer: dict[str, Any] = {
            "id": item.id,
            "media_key": item.media_key,
            "size": size,
            "expires_after_secs": MEDIA_LIFETIME,
        }
        if item.media_type.startswith("video/"):
            answer["processing_info"] = {"state": "succeeded", "progress_percent": 100}
        self._send(200, {"data": answer}, headers)

    # --- controls over HTTP (make run) --------------------------------------------------

    def _fake_state(self) -> None:
        with self.x.lock:
            state = {
                "accounts": [asdict(a) for a in self.x.state.accounts.values()],
                "tweets": [asdict(t) for t in self.x.state.tweets],
                "media": [asdict(m) for m in self.x.state.media.values()],
                "requests": [asdict(r) for r in self.x.state.requests],
                "refresh_count": self.x.state.refresh_count,
            }
        self._send(200, state)

    def _fake_control(self, path: str) -> None:
        data = self._json() if self._body else {}
        if path == "/_fake/script":
            self.x.script(*data.get("responses", []))
            self._send(204)
        elif path == "/_fake/script_token":
            self.x.script_token(*data.get("responses", []))
            self._send(204)
        elif path == "/_fake/reset":
            self.x.reset()
            self._send(204)
        elif path == "/_fake/token":
            username = str(data.get("username", "")).strip()
            if not USERNAME_RE.match(username):
                self._send(400, _problem(400, "Bad Request", "username is required"))
                return
            scopes = data.get("scopes") or DEFAULT_SCOPES
            self._send(200, self.x.issue_token(username, scopes=scopes))
        else:
            self._send(404, _problem(404, "Not Found"))


def main() -> None:
    def build(host: str, port: int, demo: bool) -> FakeX:
        fake = FakeX(host, port)
        if demo:
            fake.register_client(DEMO_CLIENT_ID, DEMO_CLIENT_SECRET)
        return fake

    serve_fake(
        description="A fake X API v2 and OAuth 2.0",
        port=8026,
        demo_help=f"register the client {DEMO_CLIENT_ID} / {DEMO_CLIENT_SECRET}",
        build=build,
    )


if __name__ == "__main__":
    main()
