"""The audit log's sentences for two-factor sign-in (registered in AppConfig.ready())."""

from __future__ import annotations

from collections.abc import Callable

from django.utils.text import capfirst
from django.utils.translation import gettext as _

from organizations.audit_text import AuditLine, audit_sentence_register


def _factor(line: AuditLine) -> str:
    kind = line.details.get("type")
    if kind == "totp":
        return _("an authenticator app")
    if kind == "webauthn":
        name = line.details.get("name") or ""
        if line.details.get("passkey"):
            return _("the passkey “%(name)s”") % {"name": name}
        return _("the security key “%(name)s”") % {"name": name}
    if kind == "recovery_codes":
        return _("recovery codes")
    return _("a second factor")


def _sentence(template: Callable[[], str]) -> Callable[[AuditLine], str]:
    def sentence(line: AuditLine) -> str:
        return capfirst(
            template() % {"actor": line.actor, "target": line.target, "factor": _factor(line)}
        )

    return sentence


def _policy(line: AuditLine) -> str:
    names = {
        "org_admin": _("organisation admins"),
        "editor": _("editors"),
        "reviewer": _("reviewers"),
    }
    wanted = set(line.details.get("roles", []))
    roles = [str(label) for role, label in names.items() if role in wanted]
    if not roles:
        return capfirst(
            _("%(actor)s no longer requires two-factor sign-in of anyone.") % {"actor": line.actor}
        )
    return capfirst(
        _("%(actor)s now requires two-factor sign-in of: %(roles)s.")
        % {"actor": line.actor, "roles": ", ".join(roles)}
    )


def _reset(line: AuditLine) -> str:
    return capfirst(
        _(
            "%(actor)s reset the two-factor sign-in of %(target)s (lost device): every "
            "factor removed (%(count)s), every session ended."
        )
        % {
            "actor": line.actor,
            "target": line.target,
            "count": line.details.get("authenticators", 0),
        }
    )


def register() -> None:
    audit_sentence_register("twofactor.added", _sentence(lambda: _("%(actor)s set up %(factor)s.")))
    audit_sentence_register(
        "twofactor.removed", _sentence(lambda: _("%(actor)s removed %(factor)s."))
    )
    audit_sentence_register(
        "twofactor.recovery_codes_regenerated",
        _sentence(lambda: _("%(actor)s generated new recovery codes.")),
    )
    audit_sentence_register(
        "twofactor.recovery_code_used",
        _sentence(lambda: _("%(actor)s signed in with a recovery code.")),
    )
    audit_sentence_register("twofactor.policy_updated", _policy)
    audit_sentence_register("twofactor.reset", _reset)
