"""Every page a signed-in person can reach, found rather than listed by hand.

1. Every named route of the project's own apps that takes no argument (from the URL
   conf), plus the password change page (allauth's, but one of a person's own pages).
2. Every entry of the navigation registry (organizations/navigation.py) the person sees:
   these must answer whatever the probe says.
3. One representative of every route with arguments that a page from 1 or 2 links to
   (a content, a share, a challenge, a dashboard per content and per challenge, a team,
   a person, each guideline page, …), then once more from those (a content's version).

Each candidate is probed with Django's test client as that person: a full HTML page is
kept; a refusal (401, 403, 404, 405) means the page is not theirs, a redirect means it is
another page under a second address; a server error is kept, so that the browser test
reports it."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import urlsplit

from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse
from django.urls.exceptions import Resolver404

from organizations.models import User
from organizations.navigation import navigation_for
from tests.config.test_layout import LAYERS

# The project's own apps: the layers of tests/config/test_layout.py, without the config.
PROJECT_APPS = tuple(app for app in LAYERS if app != "config")
EXTRA_ROUTES = ("account_change_password", "mfa_index")
API_PREFIX = "api/"

# Routes that are not pages: a GET would leave the site, record something, download a
# file, or answer with a fragment for htmx. (POST-only routes answer 405 and drop out.)
NOT_PAGES = frozenset(
    {
        "healthz",
        "media",
        "tracked_link",  # records a click and leaves for the post's destination
        "network_reconnect",  # leaves for the network's consent screen
        "invitation_accept",  # someone else's token
        "dashboard_export",
        "notification_badge",
        "content_link_preview",
        "share_preview",
        "caption_preview",
        "set_language",
        "home",  # a redirect to the feed
    }
)
# A route with one of these arguments acts on an object (approve, delete, redeem…).
ACTION_ARGUMENTS = frozenset({"verb", "prefix", "token"})
REFUSED = frozenset({401, 403, 404, 405})


@dataclass(frozen=True)
class Page:
    slug: str  # stable across runs: the route name, plus any non-numeric argument
    path: str
    route: str
    in_navigation: bool = False


def _routes(
    patterns: Iterable[URLPattern | URLResolver], modules: tuple[str, ...], prefix: str = ""
) -> Iterator[URLPattern]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            address = prefix + str(pattern.pattern)
            if not address.startswith(API_PREFIX):  # the JSON API has no pages
                yield from _routes(pattern.url_patterns, modules, address)
        elif pattern.name and pattern.callback.__module__.split(".")[0] in modules:
            yield pattern


def _own_routes() -> tuple[list[str], set[str]]:
    """Names of routes without arguments, and of routes whose arguments name an object."""
    plain, with_object = [], set()
    for pattern in _routes(get_resolver().url_patterns, PROJECT_APPS):
        if pattern.name in NOT_PAGES:
            continue
        arguments = set(pattern.pattern.regex.groupindex)
        if not arguments:
            plain.append(pattern.name)
        elif not arguments & ACTION_ARGUMENTS:
            with_object.add(pattern.name)
    return plain, with_object


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            href = dict(attrs).get("href")
            if href:
                self.hrefs.append(href)


def _links(html: str) -> list[str]:
    parser = _Links()
    parser.feed(html)
    return parser.hrefs


def _slug(route: str, kwargs: dict[str, object]) -> str:
    words = [str(value) for value in kwargs.values() if not str(value).isdigit()]
    return "-".join([route.replace("_", "-"), *words])


_FULL_PAGE = re.compile(rb"<html[\s>]", re.IGNORECASE)


def _probe(client: Client, path: str) -> tuple[str, str]:
    """("page", html) | ("refused", "") | ("redirect", "") | ("error", "")"""
    try:
        response = client.get(path)
    except Exception:
        return "error", ""  # the browser visit shows it as a 500
    if response.status_code in REFUSED:
        return "refused", ""
    if 300 <= response.status_code < 400:
        return "redirect", ""
    if response.status_code >= 400:
        return "error", ""
    if not response.get("Content-Type", "").startswith("text/html"):
        return "refused", ""
    if not _FULL_PAGE.search(response.content):
        return "refused", ""  # a fragment
    return "page", response.content.decode(response.charset or "utf-8")


def pages_for(user: User) -> list[Page]:
    # The probe's expected refusals (404, 405) would each log a warning.
    request_log = logging.getLogger("django.request")
    level = request_log.level
    request_log.setLevel(logging.ERROR)
    try:
        return _pages_for(user)
    finally:
        request_log.setLevel(level)


def _pages_for(user: User) -> list[Page]:
    client = Client(raise_request_exception=True)
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    plain, with_object = _own_routes()
    # The navigation as this person sees it, in its order.
    navigation = [resolve(item.url).url_name for item in navigation_for(user, "")]
    visible = set(navigation)

    pages: list[Page] = []
    html_of: dict[str, str] = {}
    for route in dict.fromkeys([*navigation, *plain, *EXTRA_ROUTES]):
        path = reverse(route)
        verdict, html = _probe(client, path)
        if route in visible or verdict in ("page", "error"):
            pages.append(Page(_slug(route, {}), path, route, in_navigation=route in visible))
            html_of[path] = html

    # Two rounds of following links: lists lead to details, details to their versions.
    found: set[str] = set()
    tries: dict[str, int] = {}
    for _round in range(2):
        sources, html_of = html_of, {}
        for html in sources.values():
            for href in _links(html):
                parts = urlsplit(href)
                if parts.scheme or parts.netloc or not parts.path.startswith("/"):
                    continue
                try:
                    match = resolve(parts.path)
                except Resolver404:
                    continue
                route = match.url_name or ""
                if route not in with_object:
                    continue
                # One page per route, but each value of a word argument (a guideline kind).
                slug = _slug(route, match.kwargs)
                # A refused link (another person's draft) lets the next one be tried, a few.
                if slug in found or tries.get(slug, 0) >= 3:
                    continue
                tries[slug] = tries.get(slug, 0) + 1
                verdict, page_html = _probe(client, parts.path)
                if verdict in ("page", "error"):
                    found.add(slug)
                    pages.append(Page(slug, parts.path, route))
                    html_of[parts.path] = page_html
    return pages
