from __future__ import annotations

from typing import Any


def seed_demo_analytics(sender: object, organization: Any, **kwargs: Any) -> None:
    pass
