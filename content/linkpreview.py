"""Open Graph link previews for links that editors paste, fetched without SSRF.

An editor pastes a URL; a Celery task calls :func:`preview_fetch` to get a title, a
description, an image and the site name. The URL is attacker-controlled, so every hop is
checked by :func:`url_check` before any connection is made:

* only ``http`` and ``https``; no user info (``user:pass@``); only the ports of the
  :class:`AddressPolicy` (80 and 443 by default);
* the host name is resolved **once** (``resolver``, ``socket.getaddrinfo`` by default) and
  **every** address it resolves to must be public. The connection then goes to one of those
  checked addresses, never to the name again, so a DNS answer that changes between the check
  and the connection (DNS rebinding) cannot reach anything else. ``http`` sends the name in
  the ``Host`` header; ``https`` wraps the socket with ``server_hostname=<name>`` so the
  certificate is still verified against the name;
* refused: loopback, private (RFC 1918, ``fc00::/7``), link-local (with the cloud metadata
  address ``169.254.169.254``), shared address space ``100.64.0.0/10``, multicast,
  broadcast, unspecified, documentation, benchmarking and other reserved ranges; IPv6
  outside global unicast ``2000::/3``; IPv4-mapped IPv6, NAT64 ``64:ff9b::/96`` and 6to4
  ``2002::/16`` are judged by the IPv4 address they embed; ``64:ff9b:1::/48`` and Teredo
  ``2001::/32`` are refused; ``localhost``, ``*.localhost`` (also with a trailing dot);
  hosts that resolve to nothing; IPv4 hosts not written as a canonical dotted quad
  (``2130706433``, ``0x7f000001``, ``0177.0.0.1``, ``127.1``: these are parsed the way
  ``inet_aton`` parses them, and always refused, with the reason of the address they stand
  for when it is not public);
* redirects: at most ``max_redirects``; each ``Location`` is resolved against the current
  URL and goes through the full check again before the next connection;
* one deadline (``timeout``, 5 s by default) covers every connection, TLS handshake, send
  and receive of every hop. Name resolution cannot be interrupted from Python: the system
  resolver's own timeout applies to it, and the deadline is checked again right after it;
* at most ``max_bytes`` of body are read; what was read is parsed (a body cut by the limit,
  or by the deadline once some of it arrived, still gives a preview).

Only ``text/html`` and ``application/xhtml+xml`` bodies are parsed (a response without a
Content-Type is parsed when it starts like HTML). Anything else (a PDF, an image...) gives a
preview whose title comes from the URL (the last path segment, or the host name) and whose
description, image and site name are empty; its body is not read.

The image URL (``og:image``) is made absolute and checked with the same rules, but
:func:`preview_fetch` never fetches it; an image URL that fails the check, or is longer than
1000 characters, is dropped (the preview keeps its other fields). Text fields are
whitespace-collapsed and trimmed (title 300 characters, description 1000, site name 200; a
trimmed field ends with "…"). A page without any title gets the title a non-HTML response
would get.

:func:`image_fetch` downloads such an image through the same machinery (every hop checked,
pinned addresses, one deadline, redirects checked) and returns its bytes and content type.
It only accepts a complete body: a ``Content-Type`` of JPEG, PNG, WebP or GIF (the formats the
image pipeline takes; SVG and anything untyped are refused without reading the body), at
most ``max_bytes`` (``settings.IMAGE_MAX_BYTES`` by default; a larger ``Content-Length`` is
refused before reading, a longer body after one byte too many), and not cut short by the
deadline or the connection. The bytes are unchecked: they must still go through the image
pipeline (``organizations.images``) before being stored or served.

A Celery time limit should still wrap the task (name resolution is not bounded by
``timeout``).

Optional settings: ``LINK_PREVIEW_USER_AGENT``; ``LINK_PREVIEW_EXTRA_PORTS`` and
``LINK_PREVIEW_ALLOW_ADDRESSES`` are read by :func:`policy_from_settings` only (for the local
demo), never implicitly: the default policy allows ports 80 and 443 and no exception.
"""

from __future__ import annotations

import codecs
import http.client
import io
import ipaddress
import re
import socket
import ssl
import time
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from html.parser import HTMLParser
from typing import Any
from urllib.parse import quote, unquote, urljoin, urlsplit

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext as _

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[..., Any]

MAX_URL_LENGTH = 2048
TITLE_MAX_LENGTH = 300
DESCRIPTION_MAX_LENGTH = 1000
SITE_NAME_MAX_LENGTH = 200
IMAGE_URL_MAX_LENGTH = 1000  # a longer image URL is dropped, never cut into a broken one
DEFAULT_USER_AGENT = "PortevoixLinkPreview/1.0"

_SCHEMES = {"http": 80, "https": 443}
_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
# The formats of organizations.images.ALLOWED_IMAGE_FORMATS, as HTTP announces them.
IMAGE_CONTENT_TYPES = frozenset(
    {"image/jpeg", "image/jpg", "image/pjpeg", "image/png", "image/webp", "image/gif"}
)
DEFAULT_IMAGE_MAX_BYTES = 5 * 1024 * 1024
_READ_CHUNK = 64 * 1024
_SNIFF_BYTES = 4096

# A host name label: letters, digits, hyphen, underscore (seen in the wild), 1 to 63 chars.
_LABEL_RE = re.compile(r"[a-z0-9_-]{1,63}")
# The last label of a host that is meant as an IPv4 address (WHATWG "ends in a number").
_NUMERIC_LABEL_RE = re.compile(r"(?:0x[0-9a-f]*|[0-9]+)")
_HEX_RE = re.compile(r"[0-9a-f]*")
_OCTAL_RE = re.compile(r"[0-7]+")
_DECIMAL_RE = re.compile(r"[0-9]+")
_META_CHARSET_RE = re.compile(rb"<meta[^>]*?charset\s*=\s*[\"']?\s*([a-zA-Z0-9_.:-]+)", re.I)
_HTML_START_RE = re.compile(
    rb"\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head|meta|title)", re.I | re.S
)
_CONTROL = frozenset({"Cc", "Cs"})
# Request target characters kept as they are; everything else is percent-encoded (UTF-8).
_PATH_SAFE = "/%:@!$&'()*+,;=-._~"
_QUERY_SAFE = _PATH_SAFE + "?"
# The HTML standard decodes these labels as windows-1252.
_CHARSET_ALIASES = {
    "iso-8859-1": "cp1252",
    "iso8859-1": "cp1252",
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "l1": "cp1252",
    "us-ascii": "cp1252",
    "ascii": "cp1252",
    "utf-16": "utf-8",  # a meta or header declaring UTF-16 on an ASCII-compatible body
    "utf-16le": "utf-8",
    "utf-16be": "utf-8",
}


class LinkRefused(Exception):
    """The URL must not be fetched. ``message`` is a translated, user-facing explanation;
    ``code`` names the rule (``scheme``, ``userinfo``, ``port``, ``invalid``, ``loopback``,
    ``private``, ``shared``, ``link_local``, ``multicast``, ``broadcast``, ``unspecified``,
    ``reserved``, ``transition``, ``numeric_form``, ``unresolvable``)."""

    def __init__(self, message: str, code: str = "refused") -> None:
        super().__init__(message)
        self.message = message
        self.code = code

    def __reduce__(self) -> tuple[Any, ...]:  # pickled by Celery with its code
        return (self.__class__, (self.message, self.code))


class LinkFetchFailed(Exception):
    """The URL was allowed but fetching it failed: network error, timeout, TLS error, an
    HTTP status of 400 or more, an invalid response or too many redirects. ``message`` is a
    translated, user-facing explanation; ``code`` names the failure."""

    def __init__(self, message: str, code: str = "failed") -> None:
        super().__init__(message)
        self.message = message
        self.code = code

    def __reduce__(self) -> tuple[Any, ...]:
        return (self.__class__, (self.message, self.code))


@dataclass(frozen=True)
class AddressPolicy:
    """Which ports may be used, and which exact IP addresses are allowed despite the rules
    (tests and the local demo only: never put a real private address here in production).
    An allowed address must appear exactly (after normalisation, "::1" == "0::1"); it does
    not allow host names such as "localhost", nor non-canonical numeric forms of itself."""

    allowed_ports: frozenset[int] = frozenset({80, 443})
    allow_addresses: frozenset[str] = frozenset()


@dataclass(frozen=True)
class LinkPreview:
    url: str
    final_url: str
    title: str
    description: str
    image_url: str
    site_name: str


def policy_from_settings() -> AddressPolicy:
    """The policy of the optional settings: ports 80 and 443 plus
    ``LINK_PREVIEW_EXTRA_PORTS``, and the ``LINK_PREVIEW_ALLOW_ADDRESSES`` exceptions."""
    ports = _setting("LINK_PREVIEW_EXTRA_PORTS", None) or ()
    addresses = _setting("LINK_PREVIEW_ALLOW_ADDRESSES", None) or ()
    return AddressPolicy(
        allowed_ports=AddressPolicy().allowed_ports | {int(port) for port in ports},
        allow_addresses=frozenset(str(address) for address in addresses),
    )


# --------------------------------------------------------------------------------------
# Address rules


def _v4(networks: Iterable[tuple[str, str]]) -> tuple[tuple[ipaddress.IPv4Network, str], ...]:
    return tuple((ipaddress.IPv4Network(net), code) for net, code in networks)


def _v6(networks: Iterable[tuple[str, str]]) -> tuple[tuple[ipaddress.IPv6Network, str], ...]:
    return tuple((ipaddress.IPv6Network(net), code) for net, code in networks)


# First match wins. Our own table, so the result does not depend on the Python version's
# idea of is_private / is_global.
_IPV4_RULES = _v4(
    [
        ("0.0.0.0/8", "unspecified"),  # "this network": 0.0.0.0 reaches the local host
        ("10.0.0.0/8", "private"),
        ("100.64.0.0/10", "shared"),  # carrier-grade NAT
        ("127.0.0.0/8", "loopback"),
        ("169.254.0.0/16", "link_local"),  # includes 169.254.169.254 (cloud metadata)
        ("172.16.0.0/12", "private"),
        ("192.0.0.0/24", "reserved"),  # IETF protocol assignments
        ("192.0.2.0/24", "reserved"),  # documentation
        ("192.88.99.0/24", "reserved"),  # 6to4 relay anycast (deprecated)
        ("192.168.0.0/16", "private"),
        ("198.18.0.0/15", "reserved"),  # benchmarking
        ("198.51.100.0/24", "reserved"),  # documentation
        ("203.0.113.0/24", "reserved"),  # documentation
        ("224.0.0.0/4", "multicast"),
        ("255.255.255.255/32", "broadcast"),
        ("240.0.0.0/4", "reserved"),
    ]
)
_IPV6_RULES = _v6(
    [
        ("::/128", "unspecified"),
        ("::1/128", "loopback"),
        ("64:ff9b:1::/48", "transition"),  # local-use NAT64
        ("100::/64", "reserved"),  # discard-only
        ("2001::/32", "transition"),  # Teredo
        ("2001::/23", "reserved"),  # IETF protocol assignments
        ("2001:db8::/32", "reserved"),  # documentation
        ("3fff::/20", "reserved"),  # documentation
        ("5f00::/16", "reserved"),  # segment routing
        ("fc00::/7", "private"),  # unique local
        ("fe80::/10", "link_local"),
        ("fec0::/10", "private"),  # site-local (deprecated)
        ("ff00::/8", "multicast"),
    ]
)
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_GLOBAL_UNICAST = ipaddress.IPv6Network("2000::/3")


def _ipv4_problem(address: ipaddress.IPv4Address) -> str | None:
    for network, code in _IPV4_RULES:
        if address in network:
            return code
    if not address.is_global:
        return "reserved"
    return None


def _address_problem(address: IPAddress, allowed: frozenset[IPAddress]) -> str | None:
    """The rule ``address`` breaks (a LinkRefused code), or None when it is public."""
    if address in allowed:
        return None
    if isinstance(address, ipaddress.IPv4Address):
        return _ipv4_problem(address)
    if address.scope_id:
        return "link_local"
    mapped = address.ipv4_mapped
    if mapped is not None:
        return _ipv4_problem(mapped)
    if address in _NAT64:
        return _ipv4_problem(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    sixtofour = address.sixtofour
    if sixtofour is not None:
        return _ipv4_problem(sixtofour)
    for network, code in _IPV6_RULES:
        if address in network:
            return code
    if address not in _GLOBAL_UNICAST or not address.is_global:
        return "reserved"
    return None


@lru_cache(maxsize=32)
def _allowed(addresses: frozenset[str]) -> frozenset[IPAddress]:
    parsed: set[IPAddress] = set()
    for text in addresses:
        try:
            parsed.add(ipaddress.ip_address(text.strip()))
        except ValueError:
            continue  # a typo in a test or demo setting allows nothing
    return frozenset(parsed)


def _refused(code: str) -> LinkRefused:
    messages = {
        "scheme": _("Only http and https links can be previewed."),
        "userinfo": _("Links containing a user name or password cannot be previewed."),
        "port": _("Links to this port cannot be previewed."),
        "invalid": _("This link is not a valid web address."),
        "loopback": _("This address points to the server itself and cannot be previewed."),
        "private": _("This address points to a private network and cannot be previewed."),
        "shared": _("This address points to a private network and cannot be previewed."),
        "link_local": _(
            "This address points to a link-local or cloud metadata address and cannot be previewed."
        ),
        "multicast": _("This address is a multicast address and cannot be previewed."),
        "broadcast": _("This address is a broadcast address and cannot be previewed."),
        "unspecified": _("This address is not a real destination and cannot be previewed."),
        "reserved": _("This address is reserved and cannot be previewed."),
        "transition": _("This address uses an IPv6 transition mechanism and cannot be previewed."),
        "numeric_form": _(
            "This address is written in an unusual numeric form and cannot be previewed."
        ),
        "unresolvable": _("This web address could not be found."),
    }
    return LinkRefused(messages.get(code, messages["invalid"]), code)


def _failed(code: str, **params: Any) -> LinkFetchFailed:
    messages = {
        "timeout": _("The site took too long to answer."),
        "connect": _("The site could not be reached."),
        "tls": _("A secure connection to the site could not be established."),
        "certificate": _("The site's security certificate could not be verified."),
        "invalid_response": _("The site sent an invalid response."),
        "status": _("The site answered with an error (HTTP %(status)s)."),
        "redirect_without_location": _("The site sent a redirect without a destination."),
        "too_many_redirects": _("The link redirects too many times."),
        "not_image": _("The link does not point to a JPEG, PNG, WebP or GIF image."),
        "too_large": _("The image is too large to be downloaded."),
    }
    message = messages[code]
    return LinkFetchFailed(message % params if params else message, code)


# --------------------------------------------------------------------------------------
# URL check


def _parse_ipv4_like(host: str) -> ipaddress.IPv4Address | None:
    """Parse ``host`` the way ``inet_aton`` does: 1 to 4 parts, each decimal, octal (leading
    0) or hexadecimal (0x), the last part filling the remaining bytes. None if invalid."""
    parts = host.split(".")
    if not 1 <= len(parts) <= 4:
        return None
    numbers: list[int] = []
    for part in parts:
        if part.startswith("0x"):
            digits, base, pattern = part[2:], 16, _HEX_RE
        elif len(part) > 1 and part.startswith("0"):
            digits, base, pattern = part[1:], 8, _OCTAL_RE
        else:
            digits, base, pattern = part, 10, _DECIMAL_RE
        if not pattern.fullmatch(digits):
            return None
        numbers.append(int(digits or "0", base))
    *leading, last = numbers
    if any(number > 255 for number in leading) or last >= 256 ** (4 - len(leading)):
        return None
    value = last
    for index, number in enumerate(leading):
        value += number << (8 * (3 - index))
    return ipaddress.IPv4Address(value)


def _host_name(hostname: str) -> str:
    """A DNS host name in ASCII lower case without its trailing dot, or LinkRefused."""
    if hostname.endswith("."):
        hostname = hostname[:-1]
    if not hostname or hostname.endswith("."):
        raise _refused("invalid")
    if not hostname.isascii():
        try:
            hostname = hostname.encode("idna").decode("ascii")
        except UnicodeError:
            raise _refused("invalid") from None
    hostname = hostname.lower()
    labels = hostname.split(".")
    if len(hostname) > 253 or not all(_LABEL_RE.fullmatch(label) for label in labels):
        raise _refused("invalid")
    return hostname


def _literal_address(hostname: str, bracketed: bool) -> IPAddress | None:
    """The IP address written in the URL, None for a host name, or LinkRefused."""
    if bracketed:
        try:
            address = ipaddress.ip_address(hostname)
        except ValueError:
            raise _refused("invalid") from None
        if not isinstance(address, ipaddress.IPv6Address):
            raise _refused("invalid")
        return address
    if not _NUMERIC_LABEL_RE.fullmatch(hostname.rsplit(".", 1)[-1]):
        try:
            socket.inet_aton(hostname)
        except OSError:
            return None
        raise _refused("numeric_form")  # belt and braces: inet_aton would take it
    ipv4 = _parse_ipv4_like(hostname)
    if ipv4 is None:
        raise _refused("invalid")
    if str(ipv4) != hostname:
        raise _refused(_ipv4_problem(ipv4) or "numeric_form")
    return ipv4


def url_check(
    url: str,
    *,
    policy: AddressPolicy = AddressPolicy(),
    resolver: Resolver = socket.getaddrinfo,
) -> tuple[str, int, str, list[str]]:
    """Check ``url`` and resolve its host once.

    Returns ``(scheme, port, host, checked_ips)``: ``host`` is the ASCII host name (no
    trailing dot, IDNA-encoded) or the IP address written in the URL, ``checked_ips`` the
    addresses it resolved to, all public (or exactly allowed by the policy), in resolver
    order. Raises LinkRefused otherwise. ``resolver`` has the signature of
    ``socket.getaddrinfo`` (it is called as ``resolver(host, port, type=SOCK_STREAM)``)
    and is not called for IP literals.
    """
    if not isinstance(url, str):
        raise _refused("invalid")
    url = url.strip()
    if not url or len(url) > MAX_URL_LENGTH:
        raise _refused("invalid")
    if any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F or ch == "\\" for ch in url):
        raise _refused("invalid")
    try:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in _SCHEMES:
            raise _refused("scheme")
        if "@" in parts.netloc:
            raise _refused("userinfo")
        port = parts.port
        hostname = parts.hostname
    except ValueError:  # bad port, bad brackets
        raise _refused("invalid") from None
    if not hostname:
        raise _refused("invalid")
    if port is None:
        port = _SCHEMES[scheme]
    if port not in policy.allowed_ports:
        raise _refused("port")

    bracketed = parts.netloc.startswith("[")
    if not bracketed:
        hostname = _host_name(hostname)
        if hostname == "localhost" or hostname.endswith(".localhost"):
            raise _refused("loopback")
    allowed = _allowed(policy.allow_addresses)

    literal = _literal_address(hostname, bracketed)
    if literal is not None:
        problem = _address_problem(literal, allowed)
        if problem:
            raise _refused(problem)
        return scheme, port, hostname, [str(literal)]

    try:
        infos = resolver(hostname, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise _refused("unresolvable") from None
    checked: list[str] = []
    for info in infos or ():
        try:
            address = ipaddress.ip_address(info[4][0])
        except (ValueError, TypeError, IndexError):
            raise _refused("invalid") from None
        problem = _address_problem(address, allowed)
        if problem:
            raise _refused(problem)
        if str(address) not in checked:
            checked.append(str(address))
    if not checked:
        raise _refused("unresolvable")
    return scheme, port, hostname, checked


# --------------------------------------------------------------------------------------
# Fetching


def _setting(name: str, default: Any) -> Any:
    try:
        return getattr(settings, name, default)
    except ImproperlyConfigured:
        return default


def _tls_context() -> ssl.SSLContext:
    """The TLS context for https (system trust store, certificate and name checked)."""
    return ssl.create_default_context()


def _remaining(deadline: float) -> float:
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise TimeoutError("link preview deadline reached")
    return remaining


def _connect(scheme: str, host: str, ip: str, port: int, deadline: float) -> socket.socket:
    """A socket connected to the already checked ``ip`` (no name resolution happens here),
    wrapped in TLS verified against ``host`` for https."""
    version = ipaddress.ip_address(ip).version
    family = socket.AF_INET6 if version == 6 else socket.AF_INET
    address: tuple[Any, ...] = (ip, port, 0, 0) if version == 6 else (ip, port)
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.settimeout(_remaining(deadline))
        sock.connect(address)
        if scheme == "https":
            sock.settimeout(_remaining(deadline))
            return _tls_context().wrap_socket(sock, server_hostname=host)
        return sock
    except BaseException:
        sock.close()
        raise


class _DeadlineSocket:
    """Enough of a socket for http.client, where every send and receive gets the time left
    before the deadline as its timeout, so a server that drips bytes cannot hold us.

    Like ``socket.makefile``, the socket really closes once it and its readers are all
    closed (http.client closes the connection as soon as a response will close it)."""

    def __init__(self, sock: socket.socket, deadline: float) -> None:
        self._sock = sock
        self._deadline = deadline
        self._readers = 0
        self._closed = False

    def sendall(self, data: bytes) -> None:
        self._sock.settimeout(_remaining(self._deadline))
        self._sock.sendall(data)

    def recv_into(self, buffer: Any) -> int:
        self._sock.settimeout(_remaining(self._deadline))
        return self._sock.recv_into(buffer)

    def makefile(self, mode: str = "rb", *args: Any, **kwargs: Any) -> io.BufferedReader:
        self._readers += 1
        return io.BufferedReader(_DeadlineReader(self))

    def reader_closed(self) -> None:
        self._readers -= 1
        if self._closed and self._readers <= 0:
            self._sock.close()

    def close(self) -> None:
        self._closed = True
        if self._readers <= 0:
            self._sock.close()


class _DeadlineReader(io.RawIOBase):
    def __init__(self, sock: _DeadlineSocket) -> None:
        self._deadline_sock = sock

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        return self._deadline_sock.recv_into(buffer)

    def close(self) -> None:
        if not self.closed:
            self._deadline_sock.reader_closed()
        super().close()


class _PinnedConnection(http.client.HTTPConnection):
    """An HTTP(S) connection to checked addresses: the name goes only to the Host header
    and to TLS (SNI and certificate check), never to a resolver."""

    def __init__(self, scheme: str, host: str, port: int, ips: list[str], deadline: float):
        super().__init__(host, port)
        self.default_port = _SCHEMES[scheme]  # Host header without the default port
        self._scheme = scheme
        self._ips = ips
        self._deadline = deadline

    def connect(self) -> None:
        error: OSError | None = None
        for ip in self._ips:
            try:
                sock = _connect(self._scheme, self.host, ip, self.port, self._deadline)
            except ssl.SSLError:
                raise  # the address answered: a TLS problem is not a reason to try another
            except OSError as exc:
                error = exc
                continue
            self.sock = _DeadlineSocket(sock, self._deadline)  # type: ignore[assignment]
            return
        assert error is not None
        raise error


@dataclass(frozen=True)
class _Wanted:
    """What a fetch accepts: the ``Accept`` header, the content types whose body is read,
    whether an untyped body is read, and whether the body must arrive whole (an image) or
    may be cut by the byte limit, the deadline or the connection (a page head)."""

    accept: str
    types: frozenset[str]
    untyped: bool
    whole: bool


_PAGE = _Wanted(
    accept="text/html,application/xhtml+xml;q=0.9,*/*;q=0.1",
    types=_HTML_TYPES,
    untyped=True,
    whole=False,
)
_IMAGE = _Wanted(
    accept="image/webp,image/png,image/jpeg,image/gif;q=0.9",
    types=IMAGE_CONTENT_TYPES,
    untyped=False,
    whole=True,
)


@dataclass
class _Response:
    status: int
    location: str | None = None
    content_type: str | None = None  # None: no Content-Type header
    charset: str | None = None
    body: bytes = b""
    body_read: bool = False
    too_large: bool = False  # a whole body was wanted and it is over the limit
    etag: str = ""  # validators for a later conditional request (document_fetch)
    last_modified: str = ""


def _request_target(url: str) -> str:
    parts = urlsplit(url)
    target = quote(parts.path or "/", safe=_PATH_SAFE)
    if parts.query:
        target += "?" + quote(parts.query, safe=_QUERY_SAFE)
    return target


def _fetch_once(
    url: str,
    scheme: str,
    host: str,
    port: int,
    ips: list[str],
    deadline: float,
    max_bytes: int,
    wanted: _Wanted = _PAGE,
    conditional: Mapping[str, str] | None = None,
) -> _Response:
    connection = _PinnedConnection(scheme, host, port, ips, deadline)
    response: http.client.HTTPResponse | None = None
    try:
        connection.request(
            "GET",
            _request_target(url),
            headers={
                "User-Agent": _setting("LINK_PREVIEW_USER_AGENT", DEFAULT_USER_AGENT),
                "Accept": wanted.accept,
                "Connection": "close",
                **(conditional or {}),
            },
        )
        response = connection.getresponse()
        result = _Response(
            status=response.status,
            etag=(response.getheader("ETag") or "")[:300],
            last_modified=(response.getheader("Last-Modified") or "")[:100],
        )
        if response.status in _REDIRECT_STATUSES:
            result.location = response.getheader("Location")
            return result
        if not 200 <= response.status < 300:
            return result
        if response.getheader("Content-Type") is not None:
            result.content_type = response.headers.get_content_type()
            result.charset = response.headers.get_content_charset()
            if result.content_type not in wanted.types:
                return result  # not wanted: the body is not read
        elif not wanted.untyped:
            return result
        if wanted.whole:
            if response.length is not None and response.length > max_bytes:
                result.too_large = True  # announced too large: not read at all
                return result
            # One byte more than allowed tells an oversized body without reading it all.
            result.body = _read_body(response, max_bytes + 1, partial_ok=False)
            if len(result.body) > max_bytes:
                result.body, result.too_large = b"", True
                return result
            if response.length:  # the connection closed before the announced length
                raise _failed("invalid_response")
        else:
            result.body = _read_body(response, max_bytes)
        result.body_read = True
        return result
    except LinkFetchFailed:
        raise
    except ssl.SSLCertVerificationError:
        raise _failed("certificate") from None
    except ssl.SSLError:
        raise _failed("tls") from None
    except TimeoutError:
        raise _failed("timeout") from None
    except OSError:
        raise _failed("connect") from None
    except (http.client.HTTPException, ValueError, UnicodeError):
        raise _failed("invalid_response") from None
    finally:
        if response is not None:
            response.close()
        connection.close()


def _read_body(
    response: http.client.HTTPResponse, max_bytes: int, *, partial_ok: bool = True
) -> bytes:
    """Up to ``max_bytes`` of body. With ``partial_ok``, once some body arrived, a timeout
    or a broken connection ends the body instead of failing: the page head is what
    matters."""
    chunks: list[bytes] = []
    total = 0
    while total < max_bytes:
        try:
            chunk = response.read1(min(_READ_CHUNK, max_bytes - total))
        except (OSError, http.client.HTTPException):
            if total and partial_ok:
                break
            raise
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
    return b"".join(chunks)


def preview_fetch(
    url: str,
    *,
    policy: AddressPolicy = AddressPolicy(),
    resolver: Resolver = socket.getaddrinfo,
    timeout: float = 5.0,
    max_bytes: int = 1_000_000,
    max_redirects: int = 5,
) -> LinkPreview:
    """Fetch ``url`` (following at most ``max_redirects`` redirects, each checked) and
    return its preview. Raises LinkRefused when a hop, or the URL itself, breaks the
    rules, and LinkFetchFailed when fetching fails. ``timeout`` is one deadline for the
    whole fetch, every redirect included."""
    original = url.strip() if isinstance(url, str) else url
    final_url, response = _follow(
        original,
        _PAGE,
        policy=policy,
        resolver=resolver,
        deadline=time.monotonic() + timeout,
        max_bytes=max_bytes,
        max_redirects=max_redirects,
    )
    return _build_preview(original, final_url, response, policy, resolver)


@dataclass(frozen=True)
class FetchedImage:
    """The unchecked bytes of an image (they still have to go through the image pipeline),
    the content type its server announced and the URL it finally came from."""

    data: bytes
    content_type: str
    final_url: str


def image_fetch(
    url: str,
    *,
    policy: AddressPolicy = AddressPolicy(),
    resolver: Resolver = socket.getaddrinfo,
    timeout: float = 5.0,
    max_bytes: int | None = None,
    max_redirects: int = 5,
) -> FetchedImage:
    """Download the image at ``url`` with the rules of :func:`preview_fetch` (every hop
    checked by :func:`url_check`, pinned addresses, one deadline ``timeout``, at most
    ``max_redirects`` checked redirects). ``max_bytes`` defaults to
    ``settings.IMAGE_MAX_BYTES``. Raises LinkRefused when a hop breaks the rules, and
    LinkFetchFailed when fetching fails, when the answer is not a JPEG, PNG, WebP or GIF
    (``not_image``), when it is over ``max_bytes`` (``too_large``) or arrived incomplete."""
    if max_bytes is None:
        max_bytes = int(_setting("IMAGE_MAX_BYTES", DEFAULT_IMAGE_MAX_BYTES))
    final_url, response = _follow(
        url.strip() if isinstance(url, str) else url,
        _IMAGE,
        policy=policy,
        resolver=resolver,
        deadline=time.monotonic() + timeout,
        max_bytes=max_bytes,
        max_redirects=max_redirects,
    )
    if response.too_large:
        raise _failed("too_large")
    if not response.body_read or response.content_type not in IMAGE_CONTENT_TYPES:
        raise _failed("not_image")
    if not response.body:
        raise _failed("invalid_response")
    return FetchedImage(response.body, response.content_type, final_url)


@dataclass(frozen=True)
class FetchedDocument:
    """A document fetched by :func:`document_fetch`. ``not_modified`` when the server
    answered 304 to the conditional request (``body`` is then empty); ``too_large`` when the
    body is over the limit (not kept); ``content_type`` None when the server sent none; the
    validators (``etag``, ``last_modified``) to send next time, "" when the server gave
    none."""

    final_url: str
    not_modified: bool
    body: bytes
    content_type: str | None
    too_large: bool
    etag: str
    last_modified: str


def document_fetch(
    url: str,
    *,
    accept: str,
    content_types: frozenset[str],
    etag: str = "",
    last_modified: str = "",
    policy: AddressPolicy = AddressPolicy(),
    resolver: Resolver = socket.getaddrinfo,
    timeout: float = 10.0,
    max_bytes: int = 2_000_000,
    max_redirects: int = 5,
) -> FetchedDocument:
    """Download a whole document (a feed...) with the rules of :func:`preview_fetch`, as a
    conditional request when ``etag`` or ``last_modified`` is given (If-None-Match,
    If-Modified-Since). A body of another content type than ``content_types`` is not read
    (``body`` empty, ``content_type`` says what it was); an untyped body is read. Raises
    LinkRefused and LinkFetchFailed like :func:`preview_fetch`."""
    conditional = {}
    if etag:
        conditional["If-None-Match"] = etag
    if last_modified:
        conditional["If-Modified-Since"] = last_modified
    final_url, response = _follow(
        url.strip() if isinstance(url, str) else url,
        _Wanted(accept=accept, types=content_types, untyped=True, whole=True),
        policy=policy,
        resolver=resolver,
        deadline=time.monotonic() + timeout,
        max_bytes=max_bytes,
        max_redirects=max_redirects,
        conditional=conditional,
    )
    return FetchedDocument(
        final_url=final_url,
        not_modified=response.status == 304,
        body=response.body,
        content_type=response.content_type,
        too_large=response.too_large,
        etag=response.etag,
        last_modified=response.last_modified,
    )


def _follow(
    url: str,
    wanted: _Wanted,
    *,
    policy: AddressPolicy,
    resolver: Resolver,
    deadline: float,
    max_bytes: int,
    max_redirects: int,
    conditional: Mapping[str, str] | None = None,
) -> tuple[str, _Response]:
    """The final URL and its 2xx response (or 304 to a ``conditional`` request), each hop
    checked before it is connected to."""
    current = url
    redirects = 0
    while True:
        scheme, port, host, ips = url_check(current, policy=policy, resolver=resolver)
        if time.monotonic() >= deadline:
            raise _failed("timeout")
        response = _fetch_once(
            current, scheme, host, port, ips, deadline, max_bytes, wanted, conditional
        )
        if response.status == 304 and conditional:
            return current, response
        if response.status in _REDIRECT_STATUSES:
            location = (response.location or "").strip()
            if not location:
                raise _failed("redirect_without_location")
            if redirects >= max_redirects:
                raise _failed("too_many_redirects")
            redirects += 1
            current = urljoin(current, location)
            continue
        if not 200 <= response.status < 300:
            raise _failed("status", status=response.status)
        return current, response


# --------------------------------------------------------------------------------------
# Parsing


class _HeadParser(HTMLParser):
    """Collects <meta property|name|itemprop=... content=...> (first value of each key)
    and the text of the first <title>."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.meta: dict[str, str] = {}
        self.title_parts: list[str] = []
        self._in_title = False
        self._title_done = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "meta":
            values = {name: value for name, value in attrs if value is not None}
            content = values.get("content")
            if content is None:
                return
            for attribute in ("property", "name", "itemprop"):
                key = values.get(attribute, "").strip().lower()
                if key and key not in self.meta:
                    self.meta[key] = content
        elif tag == "title" and not self._title_done:
            self._in_title = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "title" and self._in_title:
            self._in_title = False
            self._title_done = True

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title_parts.append(data)


def _charset_codec(label: str | None) -> str | None:
    if not label:
        return None
    label = label.strip().strip("\"'").lower()
    label = _CHARSET_ALIASES.get(label, label)
    try:
        codec = codecs.lookup(label)
        b"a".decode(codec.name, errors="replace")  # text encodings only (not rot13...)
    except LookupError:
        return None
    return codec.name


def _decode(body: bytes, header_charset: str | None) -> str:
    if body.startswith(codecs.BOM_UTF8):
        return body[len(codecs.BOM_UTF8) :].decode("utf-8", errors="replace")
    meta = _META_CHARSET_RE.search(body[:_SNIFF_BYTES])
    for label in (header_charset, meta.group(1).decode("ascii") if meta else None):
        codec = _charset_codec(label)
        if codec:
            return body.decode(codec, errors="replace")
    return body.decode("utf-8", errors="replace")


def _clean(text: str, limit: int) -> str:
    """Control characters removed, whitespace collapsed, trimmed to ``limit``."""
    text = "".join(ch for ch in text if ch.isspace() or unicodedata.category(ch) not in _CONTROL)
    text = " ".join(text.split())
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text


def _title_from_url(url: str) -> str:
    parts = urlsplit(url)
    segments = [segment for segment in parts.path.split("/") if segment]
    if segments:
        return _clean(unquote(segments[-1]), TITLE_MAX_LENGTH)
    return _clean(parts.hostname or url, TITLE_MAX_LENGTH)


def _first(meta: dict[str, str], *keys: str) -> str:
    for key in keys:
        value = meta.get(key, "").strip()
        if value:
            return value
    return ""


def _checked_image(raw: str, base_url: str, policy: AddressPolicy, resolver: Resolver) -> str:
    """The absolute image URL when it passes url_check (it is not fetched), else ""."""
    if not raw:
        return ""
    try:
        candidate = urljoin(base_url, raw.strip())
        if len(candidate) > IMAGE_URL_MAX_LENGTH:
            return ""
        url_check(candidate, policy=policy, resolver=resolver)
    except (LinkRefused, ValueError):
        return ""
    return candidate


def _build_preview(
    url: str, final_url: str, response: _Response, policy: AddressPolicy, resolver: Resolver
) -> LinkPreview:
    fallback_title = _title_from_url(final_url)
    is_html = response.content_type in _HTML_TYPES or (
        response.content_type is None and bool(_HTML_START_RE.match(response.body[:_SNIFF_BYTES]))
    )
    if not response.body_read or not is_html:
        return LinkPreview(url, final_url, fallback_title, "", "", "")

    parser = _HeadParser()
    # close() is deliberately not called: with unterminated constructs (a million "<!--")
    # it is quadratic in some Python versions, while feed() stays linear.
    parser.feed(_decode(response.body, response.charset))
    meta = parser.meta
    title = _clean(
        _first(meta, "og:title", "twitter:title") or "".join(parser.title_parts),
        TITLE_MAX_LENGTH,
    )
    description = _first(meta, "og:description", "twitter:description", "description")
    image = _first(
        meta,
        "og:image",
        "og:image:url",
        "og:image:secure_url",
        "twitter:image",
        "twitter:image:src",
    )
    return LinkPreview(
        url=url,
        final_url=final_url,
        title=title or fallback_title,
        description=_clean(description, DESCRIPTION_MAX_LENGTH),
        image_url=_checked_image(image, final_url, policy, resolver),
        site_name=_clean(_first(meta, "og:site_name"), SITE_NAME_MAX_LENGTH),
    )
