from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DigestsConfig(AppConfig):
    name = "digests"
    verbose_name = _("Email digests")

    def ready(self) -> None:
        from digests.audit_sentences import register as audit_sentences_register
        from digests.services import digest_demo_seed
        from digests.views import profile_digest_context
        from organizations.profile_sections import profile_section_register
        from organizations.signals import demo_seeded

        audit_sentences_register()
        profile_section_register(
            key="digest",
            template_name="digests/profile_section.html",
            context=profile_digest_context,
            order=60,
        )
        demo_seeded.connect(digest_demo_seed, dispatch_uid="digests-demo")
