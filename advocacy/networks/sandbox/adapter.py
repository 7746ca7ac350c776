"""The sandbox network: a fake social network on loopback (tests/fakes/social_network.py),
spoken to over real HTTP, so that the demo and the tests run the whole pipeline. Its
answers follow the real networks' shapes: 401 for a bad token, 409 for a duplicate,
429 with `x-rate-limit-reset`, 5xx for outages."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime, timedelta
from typing import Any

import requests

from advocacy.networks.base import (
    AccountIdentity,
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
    json_object,
)
from advocacy.networks.metrics import sandbox_metrics_map


def _classify(response: requests.Response, action: str) -> NetworkError | None:
    status, call = response.status_code, call_record(response)
    if action == "metrics" and status == 403:
        return MetricsUnavailable(
            "This account does not allow reading its post metrics.",
            reason="no_permission",
            call=call,
        )
    if action == "metrics" and status == 404:
        return MetricsUnavailable("The post is no longer on the network.", reason="gone", call=call)
    if action == "token refresh" and status == 400:
        return NeedsReconnect("The refresh token was refused.", call=call)
    if action == "image upload" and 400 <= status < 500 and status not in (401, 429):
        return PermanentRejection(f"The network refused the image ({status}).", call=call)
    if 400 <= status < 500 and status not in (401, 408, 429):
        detail = ""
        with contextlib.suppress(ValueError, AttributeError):
            detail = str(response.json().get("detail", ""))
        return PermanentRejection(
            detail or f"The network refused the {action} ({status}).", call=call
        )
    return None


class SandboxAdapter:
    name = "sandbox"

    def __init__(self, *, base_url: str, session: requests.Session | None = None):
        self.base_url = base_url.rstrip("/")
        self.http = NetworkHttp(session=session, classify=_classify)
        self.session = self.http.session

    def _call(
        self,
        method: str,
        path: str,
        *,
        action: str,
        token: str = "",
        accept: tuple[int, ...] = (),
        **kwargs: Any,
    ) -> requests.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        headers |= kwargs.pop("headers", {})
        return self.http.send(
            method,
            f"{self.base_url}{path}",
            action=action,
            accept=accept,
            headers=headers,
            **kwargs,
        )

    # --- the interface ------------------------------------------------------------------

    def publish(self, credentials: Credentials, post: PostRequest) -> PublishedPost:
        body = {"text": post.text, "link": post.link_url, "client_ref": post.idempotency_key}
        if post.image_path:
            body["media_id"] = self._upload(credentials, post.image_path)
        response = self._call(
            "POST", "/posts", action="post", token=credentials.access_token, json=body
        )
        data = json_object(response, what="post")
        post_id, url = str(data.get("id", "")), str(data.get("url", ""))
        if not post_id:
            raise OutcomeUnknown(
                "The network accepted the post without naming it.", call=call_record(response)
            )
        return PublishedPost(external_id=post_id, url=url, call=call_record(response))

    def _upload(self, credentials: Credentials, image_path: str) -> str:
        """Upload the image first, as X and LinkedIn want; nothing is posted yet, so any
        failure here but a refusal is safe to retry."""
        try:
            with open(image_path, "rb") as image:
                data = image.read()
        except OSError as exc:
            raise PermanentRejection(f"The image cannot be read: {exc}") from exc
        try:
            response = self._call(
                "POST",
                "/media",
                action="image upload",
                token=credentials.access_token,
                data=data,
                headers={"Content-Type": "application/octet-stream"},
            )
        except OutcomeUnknown as exc:  # an image alone posts nothing
            raise RetryLater(f"The image upload failed: {exc.message}", retry_after=0) from exc
        try:
            return str(response.json()["media_id"])
        except (ValueError, KeyError, TypeError) as exc:
            raise RetryLater("The image upload gave no id.", retry_after=0) from exc

    def delete(self, credentials: Credentials, external_id: str) -> CallRecord:
        # 404: already gone, which is what we wanted.
        response = self._call(
            "DELETE",
            f"/posts/{external_id}",
            action="deletion",
            token=credentials.access_token,
            accept=(404,),
        )
        return call_record(response)

    def find_post(self, credentials: Credentials, post: PostRequest) -> PublishedPost | None:
        response = self._call(
            "GET",
            "/posts",
            action="lookup",
            token=credentials.access_token,
            params={"client_ref": post.idempotency_key},
        )
        items = json_object(response, what="lookup").get("data", [])
        for item in items if isinstance(items, list) else []:
            if isinstance(item, dict) and item.get("id"):
                return PublishedPost(
                    external_id=str(item["id"]),
                    url=str(item.get("url", "")),
                    call=call_record(response),
                )
        return None

    def fetch_metrics(self, credentials: Credentials, external_id: str) -> dict[str, int]:
        response = self._call(
            "GET", f"/posts/{external_id}/metrics", action="metrics", token=credentials.access_token
        )
        return sandbox_metrics_map(json_object(response, what="metrics"))

    def refresh_credentials(self, credentials: Credentials) -> Credentials:
        if not credentials.refresh_token:
            raise NeedsReconnect("There is no refresh token; the employee must reconnect.")
        response = self._call(
            "POST",
            "/oauth/token",
            action="token refresh",
            json={"grant_type": "refresh_token", "refresh_token": credentials.refresh_token},
        )
        return _credentials(json_object(response, what="token refresh"))

    def revoke(self, credentials: Credentials) -> bool:
        return False  # the sandbox keeps no grants worth revoking

    # --- connecting (the sandbox's stand-in for an OAuth dance) ------------------------

    def connect(self, handle: str) -> tuple[Credentials, AccountIdentity]:
        response = self._call("POST", "/oauth/token", action="connection", json={"handle": handle})
        data = json_object(response, what="connection")
        return _credentials(data), AccountIdentity(
            external_id=str(data["account_id"]), display_name=str(data.get("name", handle))
        )


def _credentials(data: dict[str, Any]) -> Credentials:
    expires_in = data.get("expires_in")
    expires_at = (
        datetime.now(UTC) + timedelta(seconds=int(expires_in))
        if isinstance(expires_in, int)
        else None
    )
    if not isinstance(data.get("access_token"), str):
        raise OutcomeUnknown("The network's token answer had no access token.")
    return Credentials(
        external_id=str(data.get("account_id", "")),
        access_token=str(data["access_token"]),
        refresh_token=str(data.get("refresh_token", "")),
        expires_at=expires_at,
    )
