"""The audit log's sentences for the digest (registered in AppConfig.ready())."""

from __future__ import annotations

from django.utils.translation import gettext as _

from organizations.audit_text import AuditLine, audit_sentence_register


def _settings_changed(line: AuditLine) -> str:
    return _("%(actor)s changed the email digest schedule.") % {"actor": line.actor}


def register() -> None:
    audit_sentence_register("digest.settings_changed", _settings_changed)
