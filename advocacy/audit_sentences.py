"""The audit log's sentences for sharing's own actions (registered in AppConfig.ready())."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from organizations.audit_text import AuditLine, audit_sentence_register, network_names


def _values(line: AuditLine, **extra: Any) -> dict[str, Any]:
    return {"actor": line.actor, "target": line.target, **extra}


def _shared(line: AuditLine) -> str:
    count = len(line.details.get("shares") or []) or 1
    return ngettext(
        "%(actor)s shared “%(target)s” on %(networks)s.",
        "%(actor)s shared “%(target)s” %(count)s times, on %(networks)s.",
        count,
    ) % _values(line, count=count, networks=network_names(line.details.get("networks")))


def _paused(line: AuditLine) -> str:
    reason = str(line.details.get("reason") or "").strip().rstrip(".")
    if reason:
        return _("%(actor)s paused sharing: %(reason)s") % _values(line, reason=reason)
    return _("%(actor)s paused sharing.") % _values(line)


def _connected(line: AuditLine) -> str:
    return _("%(actor)s connected their %(network)s account.") % _values(
        line, network=network_names(line.details.get("network"))
    )


def _disconnected(line: AuditLine) -> str:
    return _("%(actor)s disconnected their %(network)s account.") % _values(
        line, network=network_names(line.details.get("network"))
    )


def _app_saved(line: AuditLine) -> str:
    return _("%(actor)s saved the organisation's %(network)s app.") % _values(
        line, network=network_names(line.details.get("network"))
    )


def _app_deleted(line: AuditLine) -> str:
    return _("%(actor)s removed the organisation's %(network)s app.") % _values(
        line, network=network_names(line.details.get("network"))
    )


def register() -> None:
    audit_sentence_register("share.created", _shared)
    audit_sentence_register("sharing.paused", _paused)
    audit_sentence_register(
        "sharing.resumed", lambda line: _("%(actor)s resumed sharing.") % _values(line)
    )
    audit_sentence_register("social_account.connected", _connected)
    audit_sentence_register("social_account.disconnected", _disconnected)
    audit_sentence_register("network_app.saved", _app_saved)
    audit_sentence_register("network_app.deleted", _app_deleted)
