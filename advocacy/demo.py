"""Demo shares and clicks for `seed_demo` (filled below)."""

from __future__ import annotations

from typing import Any

from organizations.models import Organization


def seed_demo_shares(sender: object, organization: Organization, **kwargs: Any) -> None:
    return None
