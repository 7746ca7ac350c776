"""What the privacy app does when something happens below it."""

from __future__ import annotations

from typing import Any


def on_charter_accepted(sender: Any, acceptance: Any, **kwargs: Any) -> None:
    """Accepting the charter is the explicit opt-in: it records joining (or joining
    again), with the time and the charter's version."""
    from privacy.services.participation import participation_join

    user = acceptance.user
    if user.organization_id is None:
        return
    participation_join(user=user, charter_version=acceptance.version)


def profile_privacy_context(user: Any) -> dict[str, Any]:
    return {}
