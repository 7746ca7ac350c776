from __future__ import annotations


def seed_demo_campaigns(sender: object, organization, **kwargs: object) -> None:
    return None
