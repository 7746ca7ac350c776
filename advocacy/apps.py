from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AdvocacyConfig(AppConfig):
    name = "advocacy"
    verbose_name = _("Advocacy")

    def ready(self) -> None:
        from advocacy.receivers import on_content_withdrawn
        from content.signals import content_withdrawn
        from notifications.kinds import kind_register
        from organizations.navigation import nav_register
        from organizations.signals import demo_seeded

        kind_register("advocacy.share_problem", _("A share of mine fails or needs checking"))
        kind_register("advocacy.reconnect", _("A network account of mine needs reconnecting"))
        kind_register("advocacy.recall", _("Content I shared is withdrawn"))
        kind_register("advocacy.token_expiring", _("A network connection of mine is about to end"))
        kind_register("advocacy.token_expired", _("A network connection of mine has ended"))

        from advocacy.networks.connect import connect_signals

        connect_signals()
        content_withdrawn.connect(on_content_withdrawn, dispatch_uid="advocacy-recall")

        from content.extensions import content_action_register

        content_action_register(
            url_name="share_content",
            label=_("Share"),
            visible=lambda user, content: content.lifecycle == "published",
            primary=True,
        )
        nav_register(url_name="my_shares", label=_("My shares"), order=40)

        from advocacy.agency import register as agency_register

        agency_register()
        from advocacy.audit_sentences import register as audit_sentences_register

        audit_sentences_register()

        from advocacy.demo import seed_demo_shares

        demo_seeded.connect(seed_demo_shares, dispatch_uid="advocacy-demo")
