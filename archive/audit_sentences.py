"""The audit log's sentences for the archive (registered in AppConfig.ready())."""

from __future__ import annotations

from django.utils.translation import gettext as _

from organizations.audit_text import AuditLine, audit_sentence_register


def _retention_changed(line: AuditLine) -> str:
    return _("%(actor)s set the archive's retention to %(years)s years (was %(before)s).") % {
        "actor": line.actor,
        "years": line.details.get("to", "?"),
        "before": line.details.get("from", "?"),
    }


def _export_retention_changed(line: AuditLine) -> str:
    return _(
        "%(actor)s set how long archive exports are kept to %(days)s days (was %(before)s)."
    ) % {
        "actor": line.actor,
        "days": line.details.get("to", "?"),
        "before": line.details.get("from", "?"),
    }


def _export_requested(line: AuditLine) -> str:
    return _("%(actor)s exported the archive from %(start)s to %(end)s.") % {
        "actor": line.actor,
        "start": line.details.get("from", "?"),
        "end": line.details.get("to", "?"),
    }


def register() -> None:
    audit_sentence_register("archive.retention_changed", _retention_changed)
    audit_sentence_register("archive.export_requested", _export_requested)
    audit_sentence_register("archive.export_retention_changed", _export_retention_changed)
