from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SsoConfig(AppConfig):
    name = "sso"
    verbose_name = _("Single sign-on")

    def ready(self) -> None:
        from django.conf import settings
        from onelogin.saml2.constants import OneLogin_Saml2_Constants

        from sso import receivers
        from sso.audit_sentences import register as audit_sentences_register

        audit_sentences_register()
        receivers.connect()
        from organizations.auth import password_sign_in_checks

        # Accepting an invitation signs the person in with the password just chosen: not
        # where the organisation requires single sign-on.
        if _invitation_check not in password_sign_in_checks:
            password_sign_in_checks.append(_invitation_check)
        # python3-saml reads its tolerance for the IdP's clock from this class constant
        # (300 s by default). It applies only to the assertion's Conditions (NotBefore,
        # NotOnOrAfter); SubjectConfirmationData and SessionNotOnOrAfter are compared with
        # no tolerance, and IssueInstant is not checked at all. The setting is at most 600 s.
        OneLogin_Saml2_Constants.ALLOWED_CLOCK_DRIFT = settings.SSO_SAML_CLOCK_SKEW_SECONDS


def _invitation_check(email: str) -> str | None:
    from sso.adapter import password_sign_in_refusal

    return password_sign_in_refusal(None, email)
