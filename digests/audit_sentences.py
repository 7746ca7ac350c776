"""The audit log's sentences for the digest (registered in AppConfig.ready())."""

from __future__ import annotations

from django.utils.translation import gettext as _

from digests.models import Frequency, Weekday
from organizations.audit_text import AuditLine, audit_sentence_register


def _settings_changed(line: AuditLine) -> str:
    after = line.details.get("after") or {}
    return _(
        "%(actor)s changed the email digest: %(frequency)s by default, "
        "weekly on %(weekday)s, at %(hour)s:00."
    ) % {
        "actor": line.actor,
        "frequency": str(Frequency(after["default_frequency"]).label).lower(),
        "weekday": Weekday(int(after["weekday"])).label,
        "hour": f"{int(after['hour']):02d}",
    }


def register() -> None:
    audit_sentence_register("digest.settings_changed", _settings_changed)
