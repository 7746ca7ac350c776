"""Dashboards, exports and reports: navigation, notification kinds and profile section,
connected from AnalyticsConfig.ready()."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from organizations.models import User


def profile_numbers_context(user: User) -> dict[str, Any]:
    from analytics import selectors

    if user.organization is None:
        return {"numbers": [], "currency": ""}
    return {
        "numbers": selectors.own_numbers(user),
        "currency": selectors.rates_for(user.organization).currency,
    }


def connect() -> None:
    from notifications.kinds import kind_register
    from organizations.navigation import nav_register
    from organizations.profile_sections import profile_section_register

    nav_register(
        url_name="dashboards",
        label=_("Dashboards"),
        order=80,
        visible=lambda user: user.can_see_dashboards,
    )
    kind_register("analytics.weekly_report", _("Weekly report of my teams' advocacy (managers)"))
    profile_section_register(
        key="analytics.my_numbers",
        template_name="analytics/_profile_numbers.html",
        context=profile_numbers_context,
        order=20,
    )
