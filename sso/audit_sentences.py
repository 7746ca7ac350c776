"""The audit log's sentences for single sign-on (registered in AppConfig.ready())."""

from __future__ import annotations

from collections.abc import Callable

from django.utils.text import capfirst
from django.utils.translation import gettext as _

from organizations.audit_text import AuditLine, audit_sentence_register


def _sentence(template: Callable[[], str]) -> Callable[[AuditLine], str]:
    def sentence(line: AuditLine) -> str:
        return capfirst(
            template()
            % {
                "actor": line.actor,
                "target": line.target,
                "reason": line.details.get("reason", ""),
            }
        )

    return sentence


def register() -> None:
    sentences: dict[str, Callable[[], str]] = {
        "sso.configured": lambda: _("%(actor)s set up the identity provider."),
        "sso.disabled": lambda: _("%(actor)s turned single sign-on off."),
        "sso.mapping_changed": lambda: _("%(actor)s changed the attribute mapping."),
        "sso.enforcement_changed": lambda: _("%(actor)s changed the single sign-on requirement."),
        "sso.domain_claimed": lambda: _("%(actor)s added the domain %(target)s."),
        "sso.domain_verified": lambda: _("The domain %(target)s was verified."),
        "sso.domain_removed": lambda: _("%(actor)s removed the domain %(target)s."),
        "sso.user_created": lambda: _(
            "%(target)s signed in with single sign-on for the first time: account created."
        ),
        "sso.user_signed_in": lambda: _("%(target)s signed in with single sign-on."),
        "sso.sign_in_refused": lambda: _("A single sign-on was refused (%(reason)s)."),
        "sso.password_refused": lambda: _(
            "A password sign-in by %(actor)s was refused: single sign-on is required."
        ),
        "sso.break_glass_sign_in": lambda: _(
            "BREAK-GLASS: %(actor)s signed in with a password while single sign-on is required."
        ),
    }
    for action, template in sentences.items():
        audit_sentence_register(action, _sentence(template))
