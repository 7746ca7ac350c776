"""The installable app: its web app manifest, its service worker and the page shown when the
network is gone. They live beside web push because the service worker receives the pushes."""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles import finders
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.urls import reverse
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

DEFAULT_THEME = "#1d4ed8"
BACKGROUND = "#ffffff"
# Files every page needs, cached when the service worker installs so that the offline page
# (and pages already visited) show with their styles.
SHELL_FILES = [
    "vendor/pico/pico.min.css",
    "css/app.css",
    "css/share.css",
    "vendor/htmx/htmx.min.js",
    "js/app.js",
    "js/share-sheet.js",
    "js/pwa.js",
    "img/favicon.svg",
    "img/icons/icon-192.png",
]


@require_GET
def manifest(request: HttpRequest) -> HttpResponse:
    organization = (
        getattr(request.user, "organization", None) if request.user.is_authenticated else None
    )
    name = organization.name if organization else "Portevoix"
    theme = (
        (getattr(organization, "brand_colour", "") or DEFAULT_THEME)
        if organization
        else (DEFAULT_THEME)
    )
    body = {
        "id": "/",
        "name": name,
        "short_name": name if len(name) <= 12 else name[:11].rstrip() + "…",
        "description": _("Share your organisation's news, join challenges and see your points."),
        "lang": get_language() or settings.LANGUAGE_CODE,
        "start_url": reverse("feed"),
        "scope": "/",
        "display": "standalone",
        "orientation": "portrait",
        "theme_color": theme,
        "background_color": BACKGROUND,
        "icons": [
            {"src": static("img/icons/icon-192.png"), "sizes": "192x192", "type": "image/png"},
            {"src": static("img/icons/icon-512.png"), "sizes": "512x512", "type": "image/png"},
            {
                "src": static("img/icons/icon-maskable-512.png"),
                "sizes": "512x512",
                "type": "image/png",
                "purpose": "maskable",
            },
        ],
    }
    response = JsonResponse(body, content_type="application/manifest+json")
    # It names the person's organisation: not for shared caches.
    patch_cache_control(response, private=True, no_cache=True)
    patch_vary_headers(response, ["Cookie", "Accept-Language"])
    return response


@lru_cache(maxsize=1)
def _service_worker_script() -> tuple[str, str]:
    path = finders.find("js/sw.js")
    if not path:  # collected only (production without the source folder)
        from django.contrib.staticfiles.storage import staticfiles_storage

        path = staticfiles_storage.path("js/sw.js")
    code = Path(str(path)).read_text(encoding="utf-8")
    config = {
        "offlineUrl": reverse("offline"),
        "logoutUrl": reverse("account_logout"),
        "staticUrl": settings.STATIC_URL,
        "iconUrl": static("img/icons/icon-192.png"),
        "precache": [reverse("offline"), *(static(name) for name in SHELL_FILES)],
    }
    # A new version whenever the script or a (hashed, in production) shell file changes:
    # the new worker installs beside the old one and deletes the old caches on activate.
    config["version"] = hashlib.sha256((json.dumps(config) + code).encode()).hexdigest()[:12]
    script = f"self.PORTEVOIX_SW = {json.dumps(config)};\n{code}"
    return script, config["version"]


@require_GET
def service_worker(request: HttpRequest) -> HttpResponse:
    if settings.DEBUG:
        _service_worker_script.cache_clear()
    script, version = _service_worker_script()
    response = HttpResponse(script, content_type="text/javascript; charset=utf-8")
    # Served from the root so that it may control every page; browsers check it for
    # updates on navigation, and no-cache makes that check reach the server.
    response["Service-Worker-Allowed"] = "/"
    response["ETag"] = f'"{version}"'
    patch_cache_control(response, no_cache=True)
    return response


@require_GET
def offline(request: HttpRequest) -> HttpResponse:
    """The page the service worker shows for a page that cannot be loaded. It is cached by
    every visitor's browser, so it names nobody (no shell, no organisation)."""
    response = render(request, "offline.html", {"feed_url": reverse("feed")})
    patch_cache_control(response, no_cache=True)
    return response
