from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MessagingConfig(AppConfig):
    name = "messaging"
    verbose_name = _("Slack and Microsoft Teams")

    def ready(self) -> None:
        from messaging import receivers
        from messaging.audit_sentences import register as audit_sentences_register
        from messaging.outbox import KIND_CHANNEL_BROKEN
        from notifications.kinds import kind_register

        audit_sentences_register()
        kind_register(KIND_CHANNEL_BROKEN, _("A Slack or Teams channel stops working"))
        receivers.connect()
