"""A fake of LinkedIn on loopback: "Sign In with LinkedIn using OpenID Connect" (www.linkedin.com)
and the versioned Rest.li API (api.linkedin.com) on one server, answering with the status codes,
bodies and headers that LinkedIn's documentation shows or that LinkedIn was seen to send.

    python -m tests.fakes.linkedin_api --host 127.0.0.1 --port 8027 [--demo]

Point an app at it with: OAuth base `<url>/oauth` (so allauth's `server_url` is
`<url>/oauth/.well-known/openid-configuration`), API base `<url>` (`/v2/...`, `/rest/...`).
With --demo the client `demo-linkedin-client` / `demo-linkedin-secret` is registered and
accepts any redirect URI. Tests start one per test (`FakeLinkedIn().start()`, port 0).

Sources (read November-December 2026; "seen" = a body LinkedIn sent, quoted in public bug
reports, where the docs show none):
  [oidc]   learn.microsoft.com/en-us/linkedin/consumer/integrations/self-serve/sign-in-with-linkedin-v2
  [oauth]  learn.microsoft.com/en-us/linkedin/shared/authentication/authorization-code-flow
  [errors] learn.microsoft.com/en-us/linkedin/shared/api-guide/concepts/error-handling
  [limits] learn.microsoft.com/en-us/linkedin/shared/api-guide/concepts/rate-limits
  [restli] learn.microsoft.com/en-us/linkedin/shared/api-guide/concepts/protocol-version
  [vers]   learn.microsoft.com/en-us/linkedin/marketing/versioning and .../integrations/migrations
  [posts]  learn.microsoft.com/en-us/linkedin/marketing/community-management/shares/posts-api
  [images] learn.microsoft.com/en-us/linkedin/marketing/community-management/shares/images-api
  [little] learn.microsoft.com/en-us/linkedin/marketing/community-management/shares/little-text-format
  [stats]  learn.microsoft.com/en-us/linkedin/marketing/community-management/members/post-statistics

OpenID Connect and OAuth (www.linkedin.com) ---------------------------------------------------
GET  /oauth/.well-known/openid-configuration                                         [oidc]
     200 {"issuer": "<url>/oauth", "authorization_endpoint": "<url>/oauth/v2/authorization",
     "token_endpoint": "<url>/oauth/v2/accessToken", "userinfo_endpoint": "<url>/v2/userinfo",
     "jwks_uri": "<url>/oauth/openid/jwks", "response_types_supported": ["code"],
     "subject_types_supported": ["pairwise"], "id_token_signing_alg_values_supported": ["RS256"],
     "scopes_supported": ["openid", "profile", "email"], "claims_supported": [iss, aud, iat,
     exp, sub, name, given_name, family_name, picture, email, email_verified, locale]}
     (no token_endpoint_auth_methods_supported, as LinkedIn's: clients post the secret.)
GET  /oauth/openid/jwks   200 {"keys": [{"kty": "RSA", "e": "AQAB", "use": "sig",
     "alg": "RS256", "n": ..., "kid": ...}]}
GET  /oauth/v2/authorization?response_type=code&client_id&redirect_uri&state&scope
     [&nonce][&code_challenge&code_challenge_method=S256|plain]                        [oauth]
     200 consent page "LinkedIn — Allow access" (name input, Allow / Cancel buttons);
     401 page for an unknown client_id or a redirect_uri the app does not list;
     302 redirect_uri?error=unauthorized_scope_error&error_description=Scope &quot;X&quot; is
     not authorized for your application&state= (seen) for a scope the app lacks.
POST /oauth/v2/authorization (the consent form)
     Allow:  302 redirect_uri?state=S&code=C (code single-use, valid 30 minutes)
     Cancel: 302 redirect_uri?error=user_cancelled_authorize
             &error_description=The user cancelled the authorization&state=S
POST /oauth/v2/accessToken  form grant_type=authorization_code, code, redirect_uri, client_id,
     client_secret [, code_verifier]; HTTP Basic client credentials also accepted      [oauth]
     200 {"access_token": "AQ...", "expires_in": 5184000, "scope": "email,openid,profile,
     w_member_social", "token_type": "Bearer", "id_token": "<RS256 JWT>"} (scope comma-joined and
     sorted, as seen; id_token only with openid; no refresh_token)
     400 {"error": "invalid_request", "error_description": "A required parameter \"code\" is
     missing"} (likewise grant_type, redirect_uri, client_id, client_secret)
     401 {"error": "invalid_request", "error_description": "Unable to retrieve access token:
     authorization code not found"}
     400 {"error": "invalid_request", "error_description": "Unable to retrieve access token:
     appid/redirect uri/code verifier does not match authorization code. Or authorization code
     expired. Or external member binding exists"} (reused, expired, other redirect_uri or client,
     wrong PKCE verifier)
     401 {"error": "invalid_client", "error_description": "Client authentication failed"}
     id_token header {"zip": "RS256", "typ": "JWT", "kid": ..., "alg": "RS256"} and claims iss,
     aud (the client_id), iat, exp (iat + 3600), sub, name, given_name, family_name, picture,
     email, email_verified ("true", a string, as LinkedIn sends it), locale ("en_US") [, nonce]

API (api.linkedin.com) -------------------------------------------------------------------------
GET  /v2/userinfo  (bearer; no version header)                                         [oidc]
     200 {"sub", "email_verified": true, "name", "locale": {"country": "US", "language": "en"},
     "given_name", "family_name", "email", "picture"} (profile and email claims by scope)
Every /rest/ call needs `LinkedIn-Version: YYYYMM` (YYYYMM.RR and YYYYMMDD accepted) and should
send `X-Restli-Protocol-Version: 2.0.0` (without it LinkedIn falls back to protocol 1.0, not an
error [restli]; the log records what was sent). Checks in this order:
     400 {"status": 400, "code": "VERSION_MISSING", "message": "A version must be present.
         Please specify a version by adding the LinkedIn-Version header."}
         + header X-Restli-Gateway-Error: true (seen)
     426 {"status": 426, "code": "NONEXISTENT_VERSION", "message": "Requested version 20250401
         is not active"} (seen; YYYYMM is echoed as YYYYMM01)
     401 {"message": "Empty oauth2_access_token", "serviceErrorCode": 401, "status": 401}
         [errors]; {"status": 401, "serviceErrorCode": 65600, "code": "INVALID_ACCESS_TOKEN",
         "message": "Invalid access token"}; 65602 EXPIRED_ACCESS_TOKEN "The token used in the
         request has expired"; 65601 REVOKED_ACCESS_TOKEN "The token used in the request has
         been revoked by the user" (seen)
     403 {"status": 403, "serviceErrorCode": 100, "code": "ACCESS_DENIED", "message": "Not
         enough permissions to access: partnerApiPostsExternal.CREATE.20260901"} (seen)
     429 {"status": 429, "serviceErrorCode": 101, "code": "TOO_MANY_REQUESTS", "message":
         "Resource level throttle APPLICATION_AND_MEMBER DAY limit for calls to this resource is
         reached."} (seen; no Retry-After or rate-limit headers [limits])
POST /rest/images?action=initializeUpload  {"initializeUploadRequest": {"owner":
     "urn:li:person:<sub>"}}  (w_member_social)                                         [images]
     200 {"value": {"uploadUrlExpiresAt": <ms>, "uploadUrl": "<url>/dms-uploads/sp/<id>/
     uploaded-image/0?...", "image": "urn:li:image:<id>"}}
PUT  <uploadUrl>  (raw bytes, bearer of the owner)  201, empty body; image AVAILABLE
GET  /rest/images/{urn}  200 {"owner", "status", "id", "downloadUrl", "downloadUrlExpiresAt"}
POST /rest/posts  {author, commentary, visibility, distribution: {feedDistribution,
     targetEntities, thirdPartyDistributionChannels}, content: {article: {source, title,
     description, thumbnail}} | {media: {id, altText}}, lifecycleState,
     isReshareDisabledByAuthor}  (w_member_social; author must be the member)            [posts]
     201, empty body, headers x-restli-id: urn:li:share:<19 digits> and x-linkedin-id (same)
     422 {"errorDetailType": "com.linkedin.common.error.BadRequest", "message":
         "com.linkedin.content.common.exception.BadRequestResponseException: Content is a
         duplicate of urn:li:share:7...", "errorDetails": {"inputErrors": [{"description":
         "Duplicate post is detected", "input": {}, "code": "DUPLICATE_POST"}]},
         "status": 422} (seen): same author, same commentary, within `duplicate_window`
     422 {"message": "ERROR :: /lifecycleState :: field is required but not found and has no
         default value\n", "status": 422} (Rest.li validation, one line per problem)
     The commentary is "little text" [little]: LinkedIn keeps the post but drops everything from
     the first unescaped reserved character on (seen); `post.commentary` holds what it kept.
GET  /rest/posts/{urn}  403 ACCESS_DENIED (partnerApiPostsExternal.GET) unless the token has
     the restricted r_member_social (seen); with it 200 {id, author, commentary, visibility,
     distribution, content, lifecycleState, isReshareDisabledByAuthor, createdAt, publishedAt,
     lastModifiedAt, lifecycleStateInfo}; 404 when deleted
DELETE /rest/posts/{urn}  204; 404 {"status": 404, "code": "NOT_FOUND", ...} when already
     deleted or unknown (seen); 403 ACCESS_DENIED for another member's post
GET  /rest/memberCreatorPostAnalytics?q=entity&entity=(share:urn%3Ali%3Ashare%3A...)
     &queryType=IMPRESSION|MEMBERS_REACHED|RESHARE|REACTION|COMMENT&aggregation=TOTAL|DAILY
     (also q=me)  needs r_member_postAnalytics (or `community_management=True`)          [stats]
     200 {"paging": {"start": 0, "count": 10, "links": []}, "elements": [{"count": N,
     "metricType": "IMPRESSION", "targetEntity": {"share": "urn:li:share:..."}}]}; before
     version 202605 metricType is {"com.linkedin.adsexternalapi.memberanalytics.v1.
     CreatorPostAnalyticsMetricTypeV1": "IMPRESSION"} (seen in clients written against both)

Modelled without a source (nothing public shows them; change them when LinkedIn shows better):
the order version-then-token of the checks, x-linkedin-id, the invalid_client body, the 404
message text, 400 bodies for an image that is not uploaded or not the author's, 403 for another
member as author or another member's post, 5xx bodies, the duplicate window (24 h), the
little-text reserved set ( ) [ ] { } < > | ~ _ *, and analytics' 400/404 answers.

Test controls (also over HTTP: POST /_fake/script {"steps": [...]}, POST /_fake/token
{"name", "scopes"}, POST /_fake/reset, GET /_fake/state): `script()`, `issue_token()`,
`live_posts()`, `post()`, `requests_log`, `revoke()`, `expire()`, `clock`.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import html
import json
import re
import secrets
import string
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlencode, urlsplit

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from advocacy.networks.metrics import sandbox_curve
from tests.fakes.serving import ThreadServed, serve_fake

DEMO_CLIENT_ID = "demo-linkedin-client"
DEMO_CLIENT_SECRET = "demo-linkedin-secret"

# Versions LinkedIn serves in December 2026: each monthly version lives about a year. 202601 to
# 202609 are documented or were seen answering; 202610-202612 assume the monthly cadence held.
# There was no 202512 (the migrations table goes from 202511 to 202601); 202511 was sunset on
# 16 November 2026, so it and everything older answers 426.
ACTIVE_VERSIONS: tuple[str, ...] = tuple(f"2026{month:02d}" for month in range(12, 0, -1))

SELF_SERVE_SCOPES = frozenset({"openid", "profile", "email", "w_member_social"})
COMMUNITY_SCOPES = frozenset({"r_member_postAnalytics"})
DEFAULT_TOKEN_SCOPES = ("openid", "profile", "email", "w_member_social")
ANALYTICS_TYPES = ("IMPRESSION", "MEMBERS_REACHED", "RESHARE", "REACTION", "COMMENT")
METRIC_UNION = "com.linkedin.adsexternalapi.memberanalytics.v1.CreatorPostAnalyticsMetricTypeV1"
CODE_LIFETIME = 30 * 60
ID_TOKEN_LIFETIME = 3600
UPLOAD_URL_LIFETIME = 24 * 3600
RESERVED_LITTLE_TEXT = frozenset("()[]{}<>|~_*")
CODE_MISMATCH = (
    "Unable to retrieve access token: appid/redirect uri/code verifier does not match "
    "authorization code. Or authorization code expired. Or external member binding exists"
)
SCOPE_DESCRIPTIONS = {
    "openid": "Use your name and photo",
    "profile": "Use your name and photo",
    "email": "Use the primary email address associated with your LinkedIn account",
    "w_member_social": "Create, modify, and delete posts, comments, and reactions on your behalf",
    "r_member_postAnalytics": "Retrieve your posts and their reporting data",
    "r_member_social": "Retrieve your posts, comments, reactions, and other engagement data",
}
# A 1x1 transparent PNG, served as every member's profile picture.
PIXEL_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYGBgAAAABQABpfZFQAAAAABJRU5ErkJggg=="
)


@dataclass
class FakeClient:
    client_id: str
    secret: str
    redirect_uris: tuple[str, ...] = ()  # empty: any redirect URI is accepted
    scopes: frozenset[str] = SELF_SERVE_SCOPES


@dataclass
class FakeMember:
    sub: str
    name: str
    given_name: str
    family_name: str
    email: str
    email_verified: bool = True
    country: str = "US"
    language: str = "en"

    @property
    def urn(self) -> str:
        return f"urn:li:person:{self.sub}"


@dataclass
class FakeToken:
    access_token: str
    sub: str
    client_id: str
    scopes: frozenset[str]
    issued_at: float
    expires_at: float
    revoked: bool = False


@dataclass
class FakeCode:
    code: str
    client_id: str
    redirect_uri: str
    sub: str
    scopes: frozenset[str]
    created_at: float
    nonce: str = ""
    code_challenge: str = ""
    code_challenge_method: str = ""
    used: bool = False


@dataclass
class FakeImage:
    urn: str
    owner: str
    upload_key: str
    created_at: float
    status: str = "WAITING_UPLOAD"
    size: int = 0
    content_type: str = ""


@dataclass
class FakePost:
    urn: str
    author: str
    commentary: str  # what LinkedIn kept (little text cut at an unescaped reserved character)
    sent_commentary: str  # what the client sent
    visibility: str
    distribution: dict[str, Any]
    content: dict[str, Any] | None
    lifecycle_state: str
    reshare_disabled: bool
    created_at: float
    version: str
    deleted_at: float | None = None

    @property
    def live(self) -> bool:
        return self.deleted_at is None and self.lifecycle_state == "PUBLISHED"


@dataclass
class FakeRequest:
    method: str
    path: str
    query: str
    at: float
    status: int = 0
    linkedin_version: str | None = None
    restli_protocol_version: str | None = None
    content_type: str | None = None
    sub: str = ""


@dataclass
class FakeState:
    members: dict[str, FakeMember] = field(default_factory=dict)
    tokens: dict[str, FakeToken] = field(default_factory=dict)
    codes: dict[str, FakeCode] = field(default_factory=dict)
    images: dict[str, FakeImage] = field(default_factory=dict)
    posts: list[FakePost] = field(default_factory=list)
    requests: list[FakeRequest] = field(default_factory=list)
    script: list[dict[str, Any]] = field(default_factory=list)
    share_counter: int = 0


@functools.cache
def _signing_key() -> rsa.RSAPrivateKey:
    """One RSA key per process: generating one per fake would slow every test down."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _int_b64url(value: int) -> str:
    return _b64url(value.to_bytes((value.bit_length() + 7) // 8, "big"))


def _random_id(length: int, alphabet: str = string.ascii_letters + string.digits + "-_") -> str:
    return "".join(secrets.choice(alphabet) for _ in range(length))


def kept_little_text(text: str) -> str:
    """What LinkedIn keeps of a commentary [little]: everything before the first reserved
    character that is not escaped with a backslash and not part of a mention
    `@[Name](urn:li:...)` or a hashtag template `{hashtag|\\#|word}`."""
    i = 0
    while i < len(text):
        char = text[i]
        if char == "\\":
            i += 2
            continue
        if char == "@" and (
            match := re.match(r"@\[[^\]\\]*\]\(urn:li:[A-Za-z]+:[^)\s]+\)", text[i:])
        ):
            i += match.end()
            continue
        if char == "{" and (match := re.match(r"\{hashtag\|\\#\|[^{}|]+\}", text[i:])):
            i += match.end()
            continue
        if char in RESERVED_LITTLE_TEXT:
            return text[:i]
        i += 1
    return text


def version_base(version: str) -> str | None:
    """The YYYYMM of a LinkedIn-Version value (YYYYMM, YYYYMM.RR or YYYYMMDD), else None."""
    match = re.fullmatch(r"(\d{6})(?:\.\d{2}|\d{2})?", version.strip())
    return match.group(1) if match else None


def version_label(version: str) -> str:
    """How LinkedIn names the version in its messages: 202504 -> 20250401 (seen)."""
    value = version.strip()
    if re.fullmatch(r"\d{6}", value):
        return f"{value}01"
    if re.fullmatch(r"\d{6}\.\d{2}", value):
        return value.replace(".", "")
    return value


class FakeLinkedIn(ThreadServed):
    """The server and its state; usable in-process (tests) or as a program (make run)."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        clients: dict[str, str] | None = None,
        active_versions: Iterable[str] = ACTIVE_VERSIONS,
        token_lifetime: int = 5_184_000,
        community_management: bool = False,
        duplicate_window: float = 24 * 3600.0,
        duplicates_include_deleted: bool = False,
        little_text: bool = True,
        clock: Callable[[], float] = time.time,
    ):
        self.state = FakeState()
        self.lock = threading.RLock()
        self.clients: dict[str, FakeClient] = {}
        for client_id, secret in (clients or {}).items():
            self.register_client(client_id, secret)
        self.active_versions = set(active_versions)
        self.token_lifetime = token_lifetime
        self.community_management = community_management
        self.duplicate_window = duplicate_window
        self.duplicates_include_deleted = duplicates_include_deleted
        self.little_text = little_text
        self.clock = clock
        self.key = _signing_key()
        public = self.key.public_key().public_numbers()
        self.kid = str(
            uuid.UUID(bytes=hashlib.sha256(_int_b64url(public.n).encode()).digest()[:16])
        )
        self._stopping = threading.Event()
        handler = type("Handler", (_Handler,), {"fake": self})
        self.server = ThreadingHTTPServer((host, port), handler)
        self.server.daemon_threads = True
        self.thread: threading.Thread | None = None

    # --- addresses ------------------------------------------------------------------------

    @property
    def oauth_url(self) -> str:
        return f"{self.url}/oauth"

    @property
    def discovery_url(self) -> str:
        return f"{self.oauth_url}/.well-known/openid-configuration"

    # --- lifecycle ------------------------------------------------------------------------

    def stop(self) -> None:
        self._stopping.set()  # wakes handlers that hold an answer back
        super().stop()

    def reset(self) -> None:
        """Forget members, tokens, posts, images, requests and script; keep the clients."""
        with self.lock:
            self.state = FakeState()

    # --- test controls --------------------------------------------------------------------

    def register_client(
        self,
        client_id: str,
        secret: str,
        *,
        redirect_uris: Iterable[str] = (),
        scopes: Iterable[str] | None = None,
    ) -> FakeClient:
        """An app of the developer portal: its secret, its authorized redirect URLs (none:
        any is accepted) and the scopes its products grant (Sign In with OpenID Connect and
        Share on LinkedIn by default; `community_management=True` adds r_member_postAnalytics)."""
        client = FakeClient(
            client_id=client_id,
            secret=secret,
            redirect_uris=tuple(redirect_uris),
            scopes=frozenset(scopes) if scopes is not None else SELF_SERVE_SCOPES,
        )
        with self.lock:
            self.clients[client_id] = client
        return client

    def script(self, *steps: dict[str, Any]) -> None:
        """Answers for the next write calls (POST /rest/posts, DELETE /rest/posts/..., image
        initializeUpload and upload PUT), in order; then normal service. A step may name the
        call it waits for with "on": "posts" | "delete" | "images" | "upload". Steps:
        {"status": 500|502|503|504}, {"status": 429} (add "retry_after": n for a header
        LinkedIn does not send), {"status": 401} (add "code": "EXPIRED_ACCESS_TOKEN" or
        "REVOKED_ACCESS_TOKEN"), {"status": 403}, {"status": 426}, {"duplicate": True},
        {"latency": 1.5} (then normal service, or the status it is combined with), and
        {"accept_then_hang": 30} (the post is stored, the answer held back that long)."""
        with self.lock:
            self.state.script.extend(dict(step) for step in steps)

    @property
    def requests_log(self) -> list[FakeRequest]:
        with self.lock:
            return list(self.state.requests)

    def live_posts(self) -> list[FakePost]:
        with self.lock:
            return [post for post in self.state.posts if post.live]

    def post(self, urn: str) -> FakePost | None:
        with self.lock:
            return next((post for post in self.state.posts if post.urn == urn), None)

    def member(self, sub: str) -> FakeMember | None:
        with self.lock:
            return self.state.members.get(sub)

    def member_named(self, name: str, *, email: str | None = None) -> FakeMember:
        """The member with that display name, created on first use (a stable `sub` per name,
        so reconnecting the same person yields the same account)."""
        with self.lock:
            for member in self.state.members.values():
                if member.name == name:
                    return member
            given, _, family = name.strip().partition(" ")
            slug = re.sub(r"[^a-z0-9]+", ".", name.lower()).strip(".") or "member"
            member = FakeMember(
                sub=_random_id(10),
                name=name,
                given_name=given or name,
                family_name=family,
                email=email or f"{slug}@example.com",
            )
            self.state.members[member.sub] = member
            return member

    def issue_token(
        self,
        name: str,
        *,
        scopes: Iterable[str] = DEFAULT_TOKEN_SCOPES,
        expires_in: int | None = None,
        client_id: str = DEMO_CLIENT_ID,
        email: str | None = None,
    ) -> dict[str, Any]:
        """A connected account without a browser: the token answer LinkedIn would give after
        consent, plus the member's `sub` and `author` URN."""
        member = self.member_named(name, email=email)
        with self.lock:
            token = self._new_token(member.sub, client_id, frozenset(scopes), expires_in)
            answer = self._token_answer(token, client_id, nonce="")
        answer.update(sub=member.sub, author=member.urn)
        return answer

    def revoke(self, access_token: str) -> None:
        with self.lock:
            if token := self.state.tokens.get(access_token):
                token.revoked = True

    def expire(self, access_token: str) -> None:
        with self.lock:
            if token := self.state.tokens.get(access_token):
                token.expires_at = self.clock() - 1

    # --- OpenID Connect -------------------------------------------------------------------

    def discovery(self) -> dict[str, Any]:
        return {
            "issuer": self.oauth_url,
            "authorization_endpoint": f"{self.oauth_url}/v2/authorization",
            "token_endpoint": f"{self.oauth_url}/v2/accessToken",
            "userinfo_endpoint": f"{self.url}/v2/userinfo",
            "jwks_uri": f"{self.oauth_url}/openid/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": ["openid", "profile", "email"],
            "claims_supported": [
                "iss",
                "aud",
                "iat",
                "exp",
                "sub",
                "name",
                "given_name",
                "family_name",
                "picture",
                "email",
                "email_verified",
                "locale",
            ],
        }

    def jwks(self) -> dict[str, Any]:
        public = self.key.public_key().public_numbers()
        return {
            "keys": [
                {
                    "kty": "RSA",
                    "e": _int_b64url(public.e),
                    "use": "sig",
                    "alg": "RS256",
                    "n": _int_b64url(public.n),
                    "kid": self.kid,
                }
            ]
        }

    def sign(self, claims: dict[str, Any]) -> str:
        # LinkedIn's header really carries "zip": "RS256" (a JWE field) before typ/kid/alg.
        header = {"zip": "RS256", "typ": "JWT", "kid": self.kid, "alg": "RS256"}
        signing_input = ".".join(
            _b64url(json.dumps(part, separators=(",", ":")).encode()) for part in (header, claims)
        )
        signature = self.key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        return f"{signing_input}.{_b64url(signature)}"

    def picture_url(self, member: FakeMember) -> str:
        return f"{self.url}/dms/image/{member.sub}/profile-displayphoto-shrink_100_100/0"

    def id_token(self, token: FakeToken, client_id: str, nonce: str) -> str:
        member = self.state.members[token.sub]
        now = int(self.clock())
        claims: dict[str, Any] = {
            "iss": self.oauth_url,
            "aud": client_id,
            "iat": now,
            "exp": now + ID_TOKEN_LIFETIME,
            "sub": member.sub,
        }
        if "profile" in token.scopes:
            claims.update(
                name=member.name,
                given_name=member.given_name,
                family_name=member.family_name,
                picture=self.picture_url(member),
            )
        if "email" in token.scopes:
            claims.update(email=member.email, email_verified=str(member.email_verified).lower())
        if "profile" in token.scopes:
            claims["locale"] = f"{member.language}_{member.country}"
        if nonce:
            claims["nonce"] = nonce
        return self.sign(claims)

    def userinfo(self, token: FakeToken) -> dict[str, Any]:
        member = self.state.members[token.sub]
        answer: dict[str, Any] = {"sub": member.sub}
        if "email" in token.scopes:
            answer["email_verified"] = member.email_verified
        if "profile" in token.scopes:
            answer["name"] = member.name
            answer["locale"] = {"country": member.country, "language": member.language}
            answer["given_name"] = member.given_name
            answer["family_name"] = member.family_name
        if "email" in token.scopes:
            answer["email"] = member.email
        if "profile" in token.scopes:
            answer["picture"] = self.picture_url(member)
        return answer

    # --- behaviour (callers hold the lock) --------------------------------------------------

    def _new_token(
        self, sub: str, client_id: str, scopes: frozenset[str], expires_in: int | None
    ) -> FakeToken:
        now = self.clock()
        lifetime = self.token_lifetime if expires_in is None else expires_in
        token = FakeToken(
            access_token="AQ" + secrets.token_urlsafe(260),
            sub=sub,
            client_id=client_id,
            scopes=scopes,
            issued_at=now,
            expires_at=now + lifetime,
        )
        self.state.tokens[token.access_token] = token
        return token

    def _token_answer(self, token: FakeToken, client_id: str, nonce: str) -> dict[str, Any]:
        answer: dict[str, Any] = {
            "access_token": token.access_token,
            "expires_in": max(0, int(token.expires_at - token.issued_at)),
            "scope": ",".join(sorted(token.scopes)),
            "token_type": "Bearer",
        }
        if "openid" in token.scopes:
            answer["id_token"] = self.id_token(token, client_id, nonce)
        return answer

    def _next_share_urn(self) -> str:
        self.state.share_counter += 1
        base = 7_520_000_000_000_000_000 + int(self.clock() * 1000) % 10**12 * 1000
        return f"urn:li:share:{base + self.state.share_counter * 7 + secrets.randbelow(7)}"

    def _duplicate_of(self, author: str, commentary: str) -> FakePost | None:
        since = self.clock() - self.duplicate_window
        text = commentary.strip()
        for post in reversed(self.state.posts):
            if post.author != author or post.created_at < since:
                continue
            if post.deleted_at is not None and not self.duplicates_include_deleted:
                continue
            if post.sent_commentary.strip() == text:
                return post
        return None

    def analytics_count(self, post: FakePost, query_type: str, at: float | None = None) -> int:
        """Deterministic counts that grow with the post's age (fast the first day, then flat)."""
        age = (self.clock() if at is None else at) - post.created_at
        curve = sandbox_curve(post.urn, post.author, age)
        return {
            "IMPRESSION": curve["impressions"],
            "MEMBERS_REACHED": int(curve["impressions"] * 0.71),
            "RESHARE": curve["reshares"],
            "REACTION": curve["reactions"],
            "COMMENT": curve["comments"],
        }[query_type]


class _Handler(BaseHTTPRequestHandler):
    fake: FakeLinkedIn
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    # --- plumbing ---------------------------------------------------------------------------

    def _begin(self, method: str) -> tuple[str, dict[str, list[str]]]:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        self._raw = self.rfile.read(length) if length else b""
        self._record = FakeRequest(
            method=method,
            path=parts.path,
            query=parts.query,
            at=self.fake.clock(),
            linkedin_version=self.headers.get("LinkedIn-Version"),
            restli_protocol_version=self.headers.get("X-Restli-Protocol-Version"),
            content_type=self.headers.get("Content-Type"),
        )
        if not parts.path.startswith("/_fake/"):
            with self.fake.lock:
                self.fake.state.requests.append(self._record)
        return parts.path, parse_qs(parts.query, keep_blank_values=True)

    def _json_body(self) -> Any:
        try:
            return json.loads(self._raw or b"null")
        except ValueError:
            return None

    def _form(self) -> dict[str, str]:
        parsed = parse_qs(self._raw.decode("utf-8", "replace"), keep_blank_values=True)
        return {key: values[0] for key, values in parsed.items()}

    def _send(
        self,
        status: int,
        payload: Any = None,
        headers: dict[str, str] | None = None,
        *,
        content_type: str = "application/json",
    ) -> None:
        if payload is None:
            body = b""
        elif isinstance(payload, bytes):
            body = payload
        elif isinstance(payload, str):
            body = payload.encode()
        else:
            body = json.dumps(payload).encode()
        self.send_response(status)
        if body:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("x-li-uuid", _b64url(secrets.token_bytes(16)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if body:
            self.wfile.write(body)
        self._record.status = status

    def _page(self, status: int, title: str, body: str) -> None:
        page = (
            "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
            f"<title>{html.escape(title)}</title></head><body>{body}</body></html>"
        )
        self._send(status, page, content_type="text/html; charset=utf-8")

    def _redirect(self, location: str) -> None:
        self._send(302, None, {"Location": location})

    def _rest_error(self, status: int, code: str, message: str, service_code: int | None) -> None:
        payload: dict[str, Any] = {"status": status}
        if service_code is not None:
            payload["serviceErrorCode"] = service_code
        payload.update(code=code, message=message)
        self._send(status, payload)

    def _denied(self, resource: str, version: str | None) -> None:
        label = version_label(version) if version else "NO_VERSION"
        message = f"Not enough permissions to access: {resource}.{label}"
        self._rest_error(403, "ACCESS_DENIED", message, 100)

    def _throttled(self, retry_after: Any = None) -> None:
        self._send(
            429,
            {
                "status": 429,
                "serviceErrorCode": 101,
                "code": "TOO_MANY_REQUESTS",
                "message": "Resource level throttle APPLICATION_AND_MEMBER DAY limit for calls "
                "to this resource is reached.",
            },
            {"Retry-After": str(retry_after)} if retry_after is not None else None,
        )

    def _not_active(self, version: str) -> None:
        message = f"Requested version {version_label(version)} is not active"
        self._rest_error(426, "NONEXISTENT_VERSION", message, None)

    def _validation(self, problems: list[str], status: int = 422) -> None:
        message = "".join(f"ERROR :: {problem}\n" for problem in problems)
        self._send(status, {"message": message, "status": status})

    def _not_found(self, what: str) -> None:
        self._rest_error(404, "NOT_FOUND", f"{what} does not exist", None)

    # --- auth and versions --------------------------------------------------------------------

    def _bearer(self) -> tuple[FakeToken | None, str]:
        """The token of the Authorization header, or None with the 401 code to answer."""
        auth = self.headers.get("Authorization", "")
        if not auth.startswith("Bearer ") or not auth.removeprefix("Bearer ").strip():
            return None, "EMPTY"
        value = auth.removeprefix("Bearer ").strip()
        with self.fake.lock:
            token = self.fake.state.tokens.get(value)
            if token is None:
                return None, "INVALID_ACCESS_TOKEN"
            if token.revoked:
                return None, "REVOKED_ACCESS_TOKEN"
            if token.expires_at <= self.fake.clock():
                return None, "EXPIRED_ACCESS_TOKEN"
            self._record.sub = token.sub
            return token, ""

    def _unauthorized(self, code: str) -> None:
        if code == "EMPTY":
            self._send(
                401,
                {"message": "Empty oauth2_access_token", "serviceErrorCode": 401, "status": 401},
            )
        elif code == "REVOKED_ACCESS_TOKEN":
            message = "The token used in the request has been revoked by the user"
            self._rest_error(401, code, message, 65601)
        elif code == "EXPIRED_ACCESS_TOKEN":
            message = "The token used in the request has expired"
            self._rest_error(401, code, message, 65602)
        else:
            self._rest_error(401, "INVALID_ACCESS_TOKEN", "Invalid access token", 65600)

    def _version(self) -> str | None:
        """The requested version when it is active; otherwise answer 400 or 426 and None."""
        version = self.headers.get("LinkedIn-Version")
        if version is None or not version.strip():
            self._send(
                400,
                {
                    "status": 400,
                    "code": "VERSION_MISSING",
                    "message": "A version must be present. Please specify a version by adding "
                    "the LinkedIn-Version header.",
                },
                {"X-Restli-Gateway-Error": "true"},
            )
            return None
        if version_base(version) not in self.fake.active_versions:
            self._not_active(version)
            return None
        return version.strip()

    def _rest_caller(
        self, resource: str, scope: str, *, allowed: bool = False
    ) -> tuple[FakeToken, str] | None:
        """Version, then token, then permission; answers the error and returns None."""
        version = self._version()
        if version is None:
            return None
        token, problem = self._bearer()
        if token is None:
            self._unauthorized(problem)
            return None
        if scope not in token.scopes and not allowed:
            self._denied(resource, version)
            return None
        return token, version

    # --- scripted faults -------------------------------------------------------------------

    def _scripted(self, call: str) -> dict[str, Any] | None:
        with self.fake.lock:
            for index, step in enumerate(self.fake.state.script):
                if step.get("on") in (None, call):
                    return self.fake.state.script.pop(index)
        return None

    def _apply_script(self, step: dict[str, Any] | None, resource: str) -> bool:
        """Answer as scripted; True when the answer is sent."""
        if not step:
            return False
        if step.get("latency"):
            self.fake._stopping.wait(float(step["latency"]))
        status = step.get("status")
        version = self.headers.get("LinkedIn-Version") or ""
        if status == 429:
            self._throttled(step.get("retry_after"))
        elif status == 401:
            self._unauthorized(str(step.get("code", "INVALID_ACCESS_TOKEN")))
        elif status == 403:
            self._denied(resource, version or None)
        elif status == 426:
            self._not_active(version or "202001")
        elif status in (500, 502, 503, 504):
            codes = {
                500: ("INTERNAL_SERVER_ERROR", "Internal Server Error"),
                502: ("BAD_GATEWAY", "Bad Gateway"),
                503: ("SERVICE_UNAVAILABLE", "Service Unavailable"),
                504: ("GATEWAY_TIMEOUT", "Gateway Timeout"),
            }
            code, message = codes[int(status)]
            self._rest_error(int(status), code, message, None)
        elif status:
            self._send(int(status), {"message": "Scripted failure", "status": int(status)})
        else:
            return False
        return True

    def _hold(self, step: dict[str, Any] | None) -> None:
        if step and step.get("accept_then_hang"):
            self.fake._stopping.wait(float(step["accept_then_hang"]))

    # --- routes ----------------------------------------------------------------------------

    def do_GET(self) -> None:
        path, query = self._begin("GET")
        if path == "/oauth/.well-known/openid-configuration":
            self._send(200, self.fake.discovery())
        elif path == "/oauth/openid/jwks":
            self._send(200, self.fake.jwks())
        elif path == "/oauth/v2/authorization":
            self._authorize(_first(query))
        elif path == "/v2/userinfo":
            self._userinfo()
        elif path == "/rest/memberCreatorPostAnalytics":
            self._analytics(query)
        elif path.startswith("/rest/posts/"):
            self._get_post(unquote(path.removeprefix("/rest/posts/")))
        elif path.startswith("/rest/images/"):
            self._get_image(unquote(path.removeprefix("/rest/images/")))
        elif path.startswith("/dms/image/"):
            self._send(200, PIXEL_PNG, content_type="image/png")
        elif path == "/healthz":
            self._send(200, {"status": "ok"})
        elif path == "/_fake/state":
            with self.fake.lock:
                state = {
                    "members": [asdict(m) for m in self.fake.state.members.values()],
                    "posts": [asdict(p) for p in self.fake.state.posts],
                    "images": [asdict(i) for i in self.fake.state.images.values()],
                    "requests": [asdict(r) for r in self.fake.state.requests],
                }
            self._send(200, state)
        else:
            self._not_found(f"Resource {path}")

    def do_POST(self) -> None:
        path, query = self._begin("POST")
        if path == "/oauth/v2/authorization":
            self._consent(self._form())
        elif path == "/oauth/v2/accessToken":
            self._access_token(self._form())
        elif path == "/rest/posts":
            self._create_post()
        elif path == "/rest/images" and _first(query).get("action") == "initializeUpload":
            self._initialize_upload()
        elif path == "/_fake/script":
            data = self._json_body() or {}
            self.fake.script(*data.get("steps", data.get("responses", [])))
            self._send(204)
        elif path == "/_fake/token":
            data = self._json_body() or {}
            scopes = data.get("scopes") or DEFAULT_TOKEN_SCOPES
            self._send(
                200, self.fake.issue_token(str(data.get("name", "Demo Member")), scopes=scopes)
            )
        elif path == "/_fake/reset":
            self.fake.reset()
            self._send(204)
        else:
            self._not_found(f"Resource {path}")

    def do_PUT(self) -> None:
        path, query = self._begin("PUT")
        if path.startswith("/dms-uploads/"):
            self._upload(path, _first(query))
        else:
            self._not_found(f"Resource {path}")

    def do_DELETE(self) -> None:
        path, _query = self._begin("DELETE")
        if path.startswith("/rest/posts/"):
            self._delete_post(unquote(path.removeprefix("/rest/posts/")))
        else:
            self._not_found(f"Resource {path}")

    # --- OAuth ------------------------------------------------------------------------------

    def _check_client(self, params: dict[str, str]) -> FakeClient | None:
        """The app and its redirect URI, or None after the 401 page the docs list."""
        client = self.fake.clients.get(params.get("client_id", ""))
        if client is None:
            self._page(
                401,
                "LinkedIn",
                "<h1>Bummer, something went wrong.</h1><p>The passed in client_id is invalid "
                f"&quot;{html.escape(params.get('client_id', ''))}&quot;</p>",
            )
            return None
        redirect_uri = params.get("redirect_uri", "")
        if not redirect_uri or not _redirect_allowed(client, redirect_uri):
            self._page(
                401,
                "LinkedIn",
                "<h1>Bummer, something went wrong.</h1><p>The redirect_uri does not match the "
                "registered value</p>",
            )
            return None
        return client

    def _authorize(self, params: dict[str, str]) -> None:
        client = self._check_client(params)
        if client is None:
            return
        if params.get("response_type") != "code":
            self._page(400, "LinkedIn", "<h1>Bummer, something went wrong.</h1>")
            return
        method = params.get("code_challenge_method", "")
        if params.get("code_challenge") and method not in ("S256", "plain", ""):
            self._page(400, "LinkedIn", "<h1>Bummer, something went wrong.</h1>")
            return
        scopes = _scopes(params.get("scope", ""))
        redirect_uri = params["redirect_uri"]
        state = params.get("state", "")
        if not scopes:
            self._redirect(
                _with_query(
                    redirect_uri,
                    error="invalid_scope_error",
                    error_description="You need to pass the &quot;scope&quot; parameter",
                    state=state,
                )
            )
            return
        allowed = client.scopes | (COMMUNITY_SCOPES if self.fake.community_management else set())
        for scope in scopes:
            if scope not in allowed:
                description = f"Scope &quot;{scope}&quot; is not authorized for your application"
                self._redirect(
                    _with_query(
                        redirect_uri,
                        error="unauthorized_scope_error",
                        error_description=description,
                        state=state,
                    )
                )
                return
        self._page(200, "LinkedIn — Allow access", _consent_page(client, params, scopes))

    def _consent(self, form: dict[str, str]) -> None:
        client = self._check_client(form)
        if client is None:
            return
        redirect_uri, state = form["redirect_uri"], form.get("state", "")
        allowed = client.scopes | (COMMUNITY_SCOPES if self.fake.community_management else set())
        scopes = frozenset(_scopes(form.get("scope", "")))
        if not scopes or not scopes <= allowed:
            self._page(400, "LinkedIn", "<h1>Bummer, something went wrong.</h1>")
            return
        if form.get("action") != "allow":
            self._redirect(
                _with_query(
                    redirect_uri,
                    error="user_cancelled_authorize",
                    error_description="The user cancelled the authorization",
                    state=state,
                )
            )
            return
        member = self.fake.member_named(form.get("name", "").strip() or "Demo Member")
        code = FakeCode(
            code="AQ" + secrets.token_urlsafe(150),
            client_id=client.client_id,
            redirect_uri=redirect_uri,
            sub=member.sub,
            scopes=scopes,
            created_at=self.fake.clock(),
            nonce=form.get("nonce", ""),
            code_challenge=form.get("code_challenge", ""),
            code_challenge_method=form.get("code_challenge_method", "") or "plain",
        )
        with self.fake.lock:
            self.fake.state.codes[code.code] = code
        self._redirect(_with_query(redirect_uri, state=state, code=code.code))

    def _access_token(self, form: dict[str, str]) -> None:
        basic = self.headers.get("Authorization", "")
        if basic.startswith("Basic "):
            try:
                user, _, password = base64.b64decode(basic[6:]).decode().partition(":")
            except ValueError:
                user, password = "", ""
            form.setdefault("client_id", unquote(user))
            form.setdefault("client_secret", unquote(password))
        for name in ("grant_type", "code", "redirect_uri", "client_id", "client_secret"):
            if name == "code" and form.get("grant_type") not in (None, "authorization_code"):
                continue
            if name == "redirect_uri" and form.get("grant_type") not in (
                None,
                "authorization_code",
            ):
                continue
            if not form.get(name):
                self._oauth_error(
                    400, "invalid_request", f'A required parameter "{name}" is missing'
                )
                return
        client = self.fake.clients.get(form["client_id"])
        if client is None or not secrets.compare_digest(client.secret, form["client_secret"]):
            self._oauth_error(401, "invalid_client", "Client authentication failed")
            return
        if form["grant_type"] == "refresh_token":
            self._oauth_error(
                400,
                "invalid_request",
                "The provided authorization grant or refresh token is invalid, expired or revoked",
            )
            return
        if form["grant_type"] == "client_credentials":
            self._oauth_error(
                401, "access_denied", "This application is not allowed to create application tokens"
            )
            return
        if form["grant_type"] != "authorization_code":
            self._oauth_error(400, "unsupported_grant_type", "The grant type is not supported")
            return
        with self.fake.lock:
            code = self.fake.state.codes.get(form["code"])
            if code is None:
                self._oauth_error(
                    401,
                    "invalid_request",
                    "Unable to retrieve access token: authorization code not found",
                )
                return
            fresh = not code.used and self.fake.clock() - code.created_at <= CODE_LIFETIME
            matches = (
                code.client_id == client.client_id
                and _same_redirect(code.redirect_uri, form["redirect_uri"])
                and _pkce_ok(code, form.get("code_verifier", ""))
            )
            code.used = True  # single use, even when this attempt fails
            if not (fresh and matches):
                self._oauth_error(400, "invalid_request", CODE_MISMATCH)
                return
            token = self.fake._new_token(code.sub, client.client_id, code.scopes, None)
            answer = self.fake._token_answer(token, client.client_id, code.nonce)
        self._send(200, answer)

    def _oauth_error(self, status: int, error: str, description: str) -> None:
        self._send(status, {"error": error, "error_description": description})

    def _userinfo(self) -> None:
        token, problem = self._bearer()
        if token is None:
            self._unauthorized(problem)
            return
        if "openid" not in token.scopes:
            self._denied("userinfo.GET", None)
            return
        with self.fake.lock:
            self._send(200, self.fake.userinfo(token))

    # --- images ------------------------------------------------------------------------------

    def _initialize_upload(self) -> None:
        if self._apply_script(step := self._scripted("images"), "partnerApiImages.ACTION"):
            return
        caller = self._rest_caller("partnerApiImages.ACTION", "w_member_social")
        if caller is None:
            return
        token, _version = caller
        data = self._json_body()
        owner = ((data or {}).get("initializeUploadRequest") or {}).get("owner")
        if not isinstance(owner, str) or not owner:
            self._validation(
                [
                    "/initializeUploadRequest/owner :: field is required but not found and has "
                    "no default value"
                ]
            )
            return
        if owner != f"urn:li:person:{token.sub}":
            self._denied("partnerApiImages.ACTION", self.headers.get("LinkedIn-Version"))
            return
        image_id = "D4E10AQ" + _random_id(12, string.ascii_letters + string.digits)
        now = self.fake.clock()
        image = FakeImage(
            urn=f"urn:li:image:{image_id}",
            owner=owner,
            upload_key=secrets.token_urlsafe(24),
            created_at=now,
        )
        with self.fake.lock:
            self.fake.state.images[image.urn] = image
        query = urlencode(
            {
                "ca": "vector_feedshare",
                "cn": "uploads",
                "m": image.upload_key,
                "app": "1953784",
                "sync": "0",
                "v": "beta",
                "ut": _random_id(14, string.ascii_letters + string.digits),
            }
        )
        self._hold(step)
        self._send(
            200,
            {
                "value": {
                    "uploadUrlExpiresAt": int((now + UPLOAD_URL_LIFETIME) * 1000),
                    "uploadUrl": f"{self.fake.url}/dms-uploads/sp/{image_id}/uploaded-image/0?"
                    + query,
                    "image": image.urn,
                }
            },
        )

    def _upload(self, path: str, params: dict[str, str]) -> None:
        if self._apply_script(step := self._scripted("upload"), "partnerApiImages.UPLOAD"):
            return
        match = re.fullmatch(r"/dms-uploads/sp/([^/]+)/uploaded-image/0", path)
        with self.fake.lock:
            image = self.fake.state.images.get(f"urn:li:image:{match.group(1)}") if match else None
        if image is None or params.get("m") != image.upload_key:
            self._send(400, {"message": "Invalid upload URL", "status": 400})
            return
        if self.fake.clock() > image.created_at + UPLOAD_URL_LIFETIME:
            self._send(400, {"message": "The upload URL has expired", "status": 400})
            return
        token, problem = self._bearer()
        if token is None:
            self._unauthorized(problem)
            return
        if image.owner != f"urn:li:person:{token.sub}":
            self._denied("partnerApiImages.UPLOAD", None)
            return
        if not self._raw:
            self._send(400, {"message": "The uploaded file is empty", "status": 400})
            return
        with self.fake.lock:
            image.status = "AVAILABLE"
            image.size = len(self._raw)
            image.content_type = self.headers.get("Content-Type", "")
        self._hold(step)
        self._send(201)

    def _get_image(self, urn: str) -> None:
        caller = self._rest_caller("partnerApiImages.GET", "w_member_social")
        if caller is None:
            return
        token, _version = caller
        with self.fake.lock:
            image = self.fake.state.images.get(urn)
        if image is None or image.owner != f"urn:li:person:{token.sub}":
            self._not_found(f"Image {urn}")
            return
        answer: dict[str, Any] = {"owner": image.owner, "status": image.status, "id": image.urn}
        if image.status == "AVAILABLE":
            answer["downloadUrl"] = f"{self.fake.url}/dms/image/{image.urn.rsplit(':', 1)[-1]}"
            answer["downloadUrlExpiresAt"] = int((self.fake.clock() + 24 * 3600) * 1000)
        self._send(200, answer)

    # --- posts -------------------------------------------------------------------------------

    def _create_post(self) -> None:
        resource = "partnerApiPostsExternal.CREATE"
        step = self._scripted("posts")
        if self._apply_script(step, resource):
            return
        caller = self._rest_caller(resource, "w_member_social")
        if caller is None:
            return
        token, version = caller
        data = self._json_body()
        if not isinstance(data, dict):
            self._send(400, {"message": "Unable to parse the request body", "status": 400})
            return
        problems = _post_problems(data)
        if problems:
            self._validation(problems)
            return
        author = data["author"]
        if author != f"urn:li:person:{token.sub}":
            self._denied(resource, version)
            return
        media_problem = self._media_problem(data.get("content"), author)
        if media_problem:
            self._send(400, {"message": media_problem, "status": 400})
            return
        sent = str(data.get("commentary", ""))
        post: FakePost | None = None
        with self.fake.lock:
            duplicate = self.fake._duplicate_of(author, sent)
            if duplicate is None and step and step.get("duplicate"):
                # LinkedIn sometimes names a post that no longer answers (seen).
                duplicate_urn = self.fake._next_share_urn()
            elif duplicate is not None:
                duplicate_urn = duplicate.urn
            else:
                duplicate_urn = ""
                post = FakePost(
                    urn=self.fake._next_share_urn(),
                    author=author,
                    commentary=kept_little_text(sent) if self.fake.little_text else sent,
                    sent_commentary=sent,
                    visibility=data["visibility"],
                    distribution=data["distribution"],
                    content=data.get("content"),
                    lifecycle_state=data["lifecycleState"],
                    reshare_disabled=bool(data.get("isReshareDisabledByAuthor", False)),
                    created_at=self.fake.clock(),
                    version=version,
                )
                self.fake.state.posts.append(post)
        if duplicate_urn:
            self._send(
                422,
                {
                    "errorDetailType": "com.linkedin.common.error.BadRequest",
                    "message": "com.linkedin.content.common.exception.BadRequestResponseException: "
                    f"Content is a duplicate of {duplicate_urn}",
                    "errorDetails": {
                        "inputErrors": [
                            {
                                "description": "Duplicate post is detected",
                                "input": {},
                                "code": "DUPLICATE_POST",
                            }
                        ]
                    },
                    "status": 422,
                },
            )
            return
        assert post is not None
        self._hold(step)
        self._send(201, None, {"x-restli-id": post.urn, "x-linkedin-id": post.urn})

    def _media_problem(self, content: Any, author: str) -> str:
        if not isinstance(content, dict):
            return ""
        wanted: list[str] = []
        if isinstance(content.get("media"), dict):
            wanted.append(str(content["media"].get("id", "")))
        if isinstance(content.get("article"), dict) and content["article"].get("thumbnail"):
            wanted.append(str(content["article"]["thumbnail"]))
        with self.fake.lock:
            for urn in wanted:
                image = self.fake.state.images.get(urn)
                if image is None or image.owner != author:
                    return f"Media asset {urn} does not exist or is not owned by {author}"
                if image.status != "AVAILABLE":
                    return f"Media asset {urn} is not AVAILABLE (status {image.status})"
        return ""

    def _get_post(self, urn: str) -> None:
        caller = self._rest_caller("partnerApiPostsExternal.GET", "r_member_social")
        if caller is None:
            return
        post = self.fake.post(urn)
        if post is None or post.deleted_at is not None:
            self._not_found(f"Post {urn}")
            return
        created = int(post.created_at * 1000)
        answer: dict[str, Any] = {
            "isReshareDisabledByAuthor": post.reshare_disabled,
            "createdAt": created,
            "lifecycleState": post.lifecycle_state,
            "lastModifiedAt": created,
            "visibility": post.visibility,
            "publishedAt": created,
            "author": post.author,
            "id": post.urn,
            "distribution": post.distribution,
            "commentary": post.commentary,
            "lifecycleStateInfo": {"isEditedByAuthor": False},
        }
        if post.content is not None:
            answer["content"] = post.content
        self._send(200, answer)

    def _delete_post(self, urn: str) -> None:
        resource = "partnerApiPostsExternal.DELETE"
        step = self._scripted("delete")
        if self._apply_script(step, resource):
            return
        caller = self._rest_caller(resource, "w_member_social")
        if caller is None:
            return
        token, version = caller
        with self.fake.lock:
            post = self.fake.post(urn)
            if post is None or post.deleted_at is not None:
                self._not_found(f"Post {urn}")
                return
            if post.author != f"urn:li:person:{token.sub}":
                self._denied(resource, version)
                return
            post.deleted_at = self.fake.clock()
        self._hold(step)
        self._send(204)

    # --- analytics ----------------------------------------------------------------------------

    def _analytics(self, query: dict[str, list[str]]) -> None:
        params = _first(query)
        finder = params.get("q", "")
        resource = f"memberCreatorPostAnalytics.FINDER-{finder or 'entity'}"
        caller = self._rest_caller(
            resource, "r_member_postAnalytics", allowed=self.fake.community_management
        )
        if caller is None:
            return
        token, version = caller
        query_type = params.get("queryType", "")
        aggregation = params.get("aggregation", "TOTAL")
        if finder not in ("entity", "me") or query_type not in ANALYTICS_TYPES:
            self._send(
                400, {"message": "Invalid query parameters passed to request", "status": 400}
            )
            return
        if aggregation not in ("TOTAL", "DAILY") or (
            aggregation == "DAILY" and query_type == "MEMBERS_REACHED"
        ):
            self._send(
                400,
                {
                    "message": f"Aggregation {aggregation} is not supported for {query_type}",
                    "status": 400,
                },
            )
            return
        author = f"urn:li:person:{token.sub}"
        if finder == "entity":
            match = re.fullmatch(
                r"\((share|ugc):(urn:li:(?:share|ugcPost):\d+)\)", params.get("entity", "")
            )
            if match is None:
                self._send(
                    400,
                    {
                        "message": "Invalid entity, expected (share:<urn>) or (ugc:<urn>)",
                        "status": 400,
                    },
                )
                return
            post = self.fake.post(match.group(2))
            if post is None or post.deleted_at is not None or post.author != author:
                self._not_found(f"Post {match.group(2)}")
                return
            posts, target = [post], {match.group(1): post.urn}
        else:
            with self.fake.lock:
                posts = [p for p in self.fake.state.posts if p.author == author and p.live]
            target = None
        metric: Any = query_type
        if (version_base(version) or "") < "202605":
            metric = {METRIC_UNION: query_type}
        elements = []
        if aggregation == "TOTAL":
            element: dict[str, Any] = {
                "count": sum(self.fake.analytics_count(p, query_type) for p in posts),
                "metricType": metric,
            }
            if target:
                element["targetEntity"] = target
            elements.append(element)
        else:
            elements = self._daily(posts, query_type, metric, target)
        self._send(200, {"paging": {"start": 0, "count": 10, "links": []}, "elements": elements})

    def _daily(
        self, posts: list[FakePost], query_type: str, metric: Any, target: dict[str, str] | None
    ) -> list[dict[str, Any]]:
        if not posts:
            return []
        day = 86400
        now = self.fake.clock()
        first = int(min(p.created_at for p in posts) // day) * day
        elements = []
        for start in range(first, int(now // day) * day + day, day):
            end = min(start + day, now)
            counts = [
                self.fake.analytics_count(p, query_type, end)
                - self.fake.analytics_count(p, query_type, max(start, p.created_at))
                for p in posts
                if p.created_at < end
            ]
            element: dict[str, Any] = {
                "count": max(0, sum(counts)),
                "metricType": metric,
                "dateRange": {"start": _ymd(start), "end": _ymd(start + day)},
            }
            if target:
                element["targetEntity"] = target
            elements.append(element)
        return elements


# --- helpers --------------------------------------------------------------------------------


def _first(query: dict[str, list[str]]) -> dict[str, str]:
    return {key: values[0] for key, values in query.items() if values}


def _scopes(value: str) -> list[str]:
    """LinkedIn documents space-delimited scopes; commas are accepted too."""
    return [scope for scope in re.split(r"[\s,]+", value) if scope]


def _ymd(timestamp: float) -> dict[str, int]:
    moment = time.gmtime(timestamp)
    return {"day": moment.tm_mday, "month": moment.tm_mon, "year": moment.tm_year}


def _strip_query(uri: str) -> str:
    parts = urlsplit(uri)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


def _same_redirect(a: str, b: str) -> bool:
    return _strip_query(a) == _strip_query(b)


def _redirect_allowed(client: FakeClient, redirect_uri: str) -> bool:
    parts = urlsplit(redirect_uri)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.fragment:
        return False
    if not client.redirect_uris:
        return True
    # The registered URLs' parameters are ignored [oauth].
    return any(_same_redirect(redirect_uri, uri) for uri in client.redirect_uris)


def _with_query(uri: str, **params: str) -> str:
    query = urlencode({key: value for key, value in params.items() if value}, quote_via=quote)
    return f"{uri}{'&' if urlsplit(uri).query else '?'}{query}"


def _pkce_ok(code: FakeCode, verifier: str) -> bool:
    if not code.code_challenge:
        return True
    if code.code_challenge_method == "S256":
        expected = _b64url(hashlib.sha256(verifier.encode()).digest())
    else:
        expected = verifier
    return bool(verifier) and secrets.compare_digest(expected, code.code_challenge)


def _post_problems(data: dict[str, Any]) -> list[str]:
    known = {
        "author",
        "commentary",
        "visibility",
        "distribution",
        "content",
        "contentLandingPage",
        "contentCallToActionLabel",
        "lifecycleState",
        "isReshareDisabledByAuthor",
        "adContext",
        "container",
        "reshareContext",
    }
    problems = [
        f"/{name} :: field is required but not found and has no default value"
        for name in ("author", "visibility", "distribution", "lifecycleState")
        if name not in data
    ]
    problems += [
        f"/{name} :: unrecognized field found but not allowed" for name in data if name not in known
    ]
    checks = (
        ("author", r"urn:li:(person|organization):[A-Za-z0-9_-]+"),
        ("visibility", r"PUBLIC|CONNECTIONS|LOGGED_IN|CONTAINER"),
        ("lifecycleState", r"PUBLISHED|DRAFT|PUBLISH_REQUESTED|PUBLISH_FAILED"),
    )
    for name, pattern in checks:
        value = data.get(name)
        if name in data and not (isinstance(value, str) and re.fullmatch(pattern, value)):
            problems.append(f'/{name} :: "{value}" is not an enum symbol or does not match')
    distribution = data.get("distribution")
    if "distribution" in data:
        feed = distribution.get("feedDistribution") if isinstance(distribution, dict) else None
        if feed is None:
            problems.append(
                "/distribution/feedDistribution :: field is required but not found and has no "
                "default value"
            )
        elif feed not in ("MAIN_FEED", "NONE"):
            problems.append(f'/distribution/feedDistribution :: "{feed}" is not an enum symbol')
    commentary = data.get("commentary", "")
    if not isinstance(commentary, str):
        problems.append("/commentary :: not a string")
    elif len(commentary) > 3000:
        problems.append(f"/commentary :: length {len(commentary)} exceeds the maximum of 3000")
    content = data.get("content")
    article = content.get("article") if isinstance(content, dict) else None
    if isinstance(article, dict) and not article.get("source"):
        problems.append(
            "/content/article/source :: field is required but not found and has no default value"
        )
    media = content.get("media") if isinstance(content, dict) else None
    if isinstance(media, dict) and not media.get("id"):
        problems.append(
            "/content/media/id :: field is required but not found and has no default value"
        )
    return problems


def _consent_page(client: FakeClient, params: dict[str, str], scopes: list[str]) -> str:
    hidden = "".join(
        f"<input type='hidden' name='{html.escape(name)}' value='{html.escape(value, quote=True)}'>"
        for name, value in params.items()
        if name
        in (
            "response_type",
            "client_id",
            "redirect_uri",
            "state",
            "scope",
            "nonce",
            "code_challenge",
            "code_challenge_method",
        )
    )
    grants = "".join(
        f"<li><code>{html.escape(scope)}</code> — {html.escape(SCOPE_DESCRIPTIONS.get(scope, scope))}"
        "</li>"
        for scope in scopes
    )
    return (
        "<main><h1>LinkedIn</h1>"
        f"<p><strong>{html.escape(client.client_id)}</strong> would like to:</p><ul>{grants}</ul>"
        f"<form method='post' action='/oauth/v2/authorization'>{hidden}"
        "<label>Signed in as <input type='text' name='name' value='Demo Member'></label>"
        "<button type='submit' name='action' value='allow'>Allow</button>"
        "<button type='submit' name='action' value='cancel'>Cancel</button>"
        "</form></main>"
    )


def main() -> None:
    def build(host: str, port: int, demo: bool) -> FakeLinkedIn:
        fake = FakeLinkedIn(host, port)
        if demo:
            fake.register_client(DEMO_CLIENT_ID, DEMO_CLIENT_SECRET)
        return fake

    serve_fake(
        description="A fake LinkedIn (OpenID Connect and REST API)",
        port=8027,
        demo_help=f"register the client {DEMO_CLIENT_ID} / {DEMO_CLIENT_SECRET} (any redirect URI)",
        build=build,
    )


if __name__ == "__main__":
    main()
