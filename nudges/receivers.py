"""Signal receivers connected in NudgesConfig.ready()."""

from __future__ import annotations

from typing import Any

from organizations.models import Organization


def on_demo_seeded(sender: Any, organization: Organization, **kwargs: Any) -> None:
    from nudges.services import nudge_settings_seed_demo

    nudge_settings_seed_demo(organization=organization)
