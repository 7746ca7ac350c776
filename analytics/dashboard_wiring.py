"""Dashboards, exports and reports: navigation, notification kinds and profile section,
connected from AnalyticsConfig.ready()."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _


def connect() -> None:
    from organizations.navigation import nav_register

    nav_register(
        url_name="dashboards",
        label=_("Dashboards"),
        order=80,
        visible=lambda user: user.can_see_dashboards,
    )
