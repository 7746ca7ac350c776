from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrganizationsConfig(AppConfig):
    name = "organizations"
    verbose_name = _("Organisations and people")

    def ready(self) -> None:
        from organizations import auth  # noqa: F401  (login audit receivers)
        from organizations.navigation import nav_register

        nav_register(
            url_name="org_admin_home",
            label=_("Administration"),
            order=90,
            visible=lambda user: user.is_org_admin,
        )
