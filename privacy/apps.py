from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PrivacyConfig(AppConfig):
    name = "privacy"
    verbose_name = _("Personal data")

    def ready(self) -> None:
        from content.signals import charter_accepted
        from notifications.kinds import kind_register
        from organizations.media import media_register
        from organizations.profile_sections import profile_section_register
        from privacy import receivers
        from privacy.audit_sentences import register as audit_sentences_register
        from privacy.models import DataExport
        from privacy.services.exports import NOTIFICATION_KIND

        audit_sentences_register()
        kind_register(NOTIFICATION_KIND, _("Your data export is ready"), email_default=True)
        # The files are downloaded from /me/data/download/; the media view would only ever
        # hand one to its owner too.
        media_register(
            folder="exports",
            model=DataExport,
            field="file",
            organization_id=lambda export: export.organization_id,
            can_view=lambda user, export: export.user_id == user.pk,
        )
        profile_section_register(
            key="privacy",
            template_name="privacy/profile_section.html",
            context=receivers.profile_privacy_context,
            order=90,
        )
        charter_accepted.connect(receivers.on_charter_accepted, dispatch_uid="privacy-charter")
