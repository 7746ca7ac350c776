from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ContentConfig(AppConfig):
    name = "content"
    verbose_name = _("Content library")

    def ready(self) -> None:
        from notifications.kinds import kind_register
        from organizations.navigation import nav_register
        from organizations.signals import demo_seeded

        kind_register("content.review_requested", _("Content waits for my review"))
        kind_register("content.decision", _("A reviewer decides on my content"))
        kind_register("content.suggestion_decided", _("My suggestion is accepted or declined"))

        nav_register(url_name="feed", label=_("Feed"), order=10)
        nav_register(url_name="suggestions", label=_("Suggest"), order=45)
        nav_register(url_name="guidelines", label=_("Guidelines"), order=50)
        nav_register(
            url_name="library",
            label=_("Library"),
            order=60,
            visible=lambda user: user.can_edit_content,
        )
        nav_register(
            url_name="review_queue",
            label=_("Review"),
            order=70,
            visible=lambda user: user.can_review,
        )

        from content.demo import seed_demo_content

        demo_seeded.connect(seed_demo_content, dispatch_uid="content-demo")
