"""The audit log's sentences for the privacy app (registered in AppConfig.ready())."""

from __future__ import annotations

from django.utils.translation import gettext as _

from organizations.audit_text import AuditLine, audit_sentence_register


def _erased(line: AuditLine) -> str:
    if line.details.get("self"):
        return _("%(pseudonym)s left the programme and had their data erased.") % {
            "pseudonym": line.details.get("pseudonym", "")
        }
    return _("%(actor)s erased the data of a person, now %(pseudonym)s.") % {
        "actor": line.actor,
        "pseudonym": line.details.get("pseudonym", ""),
    }


def _retention(line: AuditLine) -> str:
    if line.details.get("click_activity"):
        return _(
            "Retention: %(clicks)s raw clicks (and their %(activity)s activity rows), "
            "%(notifications)s notifications and %(exports)s data exports deleted."
        ) % {
            "clicks": line.details.get("clicks", 0),
            "activity": line.details.get("click_activity", 0),
            "notifications": line.details.get("notifications", 0),
            "exports": line.details.get("exports", 0),
        }
    return _(
        "Retention: %(clicks)s raw clicks, %(notifications)s notifications and %(exports)s "
        "data exports deleted."
    ) % {
        "clicks": line.details.get("clicks", 0),
        "notifications": line.details.get("notifications", 0),
        "exports": line.details.get("exports", 0),
    }


def register() -> None:
    audit_sentence_register(
        "privacy.export_requested",
        lambda line: _("%(actor)s asked for an export of their data.") % {"actor": line.actor},
    )
    audit_sentence_register("privacy.person_erased", _erased)
    audit_sentence_register(
        "privacy.account_disconnected",
        lambda line: (
            _("%(actor)s disconnected a network account of a person whose data they erased.")
            % {"actor": line.actor}
        ),
    )
    audit_sentence_register(
        "privacy.joined",
        lambda line: _("%(actor)s joined the programme.") % {"actor": line.actor},
    )
    audit_sentence_register(
        "privacy.rejoined",
        lambda line: _("%(actor)s joined the programme again.") % {"actor": line.actor},
    )
    audit_sentence_register(
        "privacy.left",
        lambda line: _("%(actor)s left the programme (history kept).") % {"actor": line.actor},
    )
    audit_sentence_register(
        "privacy.settings_changed",
        lambda line: _("%(actor)s changed the privacy settings.") % {"actor": line.actor},
    )
    audit_sentence_register("privacy.retention_applied", _retention)
