"""The sandbox network: a fake social network on loopback (tests/fakes/social_network.py),
spoken to over real HTTP, so that the demo and the tests run the whole pipeline. Its
answers follow the real networks' shapes: 401 for a bad token, 409 for a duplicate,
429 with `x-rate-limit-reset`, 5xx for outages."""

from __future__ import annotations

import contextlib
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import requests
from django.conf import settings

from advocacy.networks.base import (
    AccountIdentity,
    CallRecord,
    Credentials,
    MetricsUnavailable,
    NeedsReconnect,
    OutcomeUnknown,
    PermanentRejection,
    PostRequest,
    PublishedPost,
    RetryLater,
)
from advocacy.networks.metrics import sandbox_metrics_map

_BODY_KEPT = 300


def _record(response: requests.Response) -> CallRecord:
    return CallRecord(status_code=response.status_code, body=response.text[:_BODY_KEPT])


def _retry_after(response: requests.Response) -> float:
    """Seconds until the network accepts calls again: `x-rate-limit-reset` (an epoch, as
    X sends it) first, then `Retry-After`."""
    reset = response.headers.get("x-rate-limit-reset")
    if reset:
        try:
            return max(0.0, float(reset) - time.time())
        except ValueError:
            pass
    retry_after = response.headers.get("Retry-After", "")
    return float(retry_after) if retry_after.isdigit() else 30.0


def _raise_for(response: requests.Response, *, action: str) -> None:
    call = _record(response)
    status = response.status_code
    if status < 400:
        return
    if status == 401:
        raise NeedsReconnect(f"The network refused the token ({action}).", call=call)
    if status == 429:
        raise RetryLater(
            "The network is throttling us.", retry_after=_retry_after(response), call=call
        )
    if status >= 500:
        retry = _retry_after(response) if response.headers.get("Retry-After") else 0.0
        raise RetryLater(f"The network answered {status}.", retry_after=retry, call=call)
    detail = ""
    with contextlib.suppress(ValueError):
        detail = str(response.json().get("detail", ""))
    raise PermanentRejection(detail or f"The network refused the {action} ({status}).", call=call)


class SandboxAdapter:
    name = "sandbox"

    def __init__(self, *, base_url: str, session: requests.Session | None = None):
        self.base_url = base_url.rstrip("/")
        self.session = session or requests.Session()
        self.timeout = (settings.NETWORK_CONNECT_TIMEOUT, settings.NETWORK_READ_TIMEOUT)

    def _call(
        self,
        method: str,
        path: str,
        *,
        token: str = "",
        json: Any = None,
        params: dict[str, str] | None = None,
    ) -> requests.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        try:
            return self.session.request(
                method,
                f"{self.base_url}{path}",
                json=json,
                params=params,
                headers=headers,
                timeout=self.timeout,
            )
        except (requests.ConnectTimeout, requests.exceptions.InvalidURL) as exc:
            raise RetryLater(f"Could not reach the network: {exc}", retry_after=0) from exc
        except requests.ConnectionError as exc:
            # Refused before anything was sent is safe to retry; a connection dropped while
            # waiting for the answer is not.
            if _never_sent(exc):
                raise RetryLater(f"Could not reach the network: {exc}", retry_after=0) from exc
            raise OutcomeUnknown(f"The connection dropped before the answer: {exc}") from exc
        except requests.Timeout as exc:
            raise OutcomeUnknown("The network did not answer in time.") from exc

    # --- the interface ------------------------------------------------------------------

    def publish(self, credentials: Credentials, post: PostRequest) -> PublishedPost:
        body = {"text": post.text, "link": post.link_url, "client_ref": post.idempotency_key}
        if post.image_path:
            body["media_id"] = self._upload(credentials, post.image_path)
        response = self._call("POST", "/posts", token=credentials.access_token, json=body)
        _raise_for(response, action="post")
        data = _json(response)
        post_id, url = str(data.get("id", "")), str(data.get("url", ""))
        if not post_id:
            raise OutcomeUnknown(
                "The network accepted the post without naming it.", call=_record(response)
            )
        return PublishedPost(external_id=post_id, url=url, call=_record(response))

    def _upload(self, credentials: Credentials, image_path: str) -> str:
        """Upload the image first, as X and LinkedIn want; nothing is posted yet, so any
        failure here is safe to retry."""
        try:
            with open(image_path, "rb") as image:
                data = image.read()
        except OSError as exc:
            raise PermanentRejection(f"The image cannot be read: {exc}") from exc
        try:
            response = self.session.post(
                f"{self.base_url}/media",
                data=data,
                timeout=self.timeout,
                headers={
                    "Authorization": f"Bearer {credentials.access_token}",
                    "Content-Type": "application/octet-stream",
                },
            )
        except requests.RequestException as exc:
            raise RetryLater(f"The image upload failed: {exc}", retry_after=0) from exc
        if response.status_code >= 500 or response.status_code == 429:
            raise RetryLater(
                "The image upload failed.",
                retry_after=_retry_after(response),
                call=_record(response),
            )
        _raise_for(response, action="image upload")
        try:
            return str(response.json()["media_id"])
        except (ValueError, KeyError) as exc:
            raise RetryLater("The image upload gave no id.", retry_after=0) from exc

    def delete(self, credentials: Credentials, external_id: str) -> CallRecord:
        response = self._call("DELETE", f"/posts/{external_id}", token=credentials.access_token)
        if response.status_code == 404:
            return _record(response)  # already gone: that is what we wanted
        _raise_for(response, action="deletion")
        return _record(response)

    def find_post(self, credentials: Credentials, idempotency_key: str) -> PublishedPost | None:
        response = self._call(
            "GET", "/posts", token=credentials.access_token, params={"client_ref": idempotency_key}
        )
        _raise_for(response, action="lookup")
        for item in _json(response).get("data", []):
            return PublishedPost(
                external_id=str(item["id"]), url=str(item.get("url", "")), call=_record(response)
            )
        return None

    def fetch_metrics(self, credentials: Credentials, external_id: str) -> dict[str, int]:
        response = self._call(
            "GET", f"/posts/{external_id}/metrics", token=credentials.access_token
        )
        if response.status_code == 403:
            raise MetricsUnavailable(
                "This account does not allow reading its post metrics.",
                reason="no_permission",
                call=_record(response),
            )
        if response.status_code == 404:
            raise MetricsUnavailable(
                "The post is no longer on the network.", reason="gone", call=_record(response)
            )
        _raise_for(response, action="metrics")
        return sandbox_metrics_map(_json(response))

    def refresh_credentials(self, credentials: Credentials) -> Credentials:
        if not credentials.refresh_token:
            raise NeedsReconnect("There is no refresh token; the employee must reconnect.")
        response = self._call(
            "POST",
            "/oauth/token",
            json={"grant_type": "refresh_token", "refresh_token": credentials.refresh_token},
        )
        if response.status_code == 400:
            raise NeedsReconnect("The refresh token was refused.", call=_record(response))
        _raise_for(response, action="token refresh")
        return _credentials(_json(response))

    # --- connecting (the sandbox's stand-in for an OAuth dance) ------------------------

    def connect(self, handle: str) -> tuple[Credentials, AccountIdentity]:
        response = self._call("POST", "/oauth/token", json={"handle": handle})
        _raise_for(response, action="connection")
        data = _json(response)
        return _credentials(data), AccountIdentity(
            external_id=str(data["account_id"]), display_name=str(data.get("name", handle))
        )


def _json(response: requests.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError as exc:
        raise OutcomeUnknown("The network's answer was not JSON.", call=_record(response)) from exc
    return data if isinstance(data, dict) else {}


def _credentials(data: dict[str, Any]) -> Credentials:
    expires_in = data.get("expires_in")
    expires_at = (
        datetime.now(UTC) + timedelta(seconds=int(expires_in))
        if isinstance(expires_in, int)
        else None
    )
    return Credentials(
        external_id=str(data.get("account_id", "")),
        access_token=str(data["access_token"]),
        refresh_token=str(data.get("refresh_token", "")),
        expires_at=expires_at,
    )


def _never_sent(exc: requests.ConnectionError) -> bool:
    """Whether the connection failed while opening (refused, unreachable, DNS)."""
    from urllib3.exceptions import NameResolutionError, NewConnectionError

    seen: list[BaseException] = []
    pending: list[BaseException | None] = [exc]
    while pending and len(seen) < 20:
        reason = pending.pop()
        if reason is None or any(reason is s for s in seen):
            continue
        seen.append(reason)
        if isinstance(reason, (NewConnectionError, NameResolutionError, ConnectionRefusedError)):
            return True
        pending.extend([getattr(reason, "reason", None), reason.__cause__, reason.__context__])
        pending.extend(arg for arg in reason.args if isinstance(arg, BaseException))
    return False
