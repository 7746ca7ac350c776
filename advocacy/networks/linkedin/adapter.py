"""LinkedIn through a small client of our own on the versioned REST API (`python-linkedin-v2`
cannot post). Every call carries `LinkedIn-Version` (LINKEDIN_API_VERSION) and
`X-Restli-Protocol-Version: 2.0.0`; the new post's URN comes back in `x-restli-id`.

- posts: `POST /rest/posts` as an article (the tracked link, with title, description and
  an uploaded thumbnail), an image post, or text; `DELETE /rest/posts/{urn}`.
- images: `POST /rest/images?action=initializeUpload`, then a PUT of the bytes.
- tokens last 60 days and most apps get no refresh token; there is no revoke endpoint.
- metrics only with the Community Management API (`memberCreatorPostAnalytics`)."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

import requests
from django.conf import settings

from advocacy.networks.base import (
    CallRecord,
    Credentials,
    MetricsUnavailable,
    NeedsReconnect,
    NetworkError,
    NetworkHttp,
    OutcomeUnknown,
    PermanentRejection,
    PostRequest,
    PublishedPost,
    RetryLater,
    call_record,
    field_str,
    json_object,
)
from advocacy.networks.credentials import AppCredentials
from advocacy.networks.metrics import linkedin_metrics_map

# Little Text Format: these characters are markup in `commentary` and must be escaped.
_RESERVED = re.compile(r"([\\|{}@\[\]()<>#*_~])")
_HASHTAG = re.compile(r"#(\w+)")
_DUPLICATE_URN = re.compile(r"urn:li:(?:share|ugcPost|activity):\d+")
VERSION_EXPIRED_WAIT = 3600.0
ANALYTICS_TYPES = ("IMPRESSION", "REACTION", "COMMENT", "RESHARE")


def little_text(text: str) -> str:
    """The caption as LinkedIn's Little Text Format: reserved characters escaped, hashtags
    kept as hashtags."""
    parts, last = [], 0
    for match in _HASHTAG.finditer(text):
        parts.append(_RESERVED.sub(r"\\\1", text[last : match.start()]))
        parts.append(f"{{hashtag|\\#|{match.group(1)}}}")
        last = match.end()
    parts.append(_RESERVED.sub(r"\\\1", text[last:]))
    return "".join(parts)


def _message(response: requests.Response) -> tuple[str, str]:
    """(code, message) of a Rest.li error body."""
    try:
        data = response.json()
    except ValueError:
        return "", ""
    if not isinstance(data, dict):
        return "", ""
    return field_str(data, "code"), field_str(data, "message")


class ApiVersionExpired(RetryLater):
    """426: the pinned LinkedIn-Version is no longer served. Only the operator can fix it
    (LINKEDIN_API_VERSION); shares wait and the admin pages say so."""

    app_problem = "version_expired"


class MissingPermission(PermanentRejection):
    """403: the app or the token lacks a scope; `scope` names it when LinkedIn says."""

    app_problem = "missing_permission"

    def __init__(self, message: str, *, scope: str = "", call: CallRecord | None = None):
        super().__init__(message, call=call)
        self.scope = scope


def classify(response: requests.Response, action: str) -> NetworkError | None:
    status, call = response.status_code, call_record(response)
    code, message = _message(response)
    if status == 401:
        return NeedsReconnect(
            f"LinkedIn refused the token ({message or 'expired or revoked'}).", call=call
        )
    if status == 426:
        return ApiVersionExpired(
            f"LinkedIn no longer serves API version {settings.LINKEDIN_API_VERSION} "
            f"({message or status}): update LINKEDIN_API_VERSION.",
            retry_after=VERSION_EXPIRED_WAIT,
            call=call,
        )
    if status == 403:
        if action == "metrics":
            return MetricsUnavailable(
                "LinkedIn gives member post analytics only to Community Management apps.",
                reason="no_permission",
                call=call,
            )
        scope = "w_member_social" if action in ("post", "deletion", "image upload") else ""
        return MissingPermission(
            f"LinkedIn refused the {action} for lack of permission"
            f"{f' ({scope})' if scope else ''}: {message or code or status}",
            scope=scope,
            call=call,
        )
    if status == 422 and ("DUPLICATE" in code.upper() or "duplicate" in message.lower()):
        existing = _DUPLICATE_URN.search(message or response.text)
        return PermanentRejection(
            "LinkedIn refused a duplicate of an earlier post"
            f"{f' ({existing.group(0)})' if existing else ''}.",
            call=call,
        )
    if action == "metrics" and status == 404:
        return MetricsUnavailable("The post is no longer on LinkedIn.", reason="gone", call=call)
    if 400 <= status < 500 and status not in (408, 429):
        return PermanentRejection(
            f"LinkedIn refused the {action}: {message or code or status}", call=call
        )
    return None


def post_url(urn: str) -> str:
    return f"https://www.linkedin.com/feed/update/{urn}/"


class LinkedInAdapter:
    name = "linkedin"

    def __init__(self, app: AppCredentials, *, base_url: str | None = None):
        self.app = app
        self.base_url = (base_url or settings.LINKEDIN_API_BASE_URL).rstrip("/")
        self.http = NetworkHttp(classify=classify)

    def _headers(self, credentials: Credentials) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {credentials.access_token}",
            "LinkedIn-Version": settings.LINKEDIN_API_VERSION,
            "X-Restli-Protocol-Version": "2.0.0",
        }

    def _send(
        self, method: str, path: str, credentials: Credentials, *, action: str, **kwargs: Any
    ) -> requests.Response:
        return self.http.send(
            method,
            f"{self.base_url}{path}",
            action=action,
            headers=self._headers(credentials) | kwargs.pop("headers", {}),
            **kwargs,
        )

    @staticmethod
    def author(credentials: Credentials) -> str:
        return f"urn:li:person:{credentials.external_id}"

    # --- the interface ------------------------------------------------------------------

    def publish(self, credentials: Credentials, post: PostRequest) -> PublishedPost:
        body: dict[str, Any] = {
            "author": self.author(credentials),
            "commentary": little_text(post.text),
            "visibility": "PUBLIC",
            "distribution": {
                "feedDistribution": "MAIN_FEED",
                "targetEntities": [],
                "thirdPartyDistributionChannels": [],
            },
            "lifecycleState": "PUBLISHED",
            "isReshareDisabledByAuthor": False,
        }
        if post.link_url:
            article: dict[str, Any] = {"source": post.link_url}
            if post.link_title:
                article["title"] = post.link_title[:400]
            if post.link_description:
                article["description"] = post.link_description[:4000]
            thumbnail = post.link_image_path or post.image_path
            if thumbnail:
                article["thumbnail"] = self._upload(credentials, thumbnail)
            body["content"] = {"article": article}
        elif post.image_path:
            body["content"] = {"media": {"id": self._upload(credentials, post.image_path)}}
        response = self._send("POST", "/rest/posts", credentials, action="post", json=body)
        urn = response.headers.get("x-restli-id", "")
        if not urn.startswith("urn:li:"):
            raise OutcomeUnknown(
                "LinkedIn accepted the post without naming it.", call=call_record(response)
            )
        return PublishedPost(external_id=urn, url=post_url(urn), call=call_record(response))

    def _upload(self, credentials: Credentials, image_path: str) -> str:
        try:
            with open(image_path, "rb") as image:
                data = image.read()
        except OSError as exc:
            raise PermanentRejection(f"The image cannot be read: {exc}") from exc
        try:
            started = self._send(
                "POST",
                "/rest/images",
                credentials,
                action="image upload",
                params={"action": "initializeUpload"},
                json={"initializeUploadRequest": {"owner": self.author(credentials)}},
            )
            value = json_object(started, what="image upload").get("value")
            value = value if isinstance(value, dict) else {}
            upload_url, image_urn = field_str(value, "uploadUrl"), field_str(value, "image")
            if not upload_url.startswith(("https://", "http://")) or not image_urn:
                raise RetryLater("LinkedIn's upload answer was incomplete.", retry_after=0)
            self.http.send(
                "PUT",
                upload_url,
                action="image upload",
                data=data,
                headers={
                    "Authorization": f"Bearer {credentials.access_token}",
                    "Content-Type": "application/octet-stream",
                },
            )
        except OutcomeUnknown as exc:  # an uploaded image alone posts nothing
            raise RetryLater(f"The image upload failed: {exc.message}", retry_after=0) from exc
        return image_urn

    def delete(self, credentials: Credentials, external_id: str) -> CallRecord:
        response = self._send(
            "DELETE",
            f"/rest/posts/{quote(external_id, safe='')}",
            credentials,
            action="deletion",
            accept=(404, 410),  # already gone: that is what we wanted
        )
        return call_record(response)

    def find_post(self, credentials: Credentials, post: PostRequest) -> PublishedPost | None:
        # Reading a member's own posts needs r_member_social, which LinkedIn grants to
        # almost no app: an unknown outcome is settled by the employee (a repeat would be
        # refused as a duplicate anyway).
        return None

    def fetch_metrics(self, credentials: Credentials, external_id: str) -> dict[str, int]:
        if not self.app.community_management:
            raise MetricsUnavailable(
                "LinkedIn gives member post analytics only to Community Management apps.",
                reason="no_permission",
            )
        kind = "ugc" if ":ugcPost:" in external_id else "share"
        answers: dict[str, dict[str, Any]] = {}
        for query_type in ANALYTICS_TYPES:
            response = self._send(
                "GET",
                "/rest/memberCreatorPostAnalytics",
                credentials,
                action="metrics",
                # Rest.li 2.0: the URN inside the tuple is encoded once, the tuple's own
                # parentheses and colon are not (requests would encode them again).
                params=(
                    f"q=entity&entity=({kind}:{quote(external_id, safe='')})"
                    f"&queryType={query_type}&aggregation=TOTAL"
                ),
            )
            answers[query_type] = json_object(response, what="metrics")
        return linkedin_metrics_map(post_analytics=answers)

    def refresh_credentials(self, credentials: Credentials) -> Credentials:
        raise NeedsReconnect(
            "LinkedIn access lasts 60 days and cannot be renewed without the employee: "
            "reconnect LinkedIn."
        )

    def revoke(self, credentials: Credentials) -> bool:
        return False  # LinkedIn has no revoke endpoint for member tokens

    def check_app(self) -> bool:
        """Whether LinkedIn knows the client and its secret, asked with a made-up code."""
        try:
            self.http.send(
                "POST",
                f"{settings.LINKEDIN_OAUTH_BASE_URL}/v2/accessToken",
                action="connection test",
                data={
                    "grant_type": "authorization_code",
                    "code": "portevoix-connection-test",
                    "redirect_uri": settings.SITE_URL,
                    "client_id": self.app.client_id,
                    "client_secret": self.app.client_secret,
                },
            )
        except (PermanentRejection, NeedsReconnect) as exc:
            # A made-up code: 401 invalid_request ("authorization code not found") for a
            # known client; 401 invalid_client for an unknown one or a wrong secret.
            return "invalid_client" not in exc.call.body
        return True
