"""A fake Microsoft Teams Workflows webhook on loopback ("When a Teams webhook request is
received" → "Post card in a chat or channel"), answering as the flow trigger does.

    python -m tests.fakes.teams_webhook --host 127.0.0.1 --port 8032

Each flow has its own address, `<url>/workflows/<id>/triggers/manual/paths/invoke?...&sig=
<signature>` (the shape Power Automate gives). Create one with `add_flow()`.

Sources:
    [webhook]  https://learn.microsoft.com/en-us/microsoftteams/platform/webhooks-and-connectors/how-to/add-incoming-webhook
               (Office 365 connectors retired; Workflows' webhook trigger instead)
    [trigger]  https://learn.microsoft.com/en-us/connectors/teams/ "When a Teams webhook
               request is received": a POST of {"type": "message", "attachments":
               [{"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl":
               null, "content": <Adaptive Card>}]}, answered 202 Accepted with an empty body
    [limits]   more than a few requests a second are throttled: HTTP 429 with Retry-After
Unverified: the error bodies (Logic Apps answers JSON {"error": {"code", "message"}}; the
codes chosen here are those seen in public reports: 400 InvalidRequestContent, 404
WorkflowNotFound / a wrong signature 401 DirectApiAuthorizationRequired).

Fault switches: fail_next(status, times=1, retry_after=None) answers 400, 404, 429 (with
Retry-After) or 500 for the next posts; delete_flow(id) makes a flow answer 404 from now on;
hang_next(seconds) accepts the card and answers too late.
"""

from __future__ import annotations

import contextlib
import json
import secrets
import socket
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.fakes.serving import ThreadServed, serve_fake

ADAPTIVE = "application/vnd.microsoft.card.adaptive"


@dataclass
class Received:
    flow: str
    payload: dict[str, Any]


class FakeTeamsWebhook(ThreadServed):
    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.lock = threading.RLock()
        self.flows: dict[str, str] = {}  # id -> signature
        self.received: list[Received] = []
        self.script: list[dict[str, Any]] = []
        handler = type("Handler", (_Handler,), {"teams": self})
        self.server = ThreadingHTTPServer((host, port), handler)
        self.server.daemon_threads = True
        self.thread: threading.Thread | None = None

    def add_flow(self) -> str:
        """A new flow; returns its webhook address."""
        flow = secrets.token_hex(16)
        signature = secrets.token_urlsafe(32)
        with self.lock:
            self.flows[flow] = signature
        return (
            f"{self.url}/workflows/{flow}/triggers/manual/paths/invoke"
            f"?api-version=1&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig={signature}"
        )

    def delete_flow(self, url: str) -> None:
        flow = urlsplit(url).path.split("/")[2]
        with self.lock:
            self.flows.pop(flow, None)

    def fail_next(self, status: int, times: int = 1, retry_after: int | None = None) -> None:
        with self.lock:
            self.script.extend({"status": status, "retry_after": retry_after} for _ in range(times))

    def hang_next(self, seconds: float) -> None:
        with self.lock:
            self.script.append({"hang": seconds})


def _error(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message}}


class _Handler(BaseHTTPRequestHandler):
    teams: FakeTeamsWebhook
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def setup(self) -> None:
        super().setup()
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _reply(self, status: int, payload: Any = None, headers: dict[str, str] | None = None):
        body = json.dumps(payload).encode() if payload is not None else b""
        self.send_response(status)
        if body:
            self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if body:
            self.wfile.write(body)

    def do_POST(self) -> None:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        segments = parts.path.split("/")
        teams = self.teams
        with teams.lock:
            step = teams.script.pop(0) if teams.script else {}
        if step.get("status"):
            status = step["status"]
            headers = {}
            if status == 429:
                headers["Retry-After"] = str(step.get("retry_after") or 30)
            code = {
                400: "InvalidRequestContent",
                404: "WorkflowNotFound",
                429: "WorkflowRequestsThrottled",
            }.get(status, "InternalServerError")
            self._reply(status, _error(code, "Scripted failure."), headers)
            return
        if len(segments) < 3 or segments[1] != "workflows":
            self._reply(404, _error("WorkflowNotFound", "The workflow could not be found."))
            return
        flow = segments[2]
        signature = parse_qs(parts.query).get("sig", [""])[0]
        with teams.lock:
            expected = teams.flows.get(flow)
        if expected is None:
            self._reply(
                404, _error("WorkflowNotFound", f"The workflow '{flow}' could not be found.")
            )
            return
        if signature != expected:
            self._reply(
                401,
                _error("DirectApiAuthorizationRequired", "The request must be authenticated."),
            )
            return
        try:
            payload = json.loads(raw or b"null")
        except ValueError:
            payload = None
        attachments = payload.get("attachments") if isinstance(payload, dict) else None
        if (
            not isinstance(payload, dict)
            or payload.get("type") != "message"
            or not isinstance(attachments, list)
            or not attachments
            or any(
                not isinstance(item, dict)
                or item.get("contentType") != ADAPTIVE
                or not isinstance(item.get("content"), dict)
                or item["content"].get("type") != "AdaptiveCard"
                for item in attachments
            )
        ):
            self._reply(
                400,
                _error(
                    "InvalidRequestContent",
                    "The input body for trigger 'manual' of type 'Request' did not match its "
                    "schema definition.",
                ),
            )
            return
        with teams.lock:
            teams.received.append(Received(flow, payload))
        if step.get("hang"):
            time.sleep(float(step["hang"]))
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self._reply(202)


def main() -> None:
    def build(host: str, port: int, demo: bool) -> FakeTeamsWebhook:
        fake = FakeTeamsWebhook(host, port)
        if demo:
            print("flow:", fake.add_flow(), flush=True)
        return fake

    serve_fake(
        description="A fake Microsoft Teams Workflows webhook",
        port=8032,
        demo_help="create one flow and print its address",
        build=build,
    )


if __name__ == "__main__":
    main()
