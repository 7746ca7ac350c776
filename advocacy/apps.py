from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AdvocacyConfig(AppConfig):
    name = "advocacy"
    verbose_name = _("Advocacy")

    def ready(self) -> None:
        from organizations.navigation import nav_register

        nav_register(
            url_name="my_shares",
            label=_("My shares"),
            order=40,
            visible=lambda user: True,
        )
