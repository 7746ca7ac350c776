"""A fake of Slack's Web API on loopback (auth.test and chat.postMessage), answering as
Slack documents, so that messaging/slack.py meets Slack's behaviour in tests and in
`make run` without the network.

    python -m tests.fakes.slack_api --host 127.0.0.1 --port 8031 [--demo]

Point SLACK_API_BASE_URL at `<url>/api/`. With --demo the bot token `xoxb-demo-0000000000`
is registered for the workspace "Portevoix Demo" with channel C0DEMO00001.

Sources:
    [web]      https://docs.slack.dev/apis/web-api/ (POST, form-encoded or JSON body;
               token as `Authorization: Bearer`; answers are HTTP 200 with {"ok": bool};
               an error is {"ok": false, "error": "<code>"})
    [auth]     https://docs.slack.dev/reference/methods/auth.test
               {"ok": true, "url": "https://<ws>.slack.com/", "team": "...", "user": "<bot
               user name>", "team_id": "T...", "user_id": "U...", "bot_id": "B..."}
               errors: not_authed, invalid_auth, account_inactive, token_revoked
    [post]     https://docs.slack.dev/reference/methods/chat.postMessage
               {"ok": true, "channel": "C...", "ts": "1503435956.000247", "message": {"text",
               "username", "bot_id", "type": "message", "subtype": "bot_message", "ts",
               "blocks"?}}; errors: channel_not_found, not_in_channel, is_archived,
               msg_too_long, no_text, invalid_blocks, plus the token errors
    [limits]   https://docs.slack.dev/apis/web-api/rate-limits: HTTP 429 with a Retry-After
               header (seconds) and {"ok": false, "error": "ratelimited"}
Unverified: the exact fields of `message` beyond those listed (a subset is served).

Fault switches:
    fail_next(error, times=1)   the next chat.postMessage calls answer {"ok": false, "error":
                                error} with HTTP 200 (invalid_auth, token_revoked,
                                account_inactive, channel_not_found, not_in_channel,
                                is_archived, ...)
    rate_limit_next(retry_after, times=1)   HTTP 429, Retry-After, error "ratelimited"
    server_error_next(status=500, times=1)  an HTML error page, as a load balancer answers
    hang_next(seconds, times=1)   posts the message, then holds the answer that long (the
                                  client times out: the message exists)
    revoke(token)                 the token answers token_revoked from now on
    archive(channel)              the channel answers is_archived from now on
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.fakes.serving import ThreadServed, serve_fake

DEMO_TOKEN = "xoxb-demo-0000000000"
DEMO_CHANNEL = "C0DEMO00001"


@dataclass
class Workspace:
    team_id: str
    team: str
    domain: str
    bot_user_id: str
    bot_name: str
    bot_id: str
    channels: set[str] = field(default_factory=set)
    # Channels the bot was not invited to (private channels).
    outside: set[str] = field(default_factory=set)
    archived: set[str] = field(default_factory=set)


@dataclass
class Posted:
    channel: str
    ts: str
    text: str
    blocks: list[dict[str, Any]]
    token: str


class FakeSlack(ThreadServed):
    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.lock = threading.RLock()
        self.tokens: dict[str, Workspace] = {}
        self.revoked: set[str] = set()
        self.inactive: set[str] = set()
        self.posted: list[Posted] = []
        self.calls: list[str] = []
        self.script: list[dict[str, Any]] = []
        self._ts = 1_700_000_000
        handler = type("Handler", (_Handler,), {"slack": self})
        self.server = ThreadingHTTPServer((host, port), handler)
        self.server.daemon_threads = True
        self.thread: threading.Thread | None = None

    @property
    def api_url(self) -> str:
        return f"{self.url}/api/"

    # --- test controls ----------------------------------------------------------------

    def add_workspace(
        self,
        token: str,
        *,
        team: str = "Acme Santé",
        channels: tuple[str, ...] = ("C0123456789",),
        bot_name: str = "portevoix",
    ) -> Workspace:
        with self.lock:
            number = len(self.tokens) + 1
            workspace = Workspace(
                team_id=f"T{number:010d}",
                team=team,
                domain=team.lower().replace(" ", "-").encode("ascii", "ignore").decode(),
                bot_user_id=f"U{number:010d}",
                bot_name=bot_name,
                bot_id=f"B{number:010d}",
                channels=set(channels),
            )
            self.tokens[token] = workspace
            return workspace

    def fail_next(self, error: str, times: int = 1) -> None:
        with self.lock:
            self.script.extend({"error": error} for _ in range(times))

    def rate_limit_next(self, retry_after: int = 30, times: int = 1) -> None:
        with self.lock:
            self.script.extend({"status": 429, "retry_after": retry_after} for _ in range(times))

    def server_error_next(self, status: int = 500, times: int = 1) -> None:
        with self.lock:
            self.script.extend({"status": status} for _ in range(times))

    def hang_next(self, seconds: float, times: int = 1) -> None:
        with self.lock:
            self.script.extend({"hang": seconds} for _ in range(times))

    def revoke(self, token: str) -> None:
        with self.lock:
            self.revoked.add(token)

    def archive(self, channel: str) -> None:
        with self.lock:
            for workspace in self.tokens.values():
                if channel in workspace.channels:
                    workspace.archived.add(channel)

    def _next_ts(self) -> str:
        self._ts += 1
        return f"{self._ts}.{self._ts % 1_000_000:06d}"


class _Handler(BaseHTTPRequestHandler):
    slack: FakeSlack
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def setup(self) -> None:
        super().setup()
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _reply(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        if isinstance(payload, bytes):
            body, kind = payload, "text/html; charset=utf-8"
        else:
            body, kind = json.dumps(payload).encode(), "application/json; charset=utf-8"
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _arguments(self) -> dict[str, Any]:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        kind = (self.headers.get("Content-Type") or "").lower()
        if kind.startswith("application/json"):
            try:
                data = json.loads(raw or b"{}")
            except ValueError:
                return {"__invalid__": True}
            return data if isinstance(data, dict) else {"__invalid__": True}
        form = {key: values[-1] for key, values in parse_qs(raw.decode()).items()}
        if isinstance(form.get("blocks"), str):
            try:
                form["blocks"] = json.loads(form["blocks"])
            except ValueError:
                form["blocks"] = "__invalid__"
        return form

    def _token(self, arguments: dict[str, Any]) -> str:
        auth = self.headers.get("Authorization", "")
        if auth.lower().startswith("bearer "):
            return auth[7:].strip()
        return str(arguments.get("token") or "")

    def do_GET(self) -> None:
        self._reply(200, {"ok": False, "error": "invalid_arg_name"})

    def do_POST(self) -> None:
        path = urlsplit(self.path).path
        arguments = self._arguments()
        method = path.removeprefix("/api/")
        slack = self.slack
        with slack.lock:
            slack.calls.append(method)
        if method not in ("auth.test", "chat.postMessage"):
            self._reply(200, {"ok": False, "error": "unknown_method"})
            return
        token = self._token(arguments)
        with slack.lock:
            step = slack.script.pop(0) if method == "chat.postMessage" and slack.script else {}
            workspace = slack.tokens.get(token)
            revoked = token in slack.revoked
        if step.get("status") == 429:
            self._reply(
                429,
                {"ok": False, "error": "ratelimited"},
                {"Retry-After": str(step["retry_after"])},
            )
            return
        if step.get("status"):
            self._reply(step["status"], b"<html><body>Service Unavailable</body></html>")
            return
        if step.get("error"):
            self._reply(200, {"ok": False, "error": step["error"]})
            return
        if not token:
            self._reply(200, {"ok": False, "error": "not_authed"})
            return
        if revoked:
            self._reply(200, {"ok": False, "error": "token_revoked"})
            return
        if workspace is None:
            self._reply(200, {"ok": False, "error": "invalid_auth"})
            return
        if method == "auth.test":
            self._reply(
                200,
                {
                    "ok": True,
                    "url": f"https://{workspace.domain}.slack.com/",
                    "team": workspace.team,
                    "user": workspace.bot_name,
                    "team_id": workspace.team_id,
                    "user_id": workspace.bot_user_id,
                    "bot_id": workspace.bot_id,
                    "is_enterprise_install": False,
                },
            )
            return
        self._post(workspace, token, arguments, step)

    def _post(
        self, workspace: Workspace, token: str, arguments: dict[str, Any], step: dict[str, Any]
    ) -> None:
        if arguments.get("__invalid__") or arguments.get("blocks") == "__invalid__":
            self._reply(200, {"ok": False, "error": "invalid_blocks"})
            return
        channel = str(arguments.get("channel") or "")
        text = str(arguments.get("text") or "")
        blocks = arguments.get("blocks") or []
        if channel not in workspace.channels:
            self._reply(200, {"ok": False, "error": "channel_not_found"})
            return
        if channel in workspace.archived:
            self._reply(200, {"ok": False, "error": "is_archived"})
            return
        if channel in workspace.outside:
            self._reply(200, {"ok": False, "error": "not_in_channel"})
            return
        if not text and not blocks:
            self._reply(200, {"ok": False, "error": "no_text"})
            return
        if len(text) > 40_000:
            self._reply(200, {"ok": False, "error": "msg_too_long"})
            return
        if not isinstance(blocks, list) or len(blocks) > 50:
            self._reply(200, {"ok": False, "error": "invalid_blocks"})
            return
        slack = self.slack
        with slack.lock:
            ts = slack._next_ts()
            slack.posted.append(Posted(channel, ts, text, blocks, token))
        if step.get("hang"):
            # The message is in the channel; the answer comes too late for the client.
            time.sleep(float(step["hang"]))
        message: dict[str, Any] = {
            "type": "message",
            "subtype": "bot_message",
            "text": text,
            "ts": ts,
            "username": workspace.bot_name,
            "bot_id": workspace.bot_id,
        }
        if blocks:
            message["blocks"] = blocks
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self._reply(200, {"ok": True, "channel": channel, "ts": ts, "message": message})


def main() -> None:
    def build(host: str, port: int, demo: bool) -> FakeSlack:
        fake = FakeSlack(host, port)
        if demo:
            fake.add_workspace(DEMO_TOKEN, team="Portevoix Demo", channels=(DEMO_CHANNEL,))
        return fake

    serve_fake(
        description="A fake Slack Web API",
        port=8031,
        demo_help=f"register the bot token {DEMO_TOKEN} with channel {DEMO_CHANNEL}",
        build=build,
    )


if __name__ == "__main__":
    main()
