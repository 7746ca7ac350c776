"""What the load needs from the generated database, made with the product's own code and
settings (run by bench.run in a child process with the same environment as the served
app): an API token for an employee (organizations.services.api_token_issue), a session for
a manager (as a login would store it) and tracked-link codes of published shares.

Prints one JSON object on stdout."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BROWSER = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36"
)


def main() -> int:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.test import Client

    from advocacy.models import Share, TrackedLink
    from organizations.models import User
    from organizations.services import api_token_issue

    accounts = json.loads(sys.argv[1])
    employee = User.objects.get(pk=accounts["employee"])
    manager = User.objects.get(pk=accounts["manager"])
    _instance, token = api_token_issue(user=employee)
    sessions = {}
    for name, user in (("manager", manager), ("employee", employee)):
        client = Client()
        client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
        sessions[name] = client.cookies[settings.SESSION_COOKIE_NAME].value
    published = Share.objects.filter(
        organization_id=accounts["organization_id"], status="published"
    ).values("pk")
    codes = list(
        TrackedLink.objects.filter(share__in=published)
        .order_by("pk")
        .values_list("code", flat=True)[:1000]
    )
    cookies = {name: f"{settings.SESSION_COOKIE_NAME}={value}" for name, value in sessions.items()}
    paths = {
        "redirect": (f"/s/{codes[0]}", {}),
        "feed": (
            "/api/v1/feed/",
            {"Authorization": f"Token {token}", "Accept": "application/json"},
        ),
        "feed_page": ("/feed/", {"Cookie": cookies["employee"]}),
        "dashboard": (
            sys.argv[2] if len(sys.argv) > 2 else "/dashboards/",
            {"Cookie": cookies["manager"]},
        ),
    }
    json.dump(
        {
            "token": token,
            "session_cookie": cookies["manager"],
            "employee_session_cookie": cookies["employee"],
            "codes": codes,
            "queries": {name: _queries(path, headers) for name, (path, headers) in paths.items()},
            "employee": employee.email,
            "manager": manager.email,
        },
        sys.stdout,
    )
    return 0


def _queries(path: str, headers: dict[str, str]) -> dict[str, Any]:
    """Status and queries of two requests to `path` (cold, then warm), in-process."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_HOST="127.0.0.1", HTTP_X_FORWARDED_PROTO="https")
    headers = {"User-Agent": BROWSER, "Accept": "text/html"} | headers
    counts, status = [], 0
    for _ in range(2):
        with CaptureQueriesContext(connection) as captured:
            status = client.get(path, headers=headers).status_code
        counts.append(len(captured.captured_queries))
    return {"status": status, "cold": counts[0], "warm": counts[1]}


if __name__ == "__main__":
    sys.exit(main())
