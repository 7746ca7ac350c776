from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrganizationsConfig(AppConfig):
    name = "organizations"
    verbose_name = _("Organisations and people")

    def ready(self) -> None:
        from organizations import api_schema, auth  # noqa: F401  (schema extension, receivers)
        from organizations.navigation import nav_register

        nav_register(
            url_name="org_admin_home",
            label=_("Administration"),
            order=90,
            visible=lambda user: user.is_org_admin,
        )

        from organizations.media import media_register
        from organizations.models import Organization, User

        # Avatars and the logo are shown to every member of the organisation.
        media_register(
            folder="avatars",
            model=User,
            field="avatar",
            organization_id=lambda owner: owner.organization_id,
            can_view=lambda viewer, owner: True,
        )
        media_register(
            folder="logos",
            model=Organization,
            field="logo",
            organization_id=lambda organization: organization.pk,
            can_view=lambda viewer, organization: True,
        )
