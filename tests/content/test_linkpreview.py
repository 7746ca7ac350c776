"""The SSRF-safe link preview fetcher.

Refused vectors are proven to make no connection at all: a counting TCP listener on
127.0.0.1 sees nothing, and a spy on the module's only connect function records nothing.
Positive paths run against a tiny local HTTP(S) server reached through an injected resolver
("news.example.test" -> 127.0.0.1), with a policy that allows that one address and port.
"""

from __future__ import annotations

import http.server
import ipaddress
import pickle
import shutil
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from content import linkpreview
from content.linkpreview import (
    AddressPolicy,
    LinkFetchFailed,
    LinkPreview,
    LinkRefused,
    preview_fetch,
    url_check,
)

PUBLIC_IP = "93.184.216.34"
HOST = "news.example.test"


# --- Helpers and fixtures -----------------------------------------------------------------


class FakeResolver:
    """getaddrinfo stand-in: host -> list of IPs, or a callable(call_number) -> list."""

    def __init__(self, table: dict[str, Any] | None = None) -> None:
        self.table = table or {}
        self.calls: list[tuple[str, int]] = []

    def __call__(self, host: str, port: int, *args: Any, **kwargs: Any) -> list[tuple]:
        self.calls.append((host, port))
        entry = self.table.get(host)
        if entry is None:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        ips = entry(len(self.calls)) if callable(entry) else entry
        infos = []
        for ip in ips:
            if ":" in ip:
                infos.append((socket.AF_INET6, socket.SOCK_STREAM, 6, "", (ip, port, 0, 0)))
            else:
                infos.append((socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, port)))
        return infos

    @property
    def hosts(self) -> list[str]:
        return [host for host, _port in self.calls]


def never_called(*args: Any, **kwargs: Any) -> Any:
    raise AssertionError("the resolver must not be called")


def wait_until(predicate: Callable[[], bool], timeout: float = 5.0) -> bool:
    """Poll ``predicate`` until it holds or the deadline passes."""
    deadline = time.monotonic() + timeout
    pause = threading.Event()
    while not predicate():
        if time.monotonic() > deadline:
            return False
        pause.wait(0.005)
    return True


class CountingListener:
    """A TCP listener on 127.0.0.1 that counts (and drops) every connection it accepts."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.sock.settimeout(0.02)
        self.port: int = self.sock.getsockname()[1]
        self.peers: list[tuple[str, int]] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="counting-listener")
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                conn, peer = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                self.peers.append(peer)
            conn.close()

    def accepted(self) -> list[tuple[str, int]]:
        with self._lock:
            return list(self.peers)

    def connections_before_probe(self) -> list[tuple[str, int]]:
        """Connections accepted before a probe connection made now. The backlog is FIFO:
        once the probe has been accepted, every earlier connection has been counted."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=5) as probe:
            me = probe.getsockname()
            assert wait_until(lambda: me in self.accepted()), "probe connection not seen"
        peers = self.accepted()
        return peers[: peers.index(me)]

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self.sock.close()


@pytest.fixture
def listener() -> Iterator[CountingListener]:
    counting = CountingListener()
    yield counting
    counting.close()


@dataclass
class ConnectionSpy:
    calls: list[tuple[str, str, str, int]] = field(default_factory=list)


@pytest.fixture
def connection_spy(monkeypatch: pytest.MonkeyPatch) -> ConnectionSpy:
    """Records every connection the module opens (its only way to open one)."""
    spy = ConnectionSpy()
    real_connect = linkpreview._connect

    def recording_connect(scheme: str, host: str, ip: str, port: int, deadline: float):
        spy.calls.append((scheme, host, ip, port))
        return real_connect(scheme, host, ip, port, deadline)

    monkeypatch.setattr(linkpreview, "_connect", recording_connect)
    return spy


Route = Callable[[http.server.BaseHTTPRequestHandler], None]


@dataclass
class Site:
    port: int
    scheme: str = "http"
    routes: dict[str, Route] = field(default_factory=dict)
    requests: list[tuple[str, str | None]] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def url(self, path: str = "/", host: str = HOST) -> str:
        return f"{self.scheme}://{host}:{self.port}{path}"

    @property
    def paths(self) -> list[str]:
        return [path for path, _host in self.requests]

    def policy(self) -> AddressPolicy:
        return AddressPolicy(
            allowed_ports=frozenset({self.port}), allow_addresses=frozenset({"127.0.0.1"})
        )


class _Handler(http.server.BaseHTTPRequestHandler):
    timeout = 5  # a stuck write ends the handler thread

    def do_GET(self) -> None:
        site: Site = self.server.site  # type: ignore[attr-defined]
        site.requests.append((self.path, self.headers.get("Host")))
        route = site.routes.get(self.path)
        if route is None:
            self.send_error(404)
            return
        route(self)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def _serve(site: Site, server: http.server.ThreadingHTTPServer) -> Iterator[Site]:
    server.daemon_threads = False  # server_close() joins the handler threads
    server.site = site  # type: ignore[attr-defined]
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.02}, name="preview-site"
    )
    thread.start()
    try:
        yield site
    finally:
        site.stop.set()
        server.shutdown()
        server.server_close()
        thread.join(10)
        assert not thread.is_alive()


@pytest.fixture
def site() -> Iterator[Site]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    yield from _serve(Site(port=server.server_address[1]), server)


@pytest.fixture
def resolver() -> FakeResolver:
    return FakeResolver({HOST: ["127.0.0.1"]})


def page(
    body: str | bytes,
    *,
    status: int = 200,
    content_type: str | None = "text/html; charset=utf-8",
    headers: dict[str, str] | None = None,
) -> Route:
    data = body.encode() if isinstance(body, str) else body

    def route(handler: http.server.BaseHTTPRequestHandler) -> None:
        handler.send_response(status)
        if content_type is not None:
            handler.send_header("Content-Type", content_type)
        for name, value in (headers or {}).items():
            handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)

    return route


def redirect(location: str, status: int = 302) -> Route:
    return page("", status=status, headers={"Location": location}, content_type=None)


def endless(prefix: bytes) -> Route:
    """A 200 text/html response whose body never ends (until the client goes away)."""

    def route(handler: http.server.BaseHTTPRequestHandler) -> None:
        site: Site = handler.server.site  # type: ignore[attr-defined]
        handler.send_response(200)
        handler.send_header("Content-Type", "text/html; charset=utf-8")
        handler.end_headers()
        filler = b"<p>" + b"x" * 65_000 + b"</p>\n"
        sent = 0
        try:
            handler.wfile.write(prefix)
            while not site.stop.is_set() and sent < 200_000_000:
                handler.wfile.write(filler)
                sent += len(filler)
        except OSError:
            pass
        handler.close_connection = True

    return route


def dripping_headers(handler: http.server.BaseHTTPRequestHandler) -> None:
    """Sends a status line, then one header byte every 50 ms, forever: each byte arrives
    well within a per-read timeout, only an overall deadline stops the client."""
    site: Site = handler.server.site  # type: ignore[attr-defined]
    try:
        handler.wfile.write(b"HTTP/1.0 200 OK\r\nX-Slow: ")
        while not site.stop.wait(0.05):
            handler.wfile.write(b"a")
    except OSError:
        pass
    handler.close_connection = True


OG_PAGE = """<!doctype html>
<html><head>
<meta charset="utf-8">
<title>Fallback title</title>
<meta property="og:title" content="Portevoix raises &amp; ships">
<meta property="og:description" content="  An   article
  about advocacy.  ">
<meta property="og:image" content="https://cdn.example.test/cover.jpg">
<meta property="og:site_name" content="Example News">
<meta name="description" content="Plain description">
</head><body><p>Hello</p></body></html>
"""


# --- url_check ----------------------------------------------------------------------------

REFUSED_ADDRESSES = [
    ("10.1.2.3", "private"),
    ("172.16.0.1", "private"),
    ("172.31.255.255", "private"),
    ("192.168.0.1", "private"),
    ("100.64.0.1", "shared"),
    ("100.127.255.254", "shared"),
    ("127.0.0.1", "loopback"),
    ("127.255.255.254", "loopback"),
    ("169.254.169.254", "link_local"),
    ("169.254.0.1", "link_local"),
    ("0.0.0.0", "unspecified"),  # noqa: S104
    ("0.1.2.3", "unspecified"),
    ("224.0.0.251", "multicast"),
    ("239.255.255.250", "multicast"),
    ("255.255.255.255", "broadcast"),
    ("240.0.0.1", "reserved"),
    ("192.0.2.1", "reserved"),
    ("198.18.0.1", "reserved"),
    ("203.0.113.9", "reserved"),
    ("[::1]", "loopback"),
    ("[::]", "unspecified"),
    ("[fc00::1]", "private"),
    ("[fd12:3456::1]", "private"),
    ("[fec0::1]", "private"),
    ("[fe80::1]", "link_local"),
    ("[fe80::1%25eth0]", "link_local"),
    ("[ff02::1]", "multicast"),
    ("[::ffff:127.0.0.1]", "loopback"),
    ("[::ffff:7f00:1]", "loopback"),
    ("[::ffff:10.0.0.1]", "private"),
    ("[::ffff:169.254.169.254]", "link_local"),
    ("[64:ff9b::7f00:1]", "loopback"),
    ("[64:ff9b::a9fe:a9fe]", "link_local"),
    ("[64:ff9b::192.168.1.1]", "private"),
    ("[64:ff9b:1::808:808]", "transition"),
    ("[2002:7f00:1::1]", "loopback"),
    ("[2002:a00:1::1]", "private"),
    ("[2002:c0a8:101::1]", "private"),
    ("[2001::1]", "transition"),
    ("[2001:0:4136:e378:8000:63bf:3fff:fdd2]", "transition"),
    ("[2001:db8::1]", "reserved"),
    ("[::127.0.0.1]", "reserved"),
    ("[100::1]", "reserved"),
    ("[4000::1]", "reserved"),
]

PUBLIC_ADDRESSES = [
    "8.8.8.8",
    "1.1.1.1",
    "172.32.0.1",
    "100.128.0.1",
    "[2606:4700:4700::1111]",
    "[::ffff:8.8.8.8]",
    "[64:ff9b::808:808]",
    "[2002:808:808::1]",
]


@pytest.mark.parametrize(("host", "code"), REFUSED_ADDRESSES)
def test_url_check_refuses_non_public_literal(host: str, code: str) -> None:
    with pytest.raises(LinkRefused) as caught:
        url_check(f"http://{host}/", resolver=never_called)
    assert caught.value.code == code
    assert caught.value.message == str(caught.value)
    assert caught.value.message


@pytest.mark.parametrize("host", PUBLIC_ADDRESSES)
def test_url_check_accepts_public_literal_without_resolving(host: str) -> None:
    scheme, port, checked_host, ips = url_check(f"https://{host}/x", resolver=never_called)
    assert (scheme, port) == ("https", 443)
    assert checked_host == host.strip("[]")
    assert ips == [str(ipaddress.ip_address(host.strip("[]")))]


@pytest.mark.parametrize(
    ("host", "code"),
    [
        ("2130706433", "loopback"),
        ("0x7f000001", "loopback"),
        ("0X7F000001", "loopback"),
        ("017700000001", "loopback"),
        ("0177.0.0.1", "loopback"),
        ("127.1", "loopback"),
        ("127.0.1", "loopback"),
        ("0x7f.1", "loopback"),
        ("0x7f.0.0.0x1", "loopback"),
        ("127.000.000.001", "loopback"),
        ("127.0.0.1.", "loopback"),
        ("0", "unspecified"),
        ("0xa.0.0.1", "private"),
        ("012.0.0.1", "private"),
        ("3232235777", "private"),  # 192.168.1.1
        ("2852039166", "link_local"),  # 169.254.169.254
        ("0xa9.0xfe.0xa9.0xfe", "link_local"),
        ("134744072", "numeric_form"),  # 8.8.8.8, still refused: not canonical
        ("0x08.0x08.0x08.0x08", "numeric_form"),
        ("010.0.0.1", "numeric_form"),  # octal: 8.0.0.1
        ("256.1.1.1", "invalid"),
        ("1.2.3.4.5", "invalid"),
        ("08.1.1.1", "invalid"),
        ("0x100.1.1.1", "invalid"),
        ("4294967296", "invalid"),
        ("example.123", "invalid"),
        ("example.0x1f", "invalid"),
    ],
)
def test_url_check_numeric_host_forms(host: str, code: str) -> None:
    with pytest.raises(LinkRefused) as caught:
        url_check(f"http://{host}/", resolver=never_called)
    assert caught.value.code == code


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("ftp://example.test/", "scheme"),
        ("file:///etc/passwd", "scheme"),
        ("gopher://example.test:70/_", "scheme"),
        ("javascript:alert(1)", "scheme"),
        ("data:text/html,<h1>x</h1>", "scheme"),
        ("//example.test/", "scheme"),
        ("example.test/page", "scheme"),
        ("http://user:pass@example.test/", "userinfo"),
        ("http://user@example.test/", "userinfo"),
        ("http://:@example.test/", "userinfo"),
        ("http://example.test@127.0.0.1/", "userinfo"),
        ("http://example.test:8080/", "port"),
        ("https://example.test:22/", "port"),
        ("http://example.test:0/", "port"),
        ("http://example.test:99999/", "invalid"),
        ("http://example.test:http/", "invalid"),
        ("", "invalid"),
        ("http://", "invalid"),
        ("http:///path", "invalid"),
        ("http://exa mple.test/", "invalid"),
        ("http://exa\nmple.test/", "invalid"),
        ("http://example.test/a\tb", "invalid"),
        ("http://example.test/\x00", "invalid"),
        ("http://example.test\\@evil.test/", "invalid"),
        ("http://ex%61mple.test/", "invalid"),
        ("http://a..b/", "invalid"),
        ("http://./", "invalid"),
        ("http://[::1/", "invalid"),
        ("http://[127.0.0.1]/", "invalid"),
        ("http://" + "a" * 2100 + ".test/", "invalid"),
        ("http://localhost/", "loopback"),
        ("http://LocalHost./", "loopback"),
        ("http://app.localhost/", "loopback"),
        ("http://nowhere.example.test/", "unresolvable"),
    ],
)
def test_url_check_refuses_bad_urls(url: str, code: str) -> None:
    with pytest.raises(LinkRefused) as caught:
        url_check(url, resolver=FakeResolver())
    assert caught.value.code == code


def test_url_check_resolves_once_and_normalises_the_host() -> None:
    resolver = FakeResolver({HOST: [PUBLIC_IP, PUBLIC_IP, "2606:2800:220:1::1"]})
    result = url_check("HTTPS://News.Example.TEST./a?b=c", resolver=resolver)
    assert result == ("https", 443, HOST, [PUBLIC_IP, "2606:2800:220:1::1"])
    assert resolver.calls == [(HOST, 443)]


def test_url_check_encodes_international_names() -> None:
    resolver = FakeResolver({"xn--bcher-kva.example.test": [PUBLIC_IP]})
    assert url_check("http://bücher.example.test/", resolver=resolver)[2] == (
        "xn--bcher-kva.example.test"
    )


def test_url_check_refuses_when_any_resolved_address_is_private() -> None:
    resolver = FakeResolver({HOST: [PUBLIC_IP, "10.0.0.7"]})
    with pytest.raises(LinkRefused) as caught:
        url_check(f"http://{HOST}/", resolver=resolver)
    assert caught.value.code == "private"


@pytest.mark.parametrize("answer", [[], ["not-an-ip"]])
def test_url_check_refuses_empty_or_garbage_resolution(answer: list[str]) -> None:
    with pytest.raises(LinkRefused):
        url_check(f"http://{HOST}/", resolver=FakeResolver({HOST: answer}))


def test_allow_addresses_is_exact() -> None:
    policy = AddressPolicy(allow_addresses=frozenset({"127.0.0.1", "0:0::1"}))
    assert url_check("http://127.0.0.1/", policy=policy)[3] == ["127.0.0.1"]
    assert url_check("http://[::1]/", policy=policy)[3] == ["::1"]
    for url in (
        "http://127.0.0.2/",
        "http://[::ffff:127.0.0.1]/",
        "http://2130706433/",
        "http://127.1/",
        "http://localhost/",
    ):
        with pytest.raises(LinkRefused):
            url_check(url, policy=policy, resolver=FakeResolver({"localhost": ["127.0.0.1"]}))


# --- Refused vectors make no connection ------------------------------------------------------

EVIL = "evil.example.test"

REFUSED_VECTORS = [
    # (url, what the resolver answers for evil.example.test, expected code)
    ("http://127.0.0.1:{port}/", None, "loopback"),
    ("http://127.0.0.1.:{port}/", None, "loopback"),
    ("http://localhost:{port}/", None, "loopback"),
    ("http://LOCALHOST.:{port}/", None, "loopback"),
    ("http://admin.localhost:{port}/", None, "loopback"),
    ("http://2130706433:{port}/", None, "loopback"),
    ("http://0x7f000001:{port}/", None, "loopback"),
    ("http://0177.0.0.1:{port}/", None, "loopback"),
    ("http://127.1:{port}/", None, "loopback"),
    ("http://0x7f.1:{port}/", None, "loopback"),
    ("http://0.0.0.0:{port}/", None, "unspecified"),
    ("http://0:{port}/", None, "unspecified"),
    ("http://[::1]:{port}/", None, "loopback"),
    ("http://[::]:{port}/", None, "unspecified"),
    ("http://[::ffff:127.0.0.1]:{port}/", None, "loopback"),
    ("http://[64:ff9b::7f00:1]:{port}/", None, "loopback"),
    ("http://[2002:7f00:1::]:{port}/", None, "loopback"),
    ("http://evil.example.test:{port}/", ["127.0.0.1"], "loopback"),
    ("http://evil.example.test:{port}/", ["10.0.0.1"], "private"),
    ("http://evil.example.test:{port}/", ["192.168.1.20"], "private"),
    ("http://evil.example.test:{port}/", ["172.20.0.3"], "private"),
    ("http://evil.example.test:{port}/", ["169.254.169.254"], "link_local"),
    ("http://evil.example.test:{port}/", ["100.64.0.1"], "shared"),
    ("http://evil.example.test:{port}/", ["::1"], "loopback"),
    ("http://evil.example.test:{port}/", ["64:ff9b::7f00:1"], "loopback"),
    ("http://evil.example.test:{port}/", ["::ffff:127.0.0.1"], "loopback"),
    ("http://evil.example.test:{port}/", ["fd00::1"], "private"),
    ("http://evil.example.test:{port}/", ["fe80::1"], "link_local"),
    ("http://evil.example.test:{port}/", [PUBLIC_IP, "127.0.0.1"], "loopback"),
    ("http://evil.example.test:{port}/", [], "unresolvable"),
    ("http://unknown.example.test:{port}/", None, "unresolvable"),
    ("http://user:pass@127.0.0.1:{port}/", None, "userinfo"),
    ("http://user@evil.example.test:{port}/", [PUBLIC_IP], "userinfo"),
    ("ftp://127.0.0.1:{port}/", None, "scheme"),
    ("file:///etc/passwd", None, "scheme"),
    ("file://127.0.0.1:{port}/etc/passwd", None, "scheme"),
    ("gopher://127.0.0.1:{port}/_GET", None, "scheme"),
]


@pytest.mark.parametrize(("template", "answer", "code"), REFUSED_VECTORS)
def test_refused_vector_makes_no_connection(
    listener: CountingListener,
    connection_spy: ConnectionSpy,
    template: str,
    answer: list[str] | None,
    code: str,
) -> None:
    resolver = FakeResolver({EVIL: answer} if answer is not None else {})
    # The listener's port is allowed: only the address rules can refuse these.
    policy = AddressPolicy(allowed_ports=frozenset({listener.port}))
    with pytest.raises(LinkRefused) as caught:
        preview_fetch(template.format(port=listener.port), policy=policy, resolver=resolver)
    assert caught.value.code == code
    assert caught.value.message
    assert len(resolver.calls) <= 1
    assert connection_spy.calls == []
    assert listener.connections_before_probe() == []


@pytest.mark.parametrize(
    "template",
    [
        "http://localhost:{port}/",
        "http://2130706433:{port}/",
        "http://127.1:{port}/",
        "http://[::ffff:127.0.0.1]:{port}/",
        "http://user:pass@127.0.0.1:{port}/",
    ],
)
def test_allowed_address_does_not_allow_other_spellings(
    listener: CountingListener, connection_spy: ConnectionSpy, template: str
) -> None:
    policy = AddressPolicy(
        allowed_ports=frozenset({listener.port}), allow_addresses=frozenset({"127.0.0.1"})
    )
    with pytest.raises(LinkRefused):
        preview_fetch(template.format(port=listener.port), policy=policy, resolver=never_called)
    assert connection_spy.calls == []
    assert listener.connections_before_probe() == []


def test_port_not_in_policy_makes_no_connection(
    listener: CountingListener, connection_spy: ConnectionSpy
) -> None:
    # The address is allowed, the port is not: the port rule alone refuses.
    policy = AddressPolicy(allow_addresses=frozenset({"127.0.0.1"}))
    resolver = FakeResolver({HOST: ["127.0.0.1"]})
    with pytest.raises(LinkRefused) as caught:
        preview_fetch(f"http://{HOST}:{listener.port}/", policy=policy, resolver=resolver)
    assert caught.value.code == "port"
    assert resolver.calls == []
    assert connection_spy.calls == []
    assert listener.connections_before_probe() == []


def test_listener_and_spy_do_see_an_allowed_connection(
    listener: CountingListener, connection_spy: ConnectionSpy
) -> None:
    """Control: the same set-up does count a connection when the policy allows it (the
    listener drops it at once, so the fetch itself fails)."""
    policy = AddressPolicy(
        allowed_ports=frozenset({listener.port}), allow_addresses=frozenset({"127.0.0.1"})
    )
    with pytest.raises(LinkFetchFailed):
        preview_fetch(f"http://127.0.0.1:{listener.port}/", policy=policy, timeout=2)
    assert connection_spy.calls == [("http", "127.0.0.1", "127.0.0.1", listener.port)]
    assert len(listener.connections_before_probe()) == 1


# --- Fetching and parsing -------------------------------------------------------------------


def test_open_graph_tags(site: Site, resolver: FakeResolver, connection_spy: ConnectionSpy):
    site.routes["/article?id=7"] = page(OG_PAGE)
    preview = preview_fetch(site.url("/article?id=7"), policy=site.policy(), resolver=resolver)
    assert preview == LinkPreview(
        url=site.url("/article?id=7"),
        final_url=site.url("/article?id=7"),
        title="Portevoix raises & ships",
        description="An article about advocacy.",
        image_url="",  # cdn.example.test does not resolve: the image is dropped
        site_name="Example News",
    )
    # Connected to the checked address; the name went only into the Host header.
    assert connection_spy.calls == [("http", HOST, "127.0.0.1", site.port)]
    assert site.requests == [("/article?id=7", f"{HOST}:{site.port}")]


def test_absolute_image_on_a_public_host_is_kept(site: Site) -> None:
    resolver = FakeResolver({HOST: ["127.0.0.1"], "cdn.example.test": [PUBLIC_IP]})
    site.routes["/"] = page(OG_PAGE)
    policy = AddressPolicy(
        allowed_ports=frozenset({site.port, 443}), allow_addresses=frozenset({"127.0.0.1"})
    )
    preview = preview_fetch(site.url("/"), policy=policy, resolver=resolver)
    assert preview.image_url == "https://cdn.example.test/cover.jpg"
    assert resolver.calls == [(HOST, site.port), ("cdn.example.test", 443)]
    assert site.paths == ["/"]  # the image is checked, never fetched


def test_falls_back_to_title_and_meta_description(site: Site, resolver: FakeResolver) -> None:
    site.routes["/plain"] = page(
        "<html><head><title>\n  Plain &amp; simple\n</title>"
        '<meta name="Description" content="The summary.">'
        "</head><body><svg><title>Not this</title></svg></body></html>"
    )
    preview = preview_fetch(site.url("/plain"), policy=site.policy(), resolver=resolver)
    assert (preview.title, preview.description) == ("Plain & simple", "The summary.")
    assert (preview.image_url, preview.site_name) == ("", "")


def test_untitled_page_gets_a_title_from_its_url(site: Site, resolver: FakeResolver) -> None:
    site.routes["/blog/my%20post"] = page("<html><body>no head</body></html>")
    preview = preview_fetch(site.url("/blog/my%20post"), policy=site.policy(), resolver=resolver)
    assert preview.title == "my post"


def test_relative_image_is_made_absolute_and_not_fetched(
    site: Site, resolver: FakeResolver
) -> None:
    site.routes["/news/story"] = page(
        '<head><meta property="og:title" content="Story">'
        '<meta property="og:image" content="../img/cover.png"></head>'
    )
    site.routes["/img/cover.png"] = page(b"\x89PNG", content_type="image/png")
    preview = preview_fetch(site.url("/news/story"), policy=site.policy(), resolver=resolver)
    assert preview.image_url == site.url("/img/cover.png")
    assert site.paths == ["/news/story"]


@pytest.mark.parametrize(
    "image",
    [
        "http://169.254.169.254/latest/meta-data/iam/",
        "http://10.0.0.1:{port}/x.png",
        "http://localhost:{port}/x.png",
        "http://2130706433:{port}/x.png",
        "//[::1]:{port}/x.png",
        "http://user:pass@news.example.test:{port}/x.png",
        "javascript:alert(1)",
        "data:image/png;base64,AAAA",
        "file:///etc/passwd",
        "/" + "a" * 1100 + ".png",
    ],
)
def test_refused_image_url_is_dropped(site: Site, resolver: FakeResolver, image: str) -> None:
    site.routes["/"] = page(
        '<meta property="og:title" content="Kept">'
        f'<meta property="og:image" content="{image.format(port=site.port)}">'
    )
    preview = preview_fetch(site.url("/"), policy=site.policy(), resolver=resolver)
    assert (preview.title, preview.image_url) == ("Kept", "")
    assert site.paths == ["/"]


def test_redirects_are_followed_and_each_hop_resolved_once(
    site: Site, resolver: FakeResolver, connection_spy: ConnectionSpy
) -> None:
    site.routes["/start"] = redirect("/middle?x=1")
    site.routes["/middle?x=1"] = redirect(site.url("/article"), status=301)
    site.routes["/article"] = page("<title>Arrived</title>")
    preview = preview_fetch(site.url("/start"), policy=site.policy(), resolver=resolver)
    assert (preview.url, preview.final_url) == (site.url("/start"), site.url("/article"))
    assert preview.title == "Arrived"
    assert site.paths == ["/start", "/middle?x=1", "/article"]
    assert resolver.hosts == [HOST, HOST, HOST]
    assert len(connection_spy.calls) == 3


@pytest.mark.parametrize(
    ("location", "code"),
    [
        ("http://10.0.0.1:{port}/", "private"),
        ("http://169.254.169.254:{port}/latest/meta-data/", "link_local"),
        ("http://169.254.169.254/latest/meta-data/", "port"),
        ("http://localhost:{port}/admin", "loopback"),
        ("http://2130706433:{port}/", "loopback"),
        ("http://[::1]:{port}/", "loopback"),
        ("http://[::ffff:10.0.0.1]:{port}/", "private"),
        ("//internal.example.test:{port}/", "private"),
        ("http://rebind.example.test:{port}/", "link_local"),
        ("file:///etc/passwd", "scheme"),
        ("http://user:pw@news.example.test:{port}/", "userinfo"),
    ],
)
def test_redirect_to_a_refused_address_is_refused_on_the_hop(
    site: Site, connection_spy: ConnectionSpy, location: str, code: str
) -> None:
    resolver = FakeResolver(
        {
            HOST: ["127.0.0.1"],
            "internal.example.test": ["192.168.0.10"],
            "rebind.example.test": [PUBLIC_IP, "169.254.169.254"],
        }
    )
    site.routes["/go"] = redirect(location.format(port=site.port))
    with pytest.raises(LinkRefused) as caught:
        preview_fetch(site.url("/go"), policy=site.policy(), resolver=resolver)
    assert caught.value.code == code
    assert site.paths == ["/go"]
    assert connection_spy.calls == [("http", HOST, "127.0.0.1", site.port)]


def _redirect_chain(site: Site, hops: int) -> None:
    for index in range(hops):
        site.routes[f"/hop{index}"] = redirect(f"/hop{index + 1}")
    site.routes[f"/hop{hops}"] = page("<title>End of the chain</title>")


def test_five_redirects_are_followed(site: Site, resolver: FakeResolver) -> None:
    _redirect_chain(site, 5)
    preview = preview_fetch(site.url("/hop0"), policy=site.policy(), resolver=resolver)
    assert preview.title == "End of the chain"
    assert preview.final_url == site.url("/hop5")


def test_six_redirects_fail(site: Site, resolver: FakeResolver) -> None:
    _redirect_chain(site, 6)
    with pytest.raises(LinkFetchFailed) as caught:
        preview_fetch(site.url("/hop0"), policy=site.policy(), resolver=resolver)
    assert caught.value.code == "too_many_redirects"
    assert caught.value.message
    assert site.paths == [f"/hop{index}" for index in range(6)]


def test_redirect_loop_fails(site: Site, resolver: FakeResolver) -> None:
    site.routes["/a"] = redirect("/b")
    site.routes["/b"] = redirect("/a")
    with pytest.raises(LinkFetchFailed) as caught:
        preview_fetch(site.url("/a"), policy=site.policy(), resolver=resolver, max_redirects=3)
    assert caught.value.code == "too_many_redirects"
    assert len(site.paths) == 4


def test_redirect_without_location_fails(site: Site, resolver: FakeResolver) -> None:
    site.routes["/"] = page("", status=302, content_type=None)
    with pytest.raises(LinkFetchFailed):
        preview_fetch(site.url("/"), policy=site.policy(), resolver=resolver)


@pytest.mark.parametrize("status", [400, 403, 404, 410, 500, 503])
def test_error_status_fails(site: Site, resolver: FakeResolver, status: int) -> None:
    site.routes["/"] = page("<title>Error page</title>", status=status)
    with pytest.raises(LinkFetchFailed) as caught:
        preview_fetch(site.url("/"), policy=site.policy(), resolver=resolver)
    assert caught.value.code == "status"
    assert str(status) in caught.value.message


@pytest.mark.parametrize("max_bytes", [50_000, 1_000_000])
def test_huge_body_is_cut_at_max_bytes(site: Site, resolver: FakeResolver, max_bytes: int):
    site.routes["/huge"] = endless(b'<head><meta property="og:title" content="Big page">')
    started = time.monotonic()
    preview = preview_fetch(
        site.url("/huge"), policy=site.policy(), resolver=resolver, max_bytes=max_bytes
    )
    assert preview.title == "Big page"
    assert time.monotonic() - started < 3


def test_content_after_max_bytes_is_not_parsed(site: Site, resolver: FakeResolver) -> None:
    padding = "<!-- " + "p" * 20_000 + " -->"
    site.routes["/"] = page(
        '<meta property="og:title" content="Early">'
        + padding
        + '<meta property="og:description" content="Too late">'
    )
    preview = preview_fetch(
        site.url("/"), policy=site.policy(), resolver=resolver, max_bytes=10_000
    )
    assert (preview.title, preview.description) == ("Early", "")
    full = preview_fetch(site.url("/"), policy=site.policy(), resolver=resolver)
    assert full.description == "Too late"


def test_server_that_never_answers_fails_within_the_timeout(resolver: FakeResolver) -> None:
    # Listening but never accepting: the kernel completes the handshake, nobody answers.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        policy = AddressPolicy(
            allowed_ports=frozenset({port}), allow_addresses=frozenset({"127.0.0.1"})
        )
        started = time.monotonic()
        with pytest.raises(LinkFetchFailed) as caught:
            preview_fetch(f"http://{HOST}:{port}/", policy=policy, resolver=resolver, timeout=0.5)
        elapsed = time.monotonic() - started
    assert caught.value.code == "timeout"
    assert elapsed < 3


def test_dripping_server_is_cut_by_the_overall_deadline(site: Site, resolver: FakeResolver) -> None:
    site.routes["/slow"] = dripping_headers
    started = time.monotonic()
    with pytest.raises(LinkFetchFailed) as caught:
        preview_fetch(site.url("/slow"), policy=site.policy(), resolver=resolver, timeout=0.5)
    assert caught.value.code == "timeout"
    assert time.monotonic() - started < 3


def test_refused_connection_fails(resolver: FakeResolver) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]  # bound, not listening: connections are refused
        policy = AddressPolicy(
            allowed_ports=frozenset({port}), allow_addresses=frozenset({"127.0.0.1"})
        )
        with pytest.raises(LinkFetchFailed) as caught:
            preview_fetch(f"http://{HOST}:{port}/", policy=policy, resolver=resolver, timeout=2)
    assert caught.value.code == "connect"


def test_dns_rebinding_connects_to_the_checked_address_only(
    site: Site, connection_spy: ConnectionSpy
) -> None:
    """The first answer (allowed) is checked and used; a second lookup would get a private
    address. The fetch succeeds, so nothing looked the name up again: not us, not
    http.client (news.example.test does not exist in real DNS either)."""
    resolver = FakeResolver({HOST: lambda call: ["127.0.0.1"] if call == 1 else ["10.0.0.1"]})
    site.routes["/"] = page("<title>Checked address</title>")
    preview = preview_fetch(site.url("/"), policy=site.policy(), resolver=resolver)
    assert preview.title == "Checked address"
    assert resolver.calls == [(HOST, site.port)]
    assert connection_spy.calls == [("http", HOST, "127.0.0.1", site.port)]
    assert site.requests == [("/", f"{HOST}:{site.port}")]


def test_dns_rebinding_on_a_redirect_hop_is_refused(site: Site) -> None:
    resolver = FakeResolver({HOST: lambda call: ["127.0.0.1"] if call == 1 else ["10.0.0.1"]})
    site.routes["/"] = redirect("/next")
    with pytest.raises(LinkRefused) as caught:
        preview_fetch(site.url("/"), policy=site.policy(), resolver=resolver)
    assert caught.value.code == "private"
    assert site.paths == ["/"]


def test_non_html_gets_a_title_from_its_url(site: Site, resolver: FakeResolver) -> None:
    site.routes["/files/annual-report.pdf"] = page(b"%PDF-1.7", content_type="application/pdf")
    site.routes["/"] = page(b"\x89PNG", content_type="image/png")
    preview = preview_fetch(
        site.url("/files/annual-report.pdf"), policy=site.policy(), resolver=resolver
    )
    assert (preview.title, preview.description, preview.image_url, preview.site_name) == (
        "annual-report.pdf",
        "",
        "",
        "",
    )
    assert preview_fetch(site.url("/"), policy=site.policy(), resolver=resolver).title == HOST


def test_missing_content_type_is_sniffed(site: Site, resolver: FakeResolver) -> None:
    site.routes["/html"] = page("<!DOCTYPE html><title>Sniffed</title>", content_type=None)
    site.routes["/text"] = page("<title>plain text</title>", content_type="text/plain")
    site.routes["/data"] = page(b"\x00\x01binary", content_type=None)
    policy = site.policy()
    assert preview_fetch(site.url("/html"), policy=policy, resolver=resolver).title == "Sniffed"
    assert preview_fetch(site.url("/text"), policy=policy, resolver=resolver).title == "text"
    assert preview_fetch(site.url("/data"), policy=policy, resolver=resolver).title == "data"


@pytest.mark.parametrize(
    ("body", "content_type", "title"),
    [
        ("<title>Café</title>".encode("iso-8859-1"), "text/html; charset=ISO-8859-1", "Café"),
        (
            '<meta charset="windows-1252"><title>Œuvre “quoted”</title>'.encode("cp1252"),
            "text/html",
            "Œuvre “quoted”",
        ),
        (
            '<meta http-equiv="Content-Type" content="text/html; charset=koi8-r">'
            "<title>Привет</title>".encode("koi8-r"),
            "text/html",
            "Привет",
        ),
        ("<title>Ünïcödé</title>".encode(), "text/html", "Ünïcödé"),
        (b"\xef\xbb\xbf<title>BOM</title>", "text/html; charset=iso-8859-1", "BOM"),
        (b"<title>Bad \xff\xfe bytes</title>", "text/html; charset=utf-8", "Bad �� bytes"),
        (b"<title>Rot</title>", "text/html; charset=rot13", "Rot"),
        (b"<title>Nope</title>", "text/html; charset=x-unknown", "Nope"),
    ],
)
def test_charset_decoding(
    site: Site, resolver: FakeResolver, body: bytes, content_type: str, title: str
) -> None:
    site.routes["/"] = page(body, content_type=content_type)
    assert preview_fetch(site.url("/"), policy=site.policy(), resolver=resolver).title == title


def test_fields_are_trimmed(site: Site, resolver: FakeResolver) -> None:
    site.routes["/"] = page(
        f'<meta property="og:title" content="{"T" * 500}">'
        f'<meta property="og:description" content="{"word " * 600}">'
        f'<meta property="og:site_name" content="Site\x07 name">'
    )
    preview = preview_fetch(site.url("/"), policy=site.policy(), resolver=resolver)
    assert len(preview.title) == 300
    assert preview.title.endswith("…")
    assert len(preview.description) <= 1000
    assert preview.description.endswith("…")
    assert preview.site_name == "Site name"


def test_request_target_is_percent_encoded(site: Site, resolver: FakeResolver) -> None:
    site.routes["/caf%C3%A9?q=%C3%A9t%C3%A9&a=b"] = page("<title>Encoded</title>")
    preview = preview_fetch(
        site.url("/café?q=été&a=b#frag"), policy=site.policy(), resolver=resolver
    )
    assert preview.title == "Encoded"


def test_host_header_omits_the_default_port(monkeypatch: pytest.MonkeyPatch) -> None:
    sent: list[bytes] = []

    class Recorder:
        def __init__(self, *args: Any) -> None:
            pass

        def sendall(self, data: bytes) -> None:
            sent.append(data)
            raise TimeoutError

        def close(self) -> None:
            pass

    monkeypatch.setattr(linkpreview, "_connect", lambda *args: object())
    monkeypatch.setattr(linkpreview, "_DeadlineSocket", Recorder)
    with pytest.raises(LinkFetchFailed):
        preview_fetch(f"http://{HOST}/x", resolver=FakeResolver({HOST: [PUBLIC_IP]}))
    assert b"Host: news.example.test\r\n" in sent[0]
    assert sent[0].startswith(b"GET /x HTTP/1.1\r\n")


def test_policy_from_settings(settings: Any) -> None:
    settings.LINK_PREVIEW_EXTRA_PORTS = [8000]
    settings.LINK_PREVIEW_ALLOW_ADDRESSES = ["127.0.0.1"]
    assert linkpreview.policy_from_settings() == AddressPolicy(
        allowed_ports=frozenset({80, 443, 8000}), allow_addresses=frozenset({"127.0.0.1"})
    )
    settings.LINK_PREVIEW_EXTRA_PORTS = []
    settings.LINK_PREVIEW_ALLOW_ADDRESSES = []
    assert linkpreview.policy_from_settings() == AddressPolicy()


def test_errors_keep_their_code_when_pickled() -> None:
    for error in (LinkRefused("Refused.", "private"), LinkFetchFailed("Failed.", "timeout")):
        copy = pickle.loads(pickle.dumps(error))  # noqa: S301 (our own bytes)
        assert (type(copy), copy.message, copy.code) == (type(error), error.message, error.code)


# --- HTTPS: connect to the checked IP, verify the certificate against the name -------------


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl is not installed")
    directory = tmp_path_factory.mktemp("tls")
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [
            openssl,
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "2",
            "-subj",
            f"/CN={HOST}",
            "-addext",
            f"subjectAltName=DNS:{HOST}",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


@pytest.fixture
def tls_site(certificate: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> Iterator[Site]:
    cert, key = certificate
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(cert, key)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.socket = server_context.wrap_socket(server.socket, server_side=True)

    def trusting_context() -> ssl.SSLContext:
        context = ssl.create_default_context(cafile=str(cert))
        assert context.check_hostname and context.verify_mode == ssl.CERT_REQUIRED
        return context

    monkeypatch.setattr(linkpreview, "_tls_context", trusting_context)
    yield from _serve(Site(port=server.server_address[1], scheme="https"), server)


def test_https_verifies_the_name_while_connecting_to_the_ip(
    tls_site: Site, resolver: FakeResolver, connection_spy: ConnectionSpy
) -> None:
    # The certificate names news.example.test only (no IP): verifying against the IP
    # would fail.
    tls_site.routes["/"] = page(OG_PAGE)
    preview = preview_fetch(tls_site.url("/"), policy=tls_site.policy(), resolver=resolver)
    assert preview.title == "Portevoix raises & ships"
    assert connection_spy.calls == [("https", HOST, "127.0.0.1", tls_site.port)]
    assert tls_site.requests == [("/", f"{HOST}:{tls_site.port}")]


def test_https_certificate_for_another_name_fails(tls_site: Site) -> None:
    resolver = FakeResolver({"other.example.test": ["127.0.0.1"]})
    tls_site.routes["/"] = page(OG_PAGE)
    with pytest.raises(LinkFetchFailed) as caught:
        preview_fetch(
            tls_site.url("/", host="other.example.test"),
            policy=tls_site.policy(),
            resolver=resolver,
        )
    assert caught.value.code == "certificate"
    assert tls_site.requests == []


def test_https_untrusted_certificate_fails(
    tls_site: Site, resolver: FakeResolver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(linkpreview, "_tls_context", ssl.create_default_context)
    with pytest.raises(LinkFetchFailed) as caught:
        preview_fetch(tls_site.url("/"), policy=tls_site.policy(), resolver=resolver)
    assert caught.value.code == "certificate"


def test_https_to_a_plain_http_server_fails(site: Site, resolver: FakeResolver) -> None:
    site.routes["/"] = page(OG_PAGE)
    with pytest.raises(LinkFetchFailed) as caught:
        preview_fetch(
            f"https://{HOST}:{site.port}/", policy=site.policy(), resolver=resolver, timeout=2
        )
    assert caught.value.code in {"tls", "connect"}
