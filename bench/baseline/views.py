"""The floors: a redirect after one indexed SELECT, a JSON list of 20 feed-sized items
built once at start-up (no query, no serializer), and a logged-in page: Portevoix's session
read from its table, the user and organisation name in one SELECT, a small template
extending a minimal base (bench/baseline/templates; not Portevoix's base.html, whose
context processors need the whole product)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from django.db import connection
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render


def healthz(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok")


def redirect(request: HttpRequest, code: str) -> HttpResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT destination FROM advocacy_trackedlink WHERE code = %s", [code])
        row = cursor.fetchone()
    if row is None:
        raise Http404
    response = HttpResponseRedirect(row[0])
    response["Cache-Control"] = "no-store"
    return response


def _item(number: int) -> dict[str, Any]:
    """The shape and about the size of one item of Portevoix's feed API."""
    title = f"Innovation: our news #{number}"
    link = f"https://www.example.com/bench-lumiere/news/{number}?ref=bench"
    return {
        "id": number,
        "kind": "link",
        "title": title,
        "why_it_matters": "Because our teams worked on it for months.\nPlease share it!",
        "link_url": link,
        "preview": {
            "status": "ready",
            "title": title,
            "description": "Because our teams worked on it for months.",
            "image_url": "",
            "site_name": "Example",
        },
        "image_url": None,
        "renditions": {},
        "hashtags": ["#innovation"],
        "topics": [{"id": 3, "name": "Innovation", "slug": "innovation-0"}],
        "language": "en",
        "publish_at": "2026-06-20T10:00:00Z",
        "expires_at": None,
        "pinned": False,
        "evergreen": False,
        "caption_locked": False,
        "lifecycle": "published",
        "captions": [
            {
                "id": number * 10 + index,
                "network": network,
                "text": f"{title} — worth a read ({network} 1)",
                "final_text": f"{title} — worth a read ({network} 1) {link}",
                "length": 90,
                "max_length": limit,
                "problems": [],
            }
            for index, (network, limit) in enumerate(
                (("linkedin", 3000), ("x", 280), ("facebook", 63206))
            )
        ],
    }


ITEMS = [_item(number) for number in range(1, 21)]


def feed(request: HttpRequest) -> HttpResponse:
    return JsonResponse({"count": 20, "next": None, "previous": None, "results": ITEMS})


NAV = [
    ("Feed", "/feed/"),
    ("Challenges", "/challenges/"),
    ("My shares", "/shares/"),
    ("Leaderboard", "/leaderboard/"),
    ("Suggest", "/suggestions/"),
    ("Profile", "/profile/"),
]


def page(request: HttpRequest) -> HttpResponse:
    """A bare logged-in page: the session (one SELECT), its user (one SELECT), a render."""
    session = SessionStore(request.COOKIES.get(settings.SESSION_COOKIE_NAME))
    user_id = session.get("_auth_user_id")
    if user_id is None:
        return HttpResponseRedirect("/accounts/login/")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT u.first_name, o.name FROM organizations_user u "
            "JOIN organizations_organization o ON o.id = u.organization_id "
            "WHERE u.id = %s AND u.is_active",
            [int(user_id)],
        )
        row = cursor.fetchone()
    if row is None:
        return HttpResponseRedirect("/accounts/login/")
    context = {"user_name": row[0], "organization_name": row[1], "nav_items": NAV}
    return render(request, "baseline/page.html", context)
