from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TwoFactorConfig(AppConfig):
    name = "twofactor"
    verbose_name = _("Two-factor sign-in")

    def ready(self) -> None:
        from allauth.mfa import signals as mfa_signals
        from django.contrib.auth.signals import user_logged_in

        from organizations.api import token_issue_checks
        from organizations.profile_sections import profile_section_register
        from twofactor import receivers
        from twofactor.api_tokens import token_issue_check
        from twofactor.audit_sentences import register as audit_sentences_register

        audit_sentences_register()
        mfa_signals.authenticator_added.connect(
            receivers.on_authenticator_added, dispatch_uid="twofactor-added"
        )
        mfa_signals.authenticator_removed.connect(
            receivers.on_authenticator_removed, dispatch_uid="twofactor-removed"
        )
        mfa_signals.authenticator_reset.connect(
            receivers.on_authenticator_reset, dispatch_uid="twofactor-reset"
        )
        mfa_signals.authenticator_used.connect(
            receivers.on_authenticator_used, dispatch_uid="twofactor-used"
        )
        user_logged_in.connect(receivers.on_user_logged_in, dispatch_uid="twofactor-login")
        # A password alone buys no API token for a person with a second factor.
        if token_issue_check not in token_issue_checks:
            token_issue_checks.append(token_issue_check)
        profile_section_register(
            key="twofactor",
            template_name="twofactor/profile_section.html",
            context=receivers.profile_two_factor_context,
            order=85,
        )
