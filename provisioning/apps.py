from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProvisioningConfig(AppConfig):
    name = "provisioning"
    verbose_name = _("Provisioning (SCIM)")

    def ready(self) -> None:
        from provisioning.audit_sentences import register as audit_sentences_register

        audit_sentences_register()
