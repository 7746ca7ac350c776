"""Points, levels, badges and leaderboards: navigation, notification kinds, signal
receivers and demo data, connected from ChallengesConfig.ready()."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _


def connect() -> None:
    from organizations.navigation import nav_register

    nav_register(url_name="leaderboard", label=_("Leaderboard"), order=30)
