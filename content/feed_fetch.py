"""Fetching and reading RSS and Atom feeds, with no database access.

The download goes through the link preview's SSRF-safe fetcher
(:func:`content.linkpreview.document_fetch`: every hop checked, pinned addresses, one
deadline, a size cap) as a conditional request (ETag, Last-Modified). The body is parsed
by ``feedparser`` from bytes only: feedparser never fetches anything itself here, so it
cannot be steered to another address. A malformed feed that still yields entries is read
(feedparser is lenient, so are the sites); one that yields nothing is an error in words.
"""

from __future__ import annotations

import re
import socket
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import feedparser
from django.utils.translation import gettext as _

from content.linkpreview import (
    AddressPolicy,
    LinkFetchFailed,
    Resolver,
    document_fetch,
)
from organizations.models import Language

FEED_CONTENT_TYPES = frozenset(
    {
        "application/rss+xml",
        "application/atom+xml",
        "application/rdf+xml",
        "application/xml",
        "text/xml",
        "application/feed+xml",
        # Many servers announce feeds as plain text or octet streams.
        "text/plain",
        "application/octet-stream",
    }
)
FEED_ACCEPT = (
    "application/atom+xml,application/rss+xml;q=0.9,application/xml;q=0.8,text/xml;q=0.8,*/*;q=0.1"
)
FEED_MAX_BYTES = 2_000_000
FEED_TIMEOUT = 10.0
TITLE_MAX_LENGTH = 200
_DEFAULT_POLICY = AddressPolicy()
_TAG_RE = re.compile(r"<[^>]+>")
_WORD_RE = re.compile(r"[a-zàâçéèêëîïôûùüÿœ']+")
# Frequent short words: enough to tell French from English in a title and a summary.
_FRENCH_WORDS = frozenset(
    [
        "le",
        "la",
        "les",
        "des",
        "du",
        "un",
        "une",
        "et",
        "est",
        "pour",
        "dans",
        "sur",
        "avec",
        "nous",
        "vous",
        "qui",
        "que",
        "pas",
        "au",
        "aux",
        "ce",
        "cette",
        "son",
        "ses",
        "leur",
        "notre",
        "nos",
        "plus",
        "par",
    ]
)
_ENGLISH_WORDS = frozenset(
    [
        "the",
        "and",
        "is",
        "are",
        "for",
        "in",
        "on",
        "with",
        "we",
        "you",
        "who",
        "that",
        "not",
        "to",
        "of",
        "our",
        "your",
        "this",
        "its",
        "their",
        "more",
        "by",
        "from",
        "at",
        "as",
        "be",
    ]
)


class FeedUnreadable(LinkFetchFailed):
    """The feed was downloaded but is not a feed, or cannot be read. ``message`` is in
    words for editors."""


@dataclass(frozen=True)
class FeedEntry:
    guid: str
    link: str
    title: str
    summary: str
    language: str  # "fr", "en" or "" when nothing says


@dataclass(frozen=True)
class FetchedFeed:
    not_modified: bool
    final_url: str
    etag: str
    last_modified: str
    title: str = ""
    entries: list[FeedEntry] = field(default_factory=list)
    malformed: bool = False  # feedparser's bozo: read all the same


def feed_fetch(
    url: str,
    *,
    etag: str = "",
    last_modified: str = "",
    policy: AddressPolicy = _DEFAULT_POLICY,
    resolver: Resolver = socket.getaddrinfo,
    timeout: float = FEED_TIMEOUT,
    max_bytes: int | None = None,
) -> FetchedFeed:
    """Download and read the feed at ``url``. Raises LinkRefused (the address is not
    allowed), LinkFetchFailed (the download failed) or FeedUnreadable. ``max_bytes``
    defaults to FEED_MAX_BYTES."""
    document = document_fetch(
        url,
        accept=FEED_ACCEPT,
        content_types=FEED_CONTENT_TYPES,
        etag=etag,
        last_modified=last_modified,
        policy=policy,
        resolver=resolver,
        timeout=timeout,
        max_bytes=FEED_MAX_BYTES if max_bytes is None else max_bytes,
    )
    if document.not_modified:
        return FetchedFeed(
            not_modified=True,
            final_url=document.final_url,
            # A 304 may omit the validators: the ones we sent still hold.
            etag=document.etag or etag,
            last_modified=document.last_modified or last_modified,
        )
    if document.too_large:
        raise FeedUnreadable(_("The feed is too large to be downloaded."), "too_large")
    if document.content_type in ("text/html", "application/xhtml+xml"):
        raise FeedUnreadable(_("This address is a web page, not an RSS or Atom feed."), "not_feed")
    if document.content_type is not None and document.content_type not in FEED_CONTENT_TYPES:
        raise FeedUnreadable(_("This address does not point to an RSS or Atom feed."), "not_feed")
    parsed = feed_parse(document.body, content_type=document.content_type)
    return FetchedFeed(
        not_modified=False,
        final_url=document.final_url,
        etag=document.etag,
        last_modified=document.last_modified,
        title=parsed.title,
        entries=parsed.entries,
        malformed=parsed.malformed,
    )


@dataclass(frozen=True)
class ParsedFeed:
    title: str
    entries: list[FeedEntry]
    malformed: bool


def feed_parse(body: bytes, *, content_type: str | None = None) -> ParsedFeed:
    """Read RSS 0.9x/1.0/2.0 or Atom from ``body``. Raises FeedUnreadable when nothing
    feed-like is in it."""
    headers = {"content-type": content_type} if content_type else {}
    # Bytes only, never a URL: feedparser must not open connections of its own.
    data: Any = feedparser.parse(body, response_headers=headers, sanitize_html=True)
    version = data.get("version") or ""
    entries = data.get("entries") or []
    if not version and not entries:
        if data.get("bozo"):
            raise FeedUnreadable(
                _("The feed could not be read: it is not valid RSS or Atom."), "malformed"
            )
        raise FeedUnreadable(_("This address does not point to an RSS or Atom feed."), "not_feed")
    feed_info = data.get("feed") or {}
    feed_language = _language_code(feed_info.get("language", ""))
    read: list[FeedEntry] = []
    for entry in entries:
        link = _entry_link(entry)
        title = _plain(entry.get("title", ""))
        summary = _plain(entry.get("summary", ""))
        declared = ""
        for detail in ("title_detail", "summary_detail"):
            declared = _language_code((entry.get(detail) or {}).get("language") or "")
            if declared:
                break
        read.append(
            FeedEntry(
                guid=str(entry.get("id") or link)[:500],
                link=link,
                title=title,
                summary=summary,
                language=declared or feed_language,
            )
        )
    return ParsedFeed(
        title=_plain(feed_info.get("title", ""))[:TITLE_MAX_LENGTH],
        entries=read,
        malformed=bool(data.get("bozo")),
    )


def _entry_link(entry: Any) -> str:
    # FeedBurner and similar proxies keep the article's own address apart.
    for candidate in (entry.get("feedburner_origlink"), entry.get("link")):
        if isinstance(candidate, str) and candidate.strip():
            return candidate.strip()
    for link in entry.get("links") or []:
        if link.get("rel") in ("alternate", None) and link.get("href"):
            return str(link["href"]).strip()
    return ""


def _plain(text: str) -> str:
    """HTML tags removed (feed titles and summaries often carry some), whitespace
    collapsed."""
    import html

    return " ".join(html.unescape(_TAG_RE.sub(" ", str(text or ""))).split())


def _language_code(value: str) -> str:
    code = str(value or "").strip().lower().replace("_", "-").split("-")[0]
    return code if code in Language.values else ""


def language_guess(text: str) -> str:
    """ "fr" or "en" when the frequent words of ``text`` clearly say so, else ""."""
    words = _WORD_RE.findall(text.lower())
    french = sum(word in _FRENCH_WORDS for word in words)
    english = sum(word in _ENGLISH_WORDS for word in words)
    if french >= 2 and french > 2 * english:
        return Language.FRENCH.value
    if english >= 2 and english > 2 * french:
        return Language.ENGLISH.value
    return ""


def canonical_url(url: str) -> str:
    """The URL that identifies an article: scheme and host in lower case, no default
    port, no fragment, no ``utm_*`` tracking parameters (the others kept, in order).
    "" when it is not an http(s) URL."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return ""
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        return ""
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    if port is not None and port != {"http": 80, "https": 443}[scheme]:
        host = f"{host}:{port}"
    query = [
        (key, value)
        for key, value in parse_qsl(parts.query, keep_blank_values=True)
        if not key.lower().startswith("utm_")
    ]
    return urlunsplit((scheme, host, parts.path or "/", urlencode(query, doseq=True), ""))
