"""The audit log's sentences for the content library's actions (registered in
AppConfig.ready())."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from content.models import GuidelineKind, RuleKind
from organizations.audit_text import AuditLine, audit_sentence_register

_PLAIN: dict[str, Any] = {
    "content.created": gettext_lazy("%(actor)s created “%(target)s”."),
    "content.updated": gettext_lazy("%(actor)s edited “%(target)s”."),
    "content.submitted": gettext_lazy("%(actor)s submitted “%(target)s” for review."),
    "content.approval_given": gettext_lazy("%(actor)s approved “%(target)s”."),
    "content.approved": gettext_lazy("“%(target)s” is approved and published."),
    "suggestion.created": gettext_lazy("%(actor)s suggested content."),
    "suggestion.accepted": gettext_lazy("%(actor)s accepted a suggestion."),
    "suggestion.declined": gettext_lazy("%(actor)s declined a suggestion."),
    "compliance.policy_updated": gettext_lazy("%(actor)s changed the compliance settings."),
    "content.chain_restarted": gettext_lazy(
        "The review of “%(target)s” started again at the first step."
    ),
    "approval.chain_created": gettext_lazy("%(actor)s created the approval chain “%(target)s”."),
    "approval.chain_updated": gettext_lazy("%(actor)s changed the approval chain “%(target)s”."),
    "approval.chain_deleted": gettext_lazy("%(actor)s deleted the approval chain “%(target)s”."),
    "approval.step_added": gettext_lazy("%(actor)s added a step to the chain “%(target)s”."),
    "approval.step_updated": gettext_lazy("%(actor)s changed a step of the chain “%(target)s”."),
    "approval.step_deleted": gettext_lazy("%(actor)s deleted a step of the chain “%(target)s”."),
    "approval.steps_reordered": gettext_lazy(
        "%(actor)s reordered the steps of the chain “%(target)s”."
    ),
    "approval.steps_replaced": gettext_lazy("%(actor)s set the steps of the chain “%(target)s”."),
    "approval.rule_added": gettext_lazy("%(actor)s added a rule to the chain “%(target)s”."),
    "approval.rule_deleted": gettext_lazy("%(actor)s removed a rule of the chain “%(target)s”."),
    "approval.rules_replaced": gettext_lazy("%(actor)s set the rules of the chain “%(target)s”."),
    "approval.group_created": gettext_lazy("%(actor)s created the reviewer group “%(target)s”."),
    "approval.group_updated": gettext_lazy("%(actor)s changed the reviewer group “%(target)s”."),
    "approval.group_deleted": gettext_lazy("%(actor)s deleted the reviewer group “%(target)s”."),
}


def _step_passed(line: AuditLine) -> str:
    return _("%(actor)s approved “%(target)s” at the step “%(step)s”; on to the next.") % _values(
        line, step=line.details.get("step", "—")
    )


def _step_overdue(line: AuditLine) -> str:
    return _("“%(target)s” is past the deadline of the step “%(step)s”: reminders sent.") % (
        _values(line, step=line.details.get("step", "—"))
    )


def _values(line: AuditLine, **extra: Any) -> dict[str, Any]:
    return {"actor": line.actor, "target": line.target, **extra}


def _plain(message: Any) -> Callable[[AuditLine], str]:
    return lambda line: str(message) % _values(line)


def _rejected(line: AuditLine) -> str:
    comment = str(line.details.get("comment") or "").strip().rstrip(".")
    if comment:
        return _("%(actor)s sent “%(target)s” back: %(comment)s") % _values(line, comment=comment)
    return _("%(actor)s sent “%(target)s” back to its author.") % _values(line)


def _withdrawn(line: AuditLine) -> str:
    reason = str(line.details.get("reason") or "").strip().rstrip(".")
    if reason:
        return _("%(actor)s withdrew “%(target)s”: %(reason)s") % _values(line, reason=reason)
    return _("%(actor)s withdrew “%(target)s”.") % _values(line)


def _kind(value: Any) -> str:
    return str(RuleKind(value).label) if value in RuleKind.values else str(value)


def _rule_added(line: AuditLine) -> str:
    return _("%(actor)s added a rule (%(kind)s): %(value)s") % _values(
        line, kind=_kind(line.details.get("kind")), value=line.details.get("value", "")
    )


def _rule_removed(line: AuditLine) -> str:
    return _("%(actor)s removed a rule (%(kind)s): %(value)s") % _values(
        line, kind=_kind(line.details.get("kind")), value=line.details.get("value", "")
    )


def _guideline_saved(line: AuditLine) -> str:
    kind = line.details.get("kind")
    page = str(GuidelineKind(kind).label) if kind in GuidelineKind.values else line.target
    return _("%(actor)s updated the page “%(page)s”.") % _values(line, page=page)


def _charter_accepted(line: AuditLine) -> str:
    return _("%(actor)s accepted the charter (version %(version)s).") % _values(
        line, version=line.details.get("version", "—")
    )


def register() -> None:
    for action, message in _PLAIN.items():
        audit_sentence_register(action, _plain(message))
    audit_sentence_register("content.rejected", _rejected)
    audit_sentence_register("content.withdrawn", _withdrawn)
    audit_sentence_register("compliance.rule_added", _rule_added)
    audit_sentence_register("compliance.rule_removed", _rule_removed)
    audit_sentence_register("guideline.saved", _guideline_saved)
    audit_sentence_register("charter.accepted", _charter_accepted)
    audit_sentence_register("content.step_passed", _step_passed)
    audit_sentence_register("content.step_overdue", _step_overdue)
