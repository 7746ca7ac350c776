"""The audit log's sentences for SCIM provisioning (registered in AppConfig.ready())."""

from __future__ import annotations

from collections.abc import Callable

from django.utils.text import capfirst
from django.utils.translation import gettext as _

from organizations.audit_text import AuditLine, audit_sentence_register


def _by_token(line: AuditLine) -> str:
    token = line.details.get("token")
    return _("the SCIM token %(prefix)s…") % {"prefix": token} if token else _("SCIM")


def _sentence(template: Callable[[], str], *, by_token: bool = True) -> Callable[[AuditLine], str]:
    def sentence(line: AuditLine) -> str:
        return capfirst(
            template()
            % {"actor": _by_token(line) if by_token else line.actor, "target": line.target}
        )

    return sentence


def register() -> None:
    audit_sentence_register(
        "scim.token_created",
        _sentence(lambda: _("%(actor)s created the SCIM token %(target)s."), by_token=False),
    )
    audit_sentence_register(
        "scim.token_revoked",
        _sentence(lambda: _("%(actor)s revoked the SCIM token %(target)s."), by_token=False),
    )
    audit_sentence_register(
        "scim.user_created", _sentence(lambda: _("%(actor)s created the account of %(target)s."))
    )
    audit_sentence_register(
        "scim.user_updated", _sentence(lambda: _("%(actor)s updated the account of %(target)s."))
    )
    audit_sentence_register(
        "scim.user_deleted", _sentence(lambda: _("%(actor)s deleted the account of %(target)s."))
    )
    audit_sentence_register(
        "scim.group_created", _sentence(lambda: _("%(actor)s created the team %(target)s."))
    )
    audit_sentence_register(
        "scim.group_updated", _sentence(lambda: _("%(actor)s updated the team %(target)s."))
    )
    audit_sentence_register(
        "scim.group_deleted", _sentence(lambda: _("%(actor)s deleted the team %(target)s."))
    )
    audit_sentence_register(
        "person.deprovisioned",
        _sentence(lambda: _("%(actor)s deactivated %(target)s everywhere."), by_token=False),
    )
    audit_sentence_register(
        "person.reactivated",
        _sentence(lambda: _("%(actor)s reactivated %(target)s."), by_token=False),
    )
