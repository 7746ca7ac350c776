"""X through tweepy's `Client` with the employee's OAuth 2.0 user token (`user_auth=False`:
the default means OAuth 1.0a). tweepy hard-codes api.twitter.com and sets no timeout, so
its session is ours: it sends to `X_API_BASE_URL` through the shared HTTP seam, which maps
every answer to the four outcomes. Images go through the v2 media upload, which tweepy
does not wrap (it only has the deprecated v1.1 one)."""

from __future__ import annotations

import html
import mimetypes
import time
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import requests
import tweepy
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
from advocacy.networks.metrics import x_metrics_map

TWEEPY_HOST = "https://api.twitter.com"
# Snowflake ids carry their creation time: milliseconds since this epoch, shifted by 22.
SNOWFLAKE_EPOCH_MS = 1288834974657
PRIVATE_METRICS_DAYS = 30
UPLOAD_SEGMENT_BYTES = 4 * 1024 * 1024


def _detail(response: requests.Response) -> str:
    """X's problem JSON: `detail`, or the first of `errors[].message`."""
    try:
        data = response.json()
    except ValueError:
        return ""
    if not isinstance(data, dict):
        return ""
    errors = data.get("errors")
    first = errors[0] if isinstance(errors, list) and errors else {}
    return (
        field_str(data, "detail")
        or field_str(data, "error_description")
        or (field_str(first, "message") if isinstance(first, dict) else "")
    )


def classify(response: requests.Response, action: str) -> NetworkError | None:
    status, call, detail = response.status_code, call_record(response), _detail(response)
    if action == "token refresh" and status == 401 and "client" in detail_code(response):
        # The organisation's client id or secret is wrong (rotated at X and not here): the
        # employees' refresh tokens are still good, and reconnecting would not help.
        return AppCredentialsRefused(
            "X refused the organisation's app credentials: check the client secret.",
            retry_after=3600,
            call=call,
        )
    if action in ("token refresh", "revocation") and status in (400, 401):
        # invalid_request / invalid_grant: the refresh token was used or revoked.
        return NeedsReconnect(f"X refused the refresh token: {detail or status}", call=call)
    if action == "metrics" and status == 404:
        return MetricsUnavailable("The post is no longer on X.", reason="gone", call=call)
    if status == 403 and "duplicate" in detail.lower():
        return PermanentRejection("X refused a duplicate of an earlier post.", call=call)
    if status in (400, 403, 404, 422):
        return PermanentRejection(f"X refused the {action}: {detail or status}", call=call)
    return None


def detail_code(response: requests.Response) -> str:
    """The OAuth error code of a token endpoint answer (`unauthorized_client`, ...)."""
    try:
        data = response.json()
    except ValueError:
        return ""
    return field_str(data, "error") if isinstance(data, dict) else ""


class AppCredentialsRefused(RetryLater):
    """X refused the organisation's client id or secret: the admin pages say so."""

    app_problem = "bad_credentials"


class _XSession(requests.Session):
    """tweepy's session: what it builds for api.twitter.com goes to X_API_BASE_URL, with
    our timeouts, through `NetworkHttp`."""

    def __init__(self, base_url: str):
        super().__init__()
        self.base_url = base_url
        self.action = "call"
        self.http = NetworkHttp(
            classify=classify,
            transport=lambda method, url, **kwargs: requests.Session.request(
                self, method, url, **kwargs
            ),
        )

    def request(  # type: ignore[override]
        self, method: str | bytes, url: str | bytes, **kwargs: Any
    ) -> requests.Response:
        url = str(url)
        if url.startswith(TWEEPY_HOST):
            url = self.base_url + url[len(TWEEPY_HOST) :]
        kwargs.pop("timeout", None)
        return self.http.send(str(method), url, action=self.action, **kwargs)


def tweet_age_days(tweet_id: str, now: float | None = None) -> float | None:
    if not tweet_id.isdigit():
        return None
    created_ms = (int(tweet_id) >> 22) + SNOWFLAKE_EPOCH_MS
    return ((now if now is not None else time.time()) * 1000 - created_ms) / 86_400_000


class XAdapter:
    name = "x"

    def __init__(self, app: AppCredentials, *, base_url: str | None = None):
        self.app = app
        self.base_url = (base_url or settings.X_API_BASE_URL).rstrip("/")
        self.session = _XSession(self.base_url)

    @property
    def http(self) -> NetworkHttp:
        return self.session.http

    def _client(self, credentials: Credentials, *, raw: bool = False) -> tweepy.Client:
        client = tweepy.Client(
            bearer_token=credentials.access_token, return_type=dict if raw else tweepy.Response
        )
        client.session = self.session
        return client

    def _tweepy(self, action: str, call: Any) -> Any:
        self.session.action = action
        try:
            return call()
        except ValueError as exc:  # tweepy read a body that was not JSON
            raise OutcomeUnknown(
                f"X's answer to the {action} was not JSON.", call=self.http.last_call
            ) from exc

    # --- the interface ------------------------------------------------------------------

    def publish(self, credentials: Credentials, post: PostRequest) -> PublishedPost:
        text = post.text
        if post.link_url and post.link_url not in text:
            text = f"{text}\n{post.link_url}".strip()
        media_ids = [self._upload(credentials, post.image_path)] if post.image_path else None
        client = self._client(credentials)
        response = self._tweepy(
            "post", lambda: client.create_tweet(text=text, media_ids=media_ids, user_auth=False)
        )
        data = response.data if isinstance(response.data, Mapping) else {}
        tweet_id = field_str(data, "id")
        if not tweet_id.isdigit():
            raise OutcomeUnknown("X accepted the post without naming it.", call=self.http.last_call)
        return PublishedPost(
            external_id=tweet_id,
            url=f"https://x.com/i/web/status/{tweet_id}",
            call=self.http.last_call,
        )

    def _upload(self, credentials: Credentials, image_path: str) -> str:
        """POST /2/media/upload/initialize, …/{id}/append per segment, …/{id}/finalize.
        Nothing is posted yet: any failure but a refusal is safe to retry."""
        try:
            with open(image_path, "rb") as image:
                data = image.read()
        except OSError as exc:
            raise PermanentRejection(f"The image cannot be read: {exc}") from exc
        media_type = mimetypes.guess_type(image_path)[0] or "image/jpeg"
        auth = {"Authorization": f"Bearer {credentials.access_token}"}
        base = f"{self.base_url}/2/media/upload"
        try:
            started = self.http.send(
                "POST",
                f"{base}/initialize",
                action="image upload",
                headers=auth,
                json={
                    "media_type": media_type,
                    "total_bytes": len(data),
                    "media_category": "tweet_image",
                },
            )
            media_id = field_str(json_object(started, what="image upload"), "data", "id")
            if not media_id:
                raise RetryLater("X's upload gave no media id.", call=call_record(started))
            for index, offset in enumerate(range(0, len(data), UPLOAD_SEGMENT_BYTES)):
                self.http.send(
                    "POST",
                    f"{base}/{media_id}/append",
                    action="image upload",
                    headers=auth,
                    data={"segment_index": str(index)},
                    files={"media": data[offset : offset + UPLOAD_SEGMENT_BYTES]},
                )
            finished = self.http.send(
                "POST", f"{base}/{media_id}/finalize", action="image upload", headers=auth
            )
            json_object(finished, what="image upload")
        except OutcomeUnknown as exc:  # an uploaded image alone posts nothing
            raise RetryLater(f"The image upload failed: {exc.message}", retry_after=0) from exc
        return media_id

    def delete(self, credentials: Credentials, external_id: str) -> CallRecord:
        client = self._client(credentials)
        try:
            self._tweepy("deletion", lambda: client.delete_tweet(external_id, user_auth=False))
        except PermanentRejection as exc:
            if exc.call.status_code == 404:
                return exc.call  # already gone: that is what we wanted
            raise
        return self.http.last_call

    def find_post(self, credentials: Credentials, post: PostRequest) -> PublishedPost | None:
        """X has no idempotency key: look for our tracked link (or the same text) among
        the account's latest posts."""
        if not credentials.external_id:
            return None
        client = self._client(credentials, raw=True)
        answer = self._tweepy(
            "lookup",
            lambda: client.get_users_tweets(
                credentials.external_id,
                max_results=20,
                tweet_fields=["entities", "created_at"],
                user_auth=False,
            ),
        )
        tweets = answer.get("data") if isinstance(answer, Mapping) else None
        for tweet in tweets if isinstance(tweets, list) else []:
            if not isinstance(tweet, Mapping) or not field_str(tweet, "id").isdigit():
                continue
            urls = (tweet.get("entities") or {}).get("urls") or []
            expanded = {u.get("expanded_url") for u in urls if isinstance(u, Mapping)}
            # X returns &, < and > as HTML entities in a post's text.
            text = html.unescape(field_str(tweet, "text"))
            if (post.link_url and post.link_url in expanded) or (
                not post.link_url and text == post.text
            ):
                tweet_id = field_str(tweet, "id")
                return PublishedPost(
                    external_id=tweet_id,
                    url=f"https://x.com/i/web/status/{tweet_id}",
                    call=self.http.last_call,
                )
        return None

    def fetch_metrics(self, credentials: Credentials, external_id: str) -> dict[str, int]:
        """Public metrics with any token; private and organic ones only with the author's
        token for posts under 30 days old (asking for them later is an error)."""
        fields = ["public_metrics", "author_id"]
        age = tweet_age_days(external_id)
        if age is not None and age < PRIVATE_METRICS_DAYS:
            fields += ["non_public_metrics", "organic_metrics"]
        client = self._client(credentials, raw=True)
        answer = self._tweepy(
            "metrics",
            lambda: client.get_tweet(
                external_id,
                tweet_fields=fields,
                expansions=["author_id"],
                user_fields=["public_metrics"],
                user_auth=False,
            ),
        )
        if not isinstance(answer, Mapping) or not isinstance(answer.get("data"), Mapping):
            errors = answer.get("errors") if isinstance(answer, Mapping) else None
            titles = " ".join(
                str(e.get("title", "")) for e in errors or [] if isinstance(e, Mapping)
            )
            if "Authorization" in titles and "non_public_metrics" in fields:
                # Private metrics refused (X says "Field Authorization Error" for the
                # whole answer): the public ones still come with any token.
                answer = self._tweepy(
                    "metrics",
                    lambda: client.get_tweet(
                        external_id,
                        tweet_fields=["public_metrics", "author_id"],
                        expansions=["author_id"],
                        user_fields=["public_metrics"],
                        user_auth=False,
                    ),
                )
            if not isinstance(answer, Mapping) or not isinstance(answer.get("data"), Mapping):
                raise MetricsUnavailable(
                    "The post is no longer on X.", reason="gone", call=self.http.last_call
                )
        return x_metrics_map(answer)

    def refresh_credentials(self, credentials: Credentials) -> Credentials:
        """Refresh tokens are single use and rotate: the caller holds the account's lock
        and saves the new pair before anyone uses it."""
        if not credentials.refresh_token:
            raise NeedsReconnect("X gave no refresh token; the employee must reconnect.")
        response = self.http.send(
            "POST",
            f"{self.base_url}/2/oauth2/token",
            action="token refresh",
            data={
                "grant_type": "refresh_token",
                "refresh_token": credentials.refresh_token,
                "client_id": self.app.client_id,
            },
            auth=(self.app.client_id, self.app.client_secret) if self.app.client_secret else None,
        )
        data = json_object(response, what="token refresh")
        access = field_str(data, "access_token")
        expires_in = data.get("expires_in")
        if not access or not isinstance(expires_in, int):
            # The old refresh token is spent: without a usable answer, reconnecting is
            # the only way back.
            raise NeedsReconnect("X's token answer was incomplete.", call=call_record(response))
        return Credentials(
            external_id=credentials.external_id,
            access_token=access,
            refresh_token=field_str(data, "refresh_token"),
            expires_at=datetime.now(UTC) + timedelta(seconds=expires_in),
        )

    def revoke(self, credentials: Credentials) -> bool:
        """POST /2/oauth2/revoke for both tokens (the refresh token outlives the access
        token)."""
        auth = (self.app.client_id, self.app.client_secret) if self.app.client_secret else None
        for token, hint in (
            (credentials.refresh_token, "refresh_token"),
            (credentials.access_token, "access_token"),
        ):
            if token:
                self.http.send(
                    "POST",
                    f"{self.base_url}/2/oauth2/revoke",
                    action="revocation",
                    data={"token": token, "token_type_hint": hint, "client_id": self.app.client_id},
                    auth=auth,
                )
        return True

    def check_app(self) -> bool:
        """Whether X knows the client: a made-up refresh token is refused with 400 for a
        known client, 401 for an unknown one or a wrong secret."""
        try:
            self.http.send(
                "POST",
                f"{self.base_url}/2/oauth2/token",
                action="connection test",
                data={
                    "grant_type": "refresh_token",
                    "refresh_token": "portevoix-connection-test",
                    "client_id": self.app.client_id,
                },
                auth=(self.app.client_id, self.app.client_secret),
            )
        except (PermanentRejection, NeedsReconnect) as exc:
            return exc.call.status_code == 400 and "client" not in exc.call.body
        return True
