"""The audit log's sentence for the nudges' settings (registered in AppConfig.ready())."""

from __future__ import annotations

from django.utils.translation import gettext as _

from organizations.audit_text import AuditLine, audit_sentence_register


def _setting_names() -> dict[str, str]:
    return {
        "scheduled_share_enabled": _("reminder before a scheduled share"),
        "challenge_ending_enabled": _("challenge about to end"),
        "charter_enabled": _("social media charter"),
        "inactive_enabled": _("reminder to share"),
        "inactivity_weeks": _("weeks without a share"),
        "weekly_cap": _("nudges per person in seven days"),
    }


def _value(value: object) -> str:
    if value is True:
        return _("on")
    if value is False:
        return _("off")
    return str(value)


def _settings_changed(line: AuditLine) -> str:
    names = _setting_names()
    changes = line.details.get("changes") or {}
    parts = [
        _("%(name)s: %(before)s → %(after)s")
        % {"name": names.get(name, name), "before": _value(pair[0]), "after": _value(pair[1])}
        for name, pair in changes.items()
        if isinstance(pair, list | tuple) and len(pair) == 2
    ]
    if not parts:
        return _("%(actor)s changed the nudges.") % {"actor": line.actor}
    return _("%(actor)s changed the nudges (%(changes)s).") % {
        "actor": line.actor,
        "changes": "; ".join(parts),
    }


def register() -> None:
    audit_sentence_register("nudges.settings_changed", _settings_changed)
