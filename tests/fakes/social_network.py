"""A fake social network on loopback, spoken to over real HTTP by the sandbox adapter.

It records every post and every request, and can be told how to answer the next requests:
with latency, 429 plus reset headers, 401, a duplicate rejection, 5xx, or by accepting a
post and then not answering (a timeout after the post exists). `make run` starts it so that
demo shares really go through; the tests start one per test on a free port.

    python -m tests.fakes.social_network --port 8025 [--demo] [--latency-ms 100]

With --demo, a bearer token `sandbox-demo:<handle>` is accepted as the account
`sbx-<handle>` though the fake never issued it: the demo data is seeded with such tokens,
and the fake keeps nothing across restarts. Off by default, so tests stay strict.

With --latency-ms (or `latency=` in seconds in-process), every call to the network's API
(not the /_fake/ controls) answers that much later, as a distant network would: the
publishing benchmark measures the pipeline against it. Tokens and duplicate posts are
looked up in dictionaries, so that the fake stays cheap with thousands of posts.

Endpoints (JSON):
    POST   /oauth/token          {"handle"} or {"grant_type": "refresh_token", "refresh_token"}
    GET    /me                   the account of the bearer token
    POST   /posts                {"text", "link", "client_ref"} -> 201 {"id", "url"}
    GET    /posts?client_ref=K   the caller's posts made with that key
    DELETE /posts/<id>           204, or 404 when already gone
    GET    /posts/<id>/metrics   impressions, reactions, comments, reshares, clicks and
                                 followers, growing with the post's age
    GET    /p/<id>               the post as a page
    POST   /_fake/script         {"responses": [...]} answers for the next POST/DELETE calls
                                 (script_metrics() does the same for metrics calls)
    GET    /_fake/state          posts and requests
    POST   /_fake/reset
"""

from __future__ import annotations

import html
import json
import secrets
import threading
import time
from dataclasses import asdict, dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from advocacy.networks.metrics import sandbox_curve
from tests.fakes.serving import ThreadServed, serve_fake

DEMO_TOKEN_PREFIX = "sandbox-demo:"


@dataclass
class FakePost:
    id: str
    account_id: str
    text: str
    link: str
    client_ref: str
    created_at: float
    deleted: bool = False
    media_id: str = ""


@dataclass
class FakeRequest:
    method: str
    path: str
    at: float
    status: int = 0
    account_id: str = ""


@dataclass
class FakeAccount:
    id: str
    name: str
    access_token: str
    refresh_token: str
    expires_at: float


@dataclass
class FakeState:
    posts: list[FakePost] = field(default_factory=list)
    requests: list[FakeRequest] = field(default_factory=list)
    accounts: dict[str, FakeAccount] = field(default_factory=dict)
    script: list[dict[str, Any]] = field(default_factory=list)
    media: dict[str, int] = field(default_factory=dict)
    metrics_script: list[dict[str, Any]] = field(default_factory=list)
    token_lifetime: float = 7200.0
    # Indexes: the account each token was issued to, and the posts per (account, text).
    tokens: dict[str, FakeAccount] = field(default_factory=dict)
    posts_by_text: dict[tuple[str, str], list[FakePost]] = field(default_factory=dict)


class FakeSocialNetwork(ThreadServed):
    """The server and its state; usable in-process (tests) or as a program (make run)."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        demo_tokens: bool = False,
        latency: float = 0.0,
    ):
        self.state = FakeState()
        self.demo_tokens = demo_tokens
        self.latency = latency
        self.lock = threading.RLock()
        handler = type("Handler", (_Handler,), {"network": self})
        self.server = ThreadingHTTPServer((host, port), handler)
        self.server.daemon_threads = True
        self.thread: threading.Thread | None = None

    # --- test controls ------------------------------------------------------------------

    def script(self, *responses: dict[str, Any]) -> None:
        """Answers for the next POST /posts and DELETE calls, in order; then normal service.
        Each is {"status": 500}, {"status": 429, "reset_in": 2.0}, {"status": 401},
        {"duplicate": true}, {"latency": 1.5}, or {"accept_then_hang": 30}."""
        with self.lock:
            self.state.script.extend(responses)

    def script_metrics(self, *responses: dict[str, Any]) -> None:
        """Answers for the next GET /posts/<id>/metrics calls: {"status": 403} (no
        permission), {"status": 401}, {"status": 429, "reset_in": 5}, {"status": 500}, or
        {"empty": true} (a network that gives no counts)."""
        with self.lock:
            self.state.metrics_script.extend(responses)

    def metrics_requests(self) -> list[FakeRequest]:
        with self.lock:
            return [r for r in self.state.requests if r.path.endswith("/metrics")]

    def live_posts(self) -> list[FakePost]:
        with self.lock:
            return [post for post in self.state.posts if not post.deleted]

    def post_requests(self) -> list[FakeRequest]:
        with self.lock:
            return [r for r in self.state.requests if r.method == "POST" and r.path == "/posts"]

    def revoke(self, account_id: str) -> None:
        with self.lock:
            self.state.accounts.pop(account_id, None)

    def account_for_handle(self, handle: str) -> FakeAccount:
        with self.lock:
            return self._issue(handle)

    def reset(self) -> None:
        with self.lock:
            self.state = FakeState()

    # --- behaviour ----------------------------------------------------------------------

    def _issue(self, handle: str) -> FakeAccount:
        account_id = f"sbx-{handle}"
        account = FakeAccount(
            id=account_id,
            name=handle,
            access_token=secrets.token_urlsafe(16),
            refresh_token=secrets.token_urlsafe(16),
            expires_at=time.time() + self.state.token_lifetime,
        )
        self.state.accounts[account_id] = account
        self.state.tokens[account.access_token] = account
        return account

    def _account_for_token(self, token: str) -> FakeAccount | None:
        account = self.state.tokens.get(token)
        # A token is good while its account is the one stored: revoked or issued anew since,
        # it is not.
        if account is not None and self.state.accounts.get(account.id) is account:
            return account if account.expires_at > time.time() else None
        handle = token.removeprefix(DEMO_TOKEN_PREFIX).strip()
        if self.demo_tokens and token.startswith(DEMO_TOKEN_PREFIX) and handle:
            account = FakeAccount(
                id=f"sbx-{handle}",
                name=handle,
                access_token=token,
                refresh_token="",
                expires_at=float("inf"),
            )
            # Kept unless a real token was issued for the handle since.
            account = self.state.accounts.setdefault(account.id, account)
            if account.access_token == token:
                self.state.tokens[token] = account
            return account
        return None

    def _add_post(self, post: FakePost) -> None:
        self.state.posts.append(post)
        self.state.posts_by_text.setdefault((post.account_id, post.text), []).append(post)

    def _live_duplicate(self, account_id: str, text: str) -> FakePost | None:
        return next(
            (p for p in self.state.posts_by_text.get((account_id, text), []) if not p.deleted),
            None,
        )


class _Handler(BaseHTTPRequestHandler):
    network: FakeSocialNetwork
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    # --- plumbing -----------------------------------------------------------------------

    def _json_body(self) -> dict[str, Any]:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            data = json.loads(raw or b"{}")
        except ValueError:
            return {}
        return data if isinstance(data, dict) else {}

    def _send(
        self,
        status: int,
        payload: Any = None,
        headers: dict[str, str] | None = None,
        *,
        content_type: str = "application/json",
    ) -> None:
        body = b""
        if payload is not None:
            body = payload.encode() if isinstance(payload, str) else json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if body:
            self.wfile.write(body)
        self._record.status = status

    def _begin(self, method: str) -> tuple[str, dict[str, list[str]]]:
        parts = urlsplit(self.path)
        self._record = FakeRequest(method=method, path=parts.path, at=time.time())
        if not parts.path.startswith("/_fake/"):
            with self.network.lock:
                self.network.state.requests.append(self._record)
            if self.network.latency > 0 and parts.path != "/healthz":
                time.sleep(self.network.latency)
        return parts.path, parse_qs(parts.query)

    def _caller(self) -> FakeAccount | None:
        auth = self.headers.get("Authorization", "")
        if not auth.startswith("Bearer "):
            return None
        with self.network.lock:
            account = self.network._account_for_token(auth.removeprefix("Bearer ").strip())
        if account:
            self._record.account_id = account.id
        return account

    def _scripted(self) -> dict[str, Any] | None:
        with self.network.lock:
            return self.network.state.script.pop(0) if self.network.state.script else None

    def _apply_script(self, step: dict[str, Any] | None) -> bool:
        """Answer as scripted; True when the answer is sent."""
        if not step:
            return False
        if step.get("latency"):
            time.sleep(float(step["latency"]))
        status = step.get("status")
        if status == 429:
            reset_in = float(step.get("reset_in", 1.0))
            self._send(
                429,
                {"title": "Too Many Requests"},
                {
                    "x-rate-limit-remaining": "0",
                    "x-rate-limit-reset": f"{time.time() + reset_in:.3f}",
                    "Retry-After": str(max(1, round(reset_in))),
                },
            )
            return True
        if status == 401:
            self._send(401, {"title": "Unauthorized", "detail": "The token was revoked."})
            return True
        if status:
            self._send(int(status), {"title": "Scripted failure", "status": status})
            return True
        return False

    # --- routes -------------------------------------------------------------------------

    def do_GET(self) -> None:
        path, query = self._begin("GET")
        if path == "/_fake/state":
            with self.network.lock:
                state = {
                    "posts": [asdict(post) for post in self.network.state.posts],
                    "requests": [asdict(r) for r in self.network.state.requests],
                }
            self._send(200, state)
            return
        if path == "/healthz":
            self._send(200, {"status": "ok"})
            return
        if path.startswith("/p/"):
            self._post_page(path.removeprefix("/p/"))
            return
        account = self._caller()
        if account is None:
            self._send(401, {"title": "Unauthorized"})
            return
        if path == "/me":
            self._send(200, {"id": account.id, "name": account.name})
            return
        if path == "/posts":
            ref = (query.get("client_ref") or [""])[0]
            with self.network.lock:
                found = [
                    _post_json(post, self._base())
                    for post in self.network.state.posts
                    if post.account_id == account.id
                    and post.client_ref == ref
                    and ref
                    and not post.deleted
                ]
            self._send(200, {"data": found})
            return
        if path.startswith("/posts/") and path.endswith("/metrics"):
            self._metrics(path.removeprefix("/posts/").removesuffix("/metrics"), account)
            return
        self._send(404, {"title": "Not Found"})

    def do_POST(self) -> None:
        path, _query = self._begin("POST")
        if path == "/media":
            self._media()
            return
        data = self._json_body()
        if path == "/_fake/script":
            self.network.script(*data.get("responses", []))
            self._send(204)
            return
        if path == "/_fake/reset":
            self.network.reset()
            self._send(204)
            return
        if path == "/oauth/token":
            self._token(data)
            return
        if path != "/posts":
            self._send(404, {"title": "Not Found"})
            return
        step = self._scripted()
        if self._apply_script(step):
            return
        account = self._caller()
        if account is None:
            self._send(401, {"title": "Unauthorized", "detail": "Unknown or expired token."})
            return
        text = str(data.get("text", ""))
        if not text.strip():
            self._send(400, {"title": "Bad Request", "detail": "text is required"})
            return
        with self.network.lock:
            duplicate = self.network._live_duplicate(account.id, text)
            if duplicate is None and not (step and step.get("duplicate")):
                post = FakePost(
                    id=secrets.token_hex(6),
                    account_id=account.id,
                    text=text,
                    link=str(data.get("link", "")),
                    client_ref=str(data.get("client_ref", "")),
                    media_id=str(data.get("media_id", "")),
                    created_at=time.time(),
                )
                self.network._add_post(post)
        if duplicate is not None or (step and step.get("duplicate")):
            self._send(
                409,
                {
                    "title": "Duplicate",
                    "detail": "You already posted this.",
                    "existing": duplicate.id if duplicate else "",
                },
            )
            return
        if step and step.get("accept_then_hang"):
            # The post exists; the answer never comes in time.
            time.sleep(float(step["accept_then_hang"]))
        self._send(201, _post_json(post, self._base()))

    def do_DELETE(self) -> None:
        path, _query = self._begin("DELETE")
        step = self._scripted()
        if self._apply_script(step):
            return
        account = self._caller()
        if account is None:
            self._send(401, {"title": "Unauthorized"})
            return
        post = self._find(path.removeprefix("/posts/"), account)
        if post is None:
            self._send(404, {"title": "Not Found"})
            return
        with self.network.lock:
            post.deleted = True
        self._send(204)

    def do_HEAD(self) -> None:
        self._begin("HEAD")
        self._send(405)

    # --- helpers ------------------------------------------------------------------------

    def _base(self) -> str:
        return self.network.url

    def _find(self, post_id: str, account: FakeAccount) -> FakePost | None:
        with self.network.lock:
            return next(
                (
                    post
                    for post in self.network.state.posts
                    if post.id == post_id and post.account_id == account.id and not post.deleted
                ),
                None,
            )

    def _metrics(self, post_id: str, account: FakeAccount) -> None:
        """Counts that grow with the post's age along the sandbox curve (fast in the first
        day, then flat), the same for the same post and moment; or the scripted answer."""
        with self.network.lock:
            step = (
                self.network.state.metrics_script.pop(0)
                if self.network.state.metrics_script
                else None
            )
        if step and step.get("empty"):
            self._send(200, {})
            return
        if step and step.get("status") == 403:
            self._send(403, {"title": "Forbidden", "detail": "Metrics need another permission."})
            return
        if self._apply_script(step):
            return
        with self.network.lock:
            post = next((p for p in self.network.state.posts if p.id == post_id), None)
        if post is None or post.account_id != account.id or post.deleted:
            self._send(404, {"title": "Not Found"})
            return
        self._send(200, sandbox_curve(post.id, post.account_id, time.time() - post.created_at))

    def _media(self) -> None:
        """An image upload (raw bytes), answered with the id a post then refers to, as X's
        and LinkedIn's upload steps do."""
        if self._caller() is None:
            self._send(401, {"title": "Unauthorized"})
            return
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if not raw:
            self._send(400, {"title": "Bad Request", "detail": "empty upload"})
            return
        media_id = f"m-{secrets.token_hex(6)}"
        with self.network.lock:
            self.network.state.media[media_id] = len(raw)
        self._send(201, {"media_id": media_id, "size": len(raw)})

    def _token(self, data: dict[str, Any]) -> None:
        with self.network.lock:
            if data.get("grant_type") == "refresh_token":
                old = str(data.get("refresh_token", ""))
                account = next(
                    (a for a in self.network.state.accounts.values() if a.refresh_token == old),
                    None,
                )
                if account is None or not old:
                    self._send(400, {"error": "invalid_grant"})
                    return
                account = self.network._issue(account.name)
            else:
                handle = str(data.get("handle", "")).strip()
                if not handle:
                    self._send(400, {"error": "invalid_request", "detail": "handle is required"})
                    return
                account = self.network._issue(handle)
        self._send(
            200,
            {
                "access_token": account.access_token,
                "refresh_token": account.refresh_token,
                "expires_in": int(self.network.state.token_lifetime),
                "account_id": account.id,
                "name": account.name,
            },
        )

    def _post_page(self, post_id: str) -> None:
        with self.network.lock:
            post = next((p for p in self.network.state.posts if p.id == post_id), None)
        if post is None or post.deleted:
            body = (
                "<!doctype html><title>Sandbox network</title><h1>Sandbox network</h1>"
                "<p>This post is not on the sandbox network (deleted, or from before it "
                "was restarted).</p>"
            )
            self._send(404, body, content_type="text/html; charset=utf-8")
            return
        body = (
            "<!doctype html><meta charset='utf-8'><title>Sandbox network</title>"
            f"<h1>{html.escape(post.account_id)}</h1><p>{html.escape(post.text)}</p>"
            f"<p><a href='{html.escape(post.link, quote=True)}'>{html.escape(post.link)}</a></p>"
        )
        self._send(200, body, content_type="text/html; charset=utf-8")


def _post_json(post: FakePost, base: str) -> dict[str, Any]:
    return {
        "id": post.id,
        "url": f"{base}/p/{post.id}",
        "text": post.text,
        "client_ref": post.client_ref,
    }


def main() -> None:
    import argparse
    import sys

    # --latency-ms is this fake's own option; serve_fake parses the common ones.
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--latency-ms", type=float, default=0.0)
    own, rest = parser.parse_known_args()
    if own.latency_ms < 0:
        parser.error("--latency-ms must be 0 or more")
    sys.argv[1:] = rest
    serve_fake(
        description="The sandbox social network",
        port=8025,
        demo_help="accept the demo data's `sandbox-demo:<handle>` tokens",
        build=lambda host, port, demo: FakeSocialNetwork(
            host, port, demo_tokens=demo, latency=own.latency_ms / 1000
        ),
    )


if __name__ == "__main__":
    main()
