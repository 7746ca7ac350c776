from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AnalyticsConfig(AppConfig):
    name = "analytics"
    verbose_name = _("Analytics")

    def ready(self) -> None:
        from organizations.navigation import nav_register

        nav_register(
            url_name="dashboards",
            label=_("Dashboards"),
            order=80,
            visible=lambda user: user.can_see_dashboards,
        )
