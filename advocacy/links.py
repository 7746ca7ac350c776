"""Tracked links and the networks' own share URLs: pure functions, no database."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.utils.translation import gettext as _

from organizations.errors import DomainError

_CONTROL = re.compile(r"[\x00-\x20\x7f\\]")


def destination_validate(url: str) -> str:
    """A destination a tracked link may redirect to: an absolute http(s) URL with a host,
    no user info, no backslash or control characters (browsers read `https:\\evil` and
    `//evil` as another host). Raises DomainError with the reason."""
    url = (url or "").strip()
    problem = ""
    if not url:
        problem = _("The link is empty.")
    elif _CONTROL.search(url):
        problem = _("The link contains spaces, backslashes or control characters.")
    else:
        parts = urlsplit(url)
        if parts.scheme.lower() not in ("http", "https"):
            problem = _("Only http and https links can be shared.")
        elif not url.lower().startswith(f"{parts.scheme.lower()}://") or not parts.hostname:
            problem = _("The link must be a full address with a host name.")
        elif parts.username is not None or parts.password is not None or "@" in parts.netloc:
            problem = _("The link must not carry a user name or password.")
        else:
            try:
                parts.port  # noqa: B018 - raises on a malformed port
            except ValueError:
                problem = _("The link's port is not valid.")
    if problem:
        raise DomainError(problem, field="link")
    return url


def destination_with_utm(destination: str, *, source: str, campaign: str) -> str:
    """The destination with our UTM parameters (replacing any it had)."""
    parts = urlsplit(destination)
    query = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if k not in ("utm_source", "utm_medium", "utm_campaign")
    ]
    query += [
        ("utm_source", source),
        ("utm_medium", "employee_advocacy"),
        ("utm_campaign", campaign),
    ]
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), parts.fragment))


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
