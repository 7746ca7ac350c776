from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ArchiveConfig(AppConfig):
    name = "archive"
    verbose_name = _("Archive")

    def ready(self) -> None:
        from advocacy.signals import share_state_changed
        from archive.audit_sentences import register as audit_sentences_register
        from archive.services import (
            EXPORT_READY_KIND,
            archive_demo_seed,
            on_share_state_changed,
        )
        from notifications.kinds import kind_register
        from organizations.navigation import nav_register
        from organizations.signals import demo_seeded

        audit_sentences_register()
        share_state_changed.connect(on_share_state_changed, dispatch_uid="archive-share-state")
        demo_seeded.connect(archive_demo_seed, dispatch_uid="archive-demo")
        kind_register(EXPORT_READY_KIND, _("Archive export ready"), email_default=True)
        nav_register(
            url_name="archive_search",
            label=_("Archive"),
            order=70,
            visible=lambda user: user.is_compliance_officer,
        )
