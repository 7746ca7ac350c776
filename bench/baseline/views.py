"""The floors: a redirect after one indexed SELECT, and a JSON list of 20 feed-sized items
built once at start-up (no query, no serializer)."""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse


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
