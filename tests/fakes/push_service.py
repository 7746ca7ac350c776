"""A fake Web Push service on loopback: the server a browser's push subscription points at
(Google's FCM, Mozilla's autopush, Apple's...), answering as the RFCs say.

    python -m tests.fakes.push_service --host 127.0.0.1 --port 8029

Sources:
    [8030] RFC 8030 Generic Event Delivery Using HTTP Push: §5 a message is POSTed to the
           push resource; `TTL` is required (400 without it, §5.2); 201 Created with a
           `Location` of the message; `Urgency` (§5.3) and `Topic` (§5.4) are optional.
           404/410 mean the subscription is gone (§7.3, "expired"), 413 a payload that is
           too large (at least 4096 bytes are accepted, §7.2), 429 too many requests.
    [8291] RFC 8291 Message Encryption for Web Push: the body is `aes128gcm` (RFC 8188)
           encrypted for the subscription's P-256 key (`p256dh`) and 16-byte `auth` secret;
           `Content-Encoding: aes128gcm` (§4); the record size header and the sender's key
           are in the body's first bytes.
    [8292] RFC 8292 VAPID: `Authorization: vapid t=<JWT>, k=<public key>` (§3); the JWT is
           ES256-signed, its `aud` is the push resource's origin, `exp` at most 24 hours
           ahead (§2); a missing or bad token is 401, a key other than the one the
           subscription was made with (applicationServerKey) is 403 (§4.2).

Test controls: `subscribe()` makes a subscription whose private key the fake keeps, to
decrypt what it receives (`decrypt(push)`); `answer_next(410)` or `answer_next(429,
retry_after=2)` scripts the next answers; `pushes` records what was accepted.
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from tests.fakes.serving import ThreadServed, serve_fake

MAX_PAYLOAD = 4096


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class FakeSubscription:
    token: str
    endpoint: str
    private_key: ec.EllipticCurvePrivateKey
    auth: bytes
    application_server_key: str | None = None

    @property
    def p256dh(self) -> str:
        return b64url_encode(
            self.private_key.public_key().public_bytes(
                serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
            )
        )

    def as_json(self) -> dict[str, Any]:
        """As the browser's PushSubscription.toJSON() gives it."""
        return {
            "endpoint": self.endpoint,
            "expirationTime": None,
            "keys": {"p256dh": self.p256dh, "auth": b64url_encode(self.auth)},
        }


@dataclass
class FakePush:
    token: str
    headers: dict[str, str]  # names in lower case
    body: bytes
    claims: dict[str, Any]
    ttl: int
    answered: int


@dataclass
class FakeState:
    subscriptions: dict[str, FakeSubscription] = field(default_factory=dict)
    pushes: list[FakePush] = field(default_factory=list)
    refused: list[tuple[int, str]] = field(default_factory=list)
    script: list[dict[str, Any]] = field(default_factory=list)


class FakePushService(ThreadServed):
    def __init__(self, host: str = "127.0.0.1", port: int = 0):
        self.state = FakeState()
        self.lock = threading.RLock()
        handler = type("Handler", (_Handler,), {"service": self})
        self.server = ThreadingHTTPServer((host, port), handler)
        self.server.daemon_threads = True
        self.thread: threading.Thread | None = None

    # --- test controls ------------------------------------------------------------------

    def subscribe(self, *, application_server_key: str | None = None) -> FakeSubscription:
        """A new subscription, as a browser would get from this push service."""
        token = secrets.token_urlsafe(24)
        subscription = FakeSubscription(
            token=token,
            endpoint=f"{self.url}/push/{token}",
            private_key=ec.generate_private_key(ec.SECP256R1()),
            auth=secrets.token_bytes(16),
            application_server_key=application_server_key,
        )
        with self.lock:
            self.state.subscriptions[token] = subscription
        return subscription

    def forget(self, subscription: FakeSubscription) -> None:
        """The browser unsubscribed: later pushes to it are 410 Gone."""
        with self.lock:
            self.state.subscriptions.pop(subscription.token, None)

    def answer_next(self, status: int, *, retry_after: int | None = None) -> None:
        """The next accepted-looking push gets this status instead (410, 429, 500...)."""
        with self.lock:
            self.state.script.append({"status": status, "retry_after": retry_after})

    @property
    def pushes(self) -> list[FakePush]:
        with self.lock:
            return list(self.state.pushes)

    @property
    def refused(self) -> list[tuple[int, str]]:
        with self.lock:
            return list(self.state.refused)

    def wait_for_pushes(self, count: int, *, timeout: float = 10.0) -> list[FakePush]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pushes = self.pushes
            if len(pushes) >= count:
                return pushes
            time.sleep(0.05)
        raise AssertionError(f"expected {count} pushes, got {len(self.pushes)}: {self.refused}")

    def decrypt(self, push: FakePush) -> dict[str, Any]:
        """The push's payload decrypted with its subscription's keys (RFC 8291), as JSON."""
        import http_ece

        subscription = self.state.subscriptions[push.token]
        plain = http_ece.decrypt(
            push.body,
            private_key=subscription.private_key,
            auth_secret=subscription.auth,
            version="aes128gcm",
        )
        return json.loads(plain)


def _verify_vapid(header: str, audience: str) -> tuple[int, str, dict[str, Any], str]:
    """(status, reason, claims, key): 0 when the Authorization header is a valid VAPID one."""
    if not header.lower().startswith("vapid "):
        return 401, "missing vapid authorization", {}, ""
    params: dict[str, str] = {}
    for part in header[6:].split(","):
        name, _sep, value = part.strip().partition("=")
        params[name.strip().lower()] = value.strip()
    token, key = params.get("t", ""), params.get("k", "")
    pieces = token.split(".")
    if len(pieces) != 3 or not key:
        return 401, "malformed vapid t or k", {}, ""
    try:
        jwt_header = json.loads(b64url_decode(pieces[0]))
        claims = json.loads(b64url_decode(pieces[1]))
        signature = b64url_decode(pieces[2])
        public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), b64url_decode(key))
    except ValueError:
        return 401, "undecodable vapid token or key", {}, ""
    if jwt_header.get("alg") != "ES256" or len(signature) != 64:
        return 401, "vapid token is not ES256", {}, ""
    der = encode_dss_signature(
        int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
    )
    try:
        public.verify(der, f"{pieces[0]}.{pieces[1]}".encode(), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        return 401, "bad vapid signature", {}, ""
    if claims.get("aud") != audience:
        return 401, f"aud {claims.get('aud')!r} is not {audience!r}", {}, ""
    exp = claims.get("exp")
    now = time.time()
    if not isinstance(exp, int) or exp <= now or exp > now + 24 * 3600:
        return 401, "exp missing, past or more than 24 hours ahead", {}, ""
    sub = claims.get("sub", "")
    if sub and not str(sub).startswith(("mailto:", "https:")):
        return 401, "sub is neither mailto: nor https:", {}, ""
    return 0, "", claims, key


class _Handler(BaseHTTPRequestHandler):
    service: FakePushService
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _answer(self, status: int, headers: dict[str, str] | None = None, reason: str = "") -> None:
        body = json.dumps({"code": status, "message": reason}).encode() if reason else b""
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if body:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _refuse(self, status: int, reason: str) -> None:
        with self.service.lock:
            self.service.state.refused.append((status, reason))
        self._answer(status, reason=reason)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if not self.path.startswith("/push/"):
            return self._refuse(404, "no such push resource")
        token = self.path.removeprefix("/push/")
        with self.service.lock:
            subscription = self.service.state.subscriptions.get(token)
        if subscription is None:
            return self._refuse(410, "subscription expired or unsubscribed")
        status, reason, claims, key = _verify_vapid(
            self.headers.get("Authorization", ""), self.service.url
        )
        if status:
            return self._refuse(status, reason)
        if subscription.application_server_key and key != subscription.application_server_key:
            return self._refuse(403, "vapid key is not the subscription's applicationServerKey")
        ttl = self.headers.get("TTL", "")
        if not ttl.isdecimal():
            return self._refuse(400, "TTL header missing or not a number")
        if body and self.headers.get("Content-Encoding", "").lower() != "aes128gcm":
            return self._refuse(400, "Content-Encoding must be aes128gcm")
        if len(body) > MAX_PAYLOAD:
            return self._refuse(413, "payload too large")
        with self.service.lock:
            scripted = self.service.state.script.pop(0) if self.service.state.script else None
        if scripted is not None:
            headers = {}
            if scripted.get("retry_after") is not None:
                headers["Retry-After"] = str(scripted["retry_after"])
            with self.service.lock:
                self.service.state.refused.append((scripted["status"], "scripted"))
            return self._answer(scripted["status"], headers, reason="scripted")
        push = FakePush(
            token=token,
            headers={name.lower(): value for name, value in self.headers.items()},
            body=body,
            claims=claims,
            ttl=int(ttl),
            answered=201,
        )
        with self.service.lock:
            self.service.state.pushes.append(push)
            number = len(self.service.state.pushes)
        self._answer(201, {"Location": f"{self.service.url}/message/{number}"})


def main() -> None:
    serve_fake(
        description="The fake Web Push service",
        port=8029,
        demo_help="no effect (kept for the common command line)",
        build=lambda host, port, demo: FakePushService(host, port),
    )


if __name__ == "__main__":
    main()
