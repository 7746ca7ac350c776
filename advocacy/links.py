"""Tracked links and the networks' own share URLs: pure functions, no database."""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from urllib.parse import unquote_plus, urlencode, urlsplit, urlunsplit

from django.utils.translation import gettext as _

from organizations.errors import DomainError

# TrackedLink.destination's max_length: longer would fail at the database, not here.
DESTINATION_MAX_LENGTH = 1000
_UTM_KEYS = frozenset({"utm_source", "utm_medium", "utm_campaign"})
# After IDNA encoding; underscores appear in real subdomains.
_ASCII_HOST = re.compile(r"[a-z0-9_-]+(\.[a-z0-9_-]+)*\.?")


def _has_invisible_or_backslash(url: str) -> bool:
    # Browsers drop tabs and newlines anywhere, and read a backslash as a slash, so
    # `java\tscript:` and `https:\\evil` are not what Python's urlsplit sees. Format
    # characters (bidi overrides, zero-width spaces, soft hyphens) make a link read as
    # something it is not.
    return any(ch == "\\" or ch.isspace() or unicodedata.category(ch)[0] in "CZ" for ch in url)


def _host_problem(hostname: str) -> str:
    if hostname.startswith("[") or ":" in hostname:
        try:
            ipaddress.IPv6Address(hostname.strip("[]"))
        except ValueError:
            return _("The link's host name is not valid.")
        return ""
    try:
        ascii_host = hostname.encode("idna").decode("ascii").lower()
    except UnicodeError:
        return _("The link's host name is not valid.")
    if not _ASCII_HOST.fullmatch(ascii_host):
        return _("The link's host name is not valid.")
    last_label = ascii_host.rstrip(".").rsplit(".", 1)[-1]
    # Browsers read a host whose last label is a number as an IPv4 address (`0x7f.1`,
    # `2130706433`); only the plain dotted form means the same thing to everyone.
    if last_label.isdigit() or last_label.startswith("0x"):
        try:
            ipaddress.IPv4Address(ascii_host.rstrip("."))
        except ValueError:
            return _("The link's host name is not valid.")
    return ""


def destination_validate(url: str) -> str:
    """A destination a tracked link may redirect to: an absolute http(s) URL with a host,
    no user info, no backslash, whitespace or control characters (browsers read
    `https:\\evil` and `//evil` as another host). Raises DomainError with the reason."""
    url = (url or "").strip()
    problem = ""
    if not url:
        problem = _("The link is empty.")
    elif len(url) > DESTINATION_MAX_LENGTH:
        problem = _("The link is too long (at most %(max)d characters).") % {
            "max": DESTINATION_MAX_LENGTH
        }
    elif _has_invisible_or_backslash(url):
        problem = _("The link contains spaces, backslashes or control characters.")
    else:
        problem = _parts_problem(url)
    if problem:
        raise DomainError(problem, field="link")
    return url


def _parts_problem(url: str) -> str:
    try:
        parts = urlsplit(url)
        hostname = parts.hostname
    except ValueError:  # an unclosed IPv6 bracket, netloc characters that NFKC turns into `/`
        return _("The link is not a valid address.")
    if parts.scheme.lower() not in ("http", "https"):
        return _("Only http and https links can be shared.")
    # `http:evil.com` and `http:/evil.com` have no netloc for urlsplit but a host for browsers.
    if not url.lower().startswith(f"{parts.scheme.lower()}://") or not hostname:
        return _("The link must be a full address with a host name.")
    if "@" in parts.netloc:
        return _("The link must not carry a user name or password.")
    if "%" in parts.netloc:
        # Browsers percent-decode the host (`evil.com%2f.good.com`); Python does not.
        return _("The link's host name is not valid.")
    host_problem = _host_problem(hostname)
    if host_problem:
        return host_problem
    try:
        port = parts.port
    except ValueError:
        return _("The link's port is not valid.")
    if port == 0:
        return _("The link's port is not valid.")
    return ""


def destination_with_utm(destination: str, *, source: str, campaign: str) -> str:
    """The destination with our UTM parameters (replacing any it had). The rest of its
    query string is kept byte for byte: re-encoding it could change what the site reads."""
    parts = urlsplit(destination)
    kept = [
        pair
        for pair in parts.query.split("&")
        if pair and unquote_plus(pair.split("=", 1)[0]) not in _UTM_KEYS
    ]
    kept.append(
        urlencode(
            [
                ("utm_source", source),
                ("utm_medium", "employee_advocacy"),
                ("utm_campaign", campaign),
            ]
        )
    )
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "&".join(kept), parts.fragment))


def share_intent_url(*, network: str, text: str, url: str) -> str:
    """The network's own share page. LinkedIn and Facebook take only the link (the caption
    is copied by hand); X takes both."""
    if network == "x":
        params = {"text": text}
        if url:
            params["url"] = url
        return "https://x.com/intent/post?" + urlencode(params)
    if network == "linkedin":
        if url:
            return "https://www.linkedin.com/sharing/share-offsite/?" + urlencode({"url": url})
        return "https://www.linkedin.com/feed/?" + urlencode({"shareActive": "true", "text": text})
    if network == "facebook":
        if url:
            return "https://www.facebook.com/sharer/sharer.php?" + urlencode({"u": url})
        return "https://www.facebook.com/"
    raise ValueError(f"Unknown network {network!r}")


def prefills_caption(network: str) -> bool:
    return network == "x"
