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

ROOT = Path(__file__).resolve().parent.parent


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
    client = Client()
    client.force_login(manager, backend="django.contrib.auth.backends.ModelBackend")
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    published = Share.objects.filter(
        organization_id=accounts["organization_id"], status="published"
    ).values("pk")
    codes = list(
        TrackedLink.objects.filter(share__in=published)
        .order_by("pk")
        .values_list("code", flat=True)[:1000]
    )
    json.dump(
        {
            "token": token,
            "session_cookie": f"{settings.SESSION_COOKIE_NAME}={session}",
            "codes": codes,
            "employee": employee.email,
            "manager": manager.email,
        },
        sys.stdout,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
