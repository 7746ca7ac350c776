from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ContentConfig(AppConfig):
    name = "content"
    verbose_name = _("Content library")

    def ready(self) -> None:
        from organizations.navigation import nav_register

        nav_register(
            url_name="feed",
            label=_("Feed"),
            order=10,
            visible=lambda user: True,
        )
        nav_register(
            url_name="library",
            label=_("Library"),
            order=60,
            visible=lambda user: user.can_edit_content,
        )
        nav_register(
            url_name="review",
            label=_("Review"),
            order=70,
            visible=lambda user: user.can_review,
        )
