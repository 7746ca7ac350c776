from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NudgesConfig(AppConfig):
    name = "nudges"
    verbose_name = _("Nudges")

    def ready(self) -> None:
        from notifications.kinds import kind_register
        from nudges import receivers
        from nudges.audit_sentences import register as audit_sentences_register
        from nudges.models import NOTIFICATION_KINDS, NudgeKind
        from nudges.selectors import profile_nudges_context
        from organizations.profile_sections import profile_section_register
        from organizations.signals import demo_seeded

        audit_sentences_register()
        # Email on for every nudge (they are rare: one a week at most by default); push
        # where it is time-bound.
        pushed = {NudgeKind.SCHEDULED_SHARE, NudgeKind.CHALLENGE_ENDING}
        for kind in NudgeKind:
            kind_register(
                NOTIFICATION_KINDS[kind.value],
                kind.label,
                email_default=True,
                push=kind in pushed,
            )
        profile_section_register(
            key="nudges",
            template_name="nudges/profile_section.html",
            context=profile_nudges_context,
            order=60,
        )
        demo_seeded.connect(receivers.on_demo_seeded, dispatch_uid="nudges-demo")
