"""Demo content for `seed_demo` (filled in below)."""

from __future__ import annotations

from typing import Any


def seed_demo_content(sender: object, organization: Any, **kwargs: Any) -> None:
    return None
