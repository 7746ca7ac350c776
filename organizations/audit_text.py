"""The audit log in sentences: "Claire Martin paused sharing: crisis on the Lyon site".

Each app registers the sentences of its own action keys in its AppConfig.ready() (the
audit page never imports a higher app). An entry whose key nobody registered still reads
as a sentence, never as its key. Names are looked up for a whole page at once: one query
for the people, one per kind of object a sentence refers to."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from organizations.models import AuditLogEntry, Role, User


class AuditNames:
    """Names for the ids and e-mail addresses that a page of entries mentions."""

    def __init__(self) -> None:
        self.people_by_id: dict[int, User] = {}
        self.people_by_email: dict[str, User] = {}
        self.objects: dict[tuple[type[models.Model], str], models.Model] = {}

    def person(self, email: str, *, user_id: int | None = None) -> str:
        user = self.people_by_id.get(user_id) if user_id else None
        user = user or self.people_by_email.get(email.lower())
        if user is not None:
            return user.get_full_name() or user.email
        return email

    def object(self, model: type[models.Model], pk: Any, default: str = "") -> str:
        found = self.objects.get((model, str(pk)))
        return str(found) if found is not None else default


@dataclass(frozen=True)
class AuditLine:
    """What a sentence is made from."""

    entry: AuditLogEntry
    actor: str  # a name; "Someone" when the log kept nobody
    target: str
    details: Mapping[str, Any]
    names: AuditNames


# One referenced object: its model and primary key, for the batched lookup.
Ref = tuple[type[models.Model], Any]


@dataclass(frozen=True)
class AuditSentence:
    sentence: Callable[[AuditLine], str]
    refs: Callable[[Mapping[str, Any]], Iterable[Ref]] | None = None
    # Details that hold e-mail addresses of people, shown as their names.
    people: tuple[str, ...] = ()


_registry: dict[str, AuditSentence] = {}


def audit_sentence_register(
    action: str,
    sentence: Callable[[AuditLine], str],
    *,
    refs: Callable[[Mapping[str, Any]], Iterable[Ref]] | None = None,
    people: Sequence[str] = (),
) -> None:
    """`sentence(line)` returns the translated sentence; `refs(details)` names the objects
    it looks up with `line.names.object(Model, pk)`."""
    _registry[action] = AuditSentence(sentence, refs, tuple(people))


def audit_sentence_registered(action: str) -> bool:
    return action in _registry


@dataclass(frozen=True)
class AuditRow:
    entry: AuditLogEntry
    sentence: str
    details: list[tuple[str, str]] = field(default_factory=list)


def audit_rows(entries: Iterable[AuditLogEntry]) -> list[AuditRow]:
    """The entries of one page as sentences, with their details in words."""
    entries = list(entries)
    names = _names_for(entries)
    rows = []
    for entry in entries:
        details = entry.details if isinstance(entry.details, dict) else {}
        line = AuditLine(
            entry=entry,
            actor=_actor(entry, names),
            target=entry.target_repr,
            details=details,
            names=names,
        )
        registered = _registry.get(entry.action)
        try:
            sentence = registered.sentence(line) if registered else _generic(line)
        except (KeyError, TypeError, ValueError, AttributeError):
            # Details written by an older version of the code: still a sentence.
            sentence = _generic(line)
        people = registered.people if registered else ()
        rows.append(AuditRow(entry, sentence, _detail_lines(details, names, people)))
    return rows


def _names_for(entries: list[AuditLogEntry]) -> AuditNames:
    names = AuditNames()
    organization_ids = {e.organization_id for e in entries if e.organization_id}
    user_ids = {e.actor_id for e in entries if e.actor_id}
    emails = {e.actor_email.lower() for e in entries if e.actor_email}
    refs: dict[type[models.Model], set[str]] = {}
    for entry in entries:
        registered = _registry.get(entry.action)
        details = entry.details if isinstance(entry.details, dict) else {}
        if registered is None:
            continue
        for key in registered.people:
            emails.update(str(v).lower() for v in _as_list(details.get(key)))
        if registered.refs is not None:
            try:
                for model, pk in registered.refs(details):
                    if pk not in (None, ""):
                        refs.setdefault(model, set()).add(str(pk))
            except (KeyError, TypeError, ValueError):
                continue
    if user_ids or emails:
        people = User.objects.filter(organization_id__in=organization_ids).filter(
            models.Q(pk__in=user_ids) | models.Q(email__in=emails)
        )
        for user in people.only("id", "email", "first_name", "last_name"):
            names.people_by_id[user.pk] = user
            names.people_by_email[user.email.lower()] = user
    for model, pks in refs.items():
        queryset = model._default_manager.filter(pk__in=_valid_pks(model, pks))
        if any(f.name == "organization" for f in model._meta.fields):
            queryset = queryset.filter(organization_id__in=organization_ids)
        for found in queryset:
            names.objects[(model, str(found.pk))] = found
    return names


def _valid_pks(model: type[models.Model], pks: set[str]) -> list[Any]:
    # A malformed id in old details is skipped, not a 500.
    kept = []
    for pk in pks:
        with contextlib.suppress(ValidationError):
            kept.append(model._meta.pk.to_python(pk))  # type: ignore[union-attr]
    return kept


def _actor(entry: AuditLogEntry, names: AuditNames) -> str:
    if entry.actor_id or entry.actor_email:
        return names.person(entry.actor_email, user_id=entry.actor_id)
    return _("The system")


def _generic(line: AuditLine) -> str:
    if line.target:
        return _("%(actor)s made a change to “%(target)s”.") % {
            "actor": line.actor,
            "target": line.target,
        }
    return _("%(actor)s made a change.") % {"actor": line.actor}


# --- details in words ---------------------------------------------------------------------

_DETAIL_LABELS: dict[str, Any] = {
    "reason": gettext_lazy("Reason"),
    "comment": gettext_lazy("Comment"),
    "version": gettext_lazy("Version"),
    "from": gettext_lazy("Before"),
    "to": gettext_lazy("After"),
    "role": gettext_lazy("Role"),
    "teams": gettext_lazy("Teams"),
    "active": gettext_lazy("Active"),
    "managers": gettext_lazy("Managers"),
    "parent": gettext_lazy("Parent team"),
    "network": gettext_lazy("Network"),
    "networks": gettext_lazy("Networks"),
    "shares": gettext_lazy("Shares"),
    "when": gettext_lazy("When"),
    "kind": gettext_lazy("Kind"),
    "value": gettext_lazy("Value"),
    "errors": gettext_lazy("Problems"),
    "known_account": gettext_lazy("Known account"),
    "revoked": gettext_lazy("Revoked at the network"),
    "points": gettext_lazy("Points"),
    "stock": gettext_lazy("Stock"),
    "cost": gettext_lazy("Cost"),
    "approvals": gettext_lazy("Approvals"),
    "required": gettext_lazy("Required"),
}

_NETWORKS = {"linkedin": "LinkedIn", "x": "X", "facebook": "Facebook", "sandbox": "Sandbox"}


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def network_names(value: Any) -> str:
    return ", ".join(_NETWORKS.get(str(v), str(v)) for v in _as_list(value))


def role_label(value: Any) -> str:
    return str(Role(value).label) if value in Role.values else str(value)


def _value_text(key: str, value: Any, names: AuditNames, people: tuple[str, ...]) -> str:
    if key in ("network", "networks"):
        return network_names(value)
    if key == "shares" and isinstance(value, list):
        return str(len(value))
    if key in ("from", "to", "role") and value in Role.values:
        return role_label(value)
    if key in people:
        return ", ".join(names.person(str(v)) for v in _as_list(value))
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, list):
        return ", ".join(_value_text(key, v, names, people) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_value_text(k, v, names, people)}" for k, v in value.items())
    return str(value)


def _detail_lines(
    details: Mapping[str, Any], names: AuditNames, people: tuple[str, ...]
) -> list[tuple[str, str]]:
    lines = []
    for key, value in details.items():
        label = _DETAIL_LABELS.get(key)
        lines.append(
            (
                str(label) if label else str(key).replace("_", " ").capitalize(),
                _value_text(key, value, names, people),
            )
        )
    return lines


# --- the organisation's own actions ------------------------------------------------------


def _role_changed(line: AuditLine) -> str:
    return _("%(actor)s changed the role of %(target)s from %(from)s to %(to)s.") % {
        "actor": line.actor,
        "target": line.target,
        "from": role_label(line.details.get("from")),
        "to": role_label(line.details.get("to")),
    }


def _invitation_created(line: AuditLine) -> str:
    return _("%(actor)s invited %(target)s as %(role)s.") % {
        "actor": line.actor,
        "target": line.target,
        "role": role_label(line.details.get("role")),
    }


def _login_failed(line: AuditLine) -> str:
    return _("A sign-in as %(email)s failed.") % {"email": line.entry.actor_email or "—"}


def _import_completed(line: AuditLine) -> str:
    return _("%(actor)s imported people from a file.") % {"actor": line.actor}


_OWN: dict[str, Any] = {
    "auth.login": gettext_lazy("%(actor)s signed in."),
    "auth.token_issued": gettext_lazy("%(actor)s created an API token."),
    "auth.token_revoked": gettext_lazy("%(actor)s revoked an API token."),
    "auth.tokens_revoked": gettext_lazy("%(actor)s revoked API tokens."),
    "team.created": gettext_lazy("%(actor)s created the team “%(target)s”."),
    "team.updated": gettext_lazy("%(actor)s changed the team “%(target)s”."),
    "team.deleted": gettext_lazy("%(actor)s deleted the team “%(target)s”."),
    "user.updated": gettext_lazy("%(actor)s changed the account of %(target)s."),
    "user.profile_updated": gettext_lazy("%(actor)s updated their profile."),
    "invitation.resent": gettext_lazy("%(actor)s sent the invitation to %(target)s again."),
    "invitation.revoked": gettext_lazy("%(actor)s revoked the invitation of %(target)s."),
    "invitation.accepted": gettext_lazy("%(actor)s accepted their invitation."),
    "import.rejected": gettext_lazy("%(actor)s tried to import people; the file was refused."),
    "organization.created": gettext_lazy("%(actor)s created the organisation."),
    "organization.updated": gettext_lazy("%(actor)s changed the organisation's settings."),
}


def _lazy_simple(message: Any) -> Callable[[AuditLine], str]:
    def sentence(line: AuditLine) -> str:
        return str(message) % {"actor": line.actor, "target": line.target}

    return sentence


for _action, _message in _OWN.items():
    audit_sentence_register(_action, _lazy_simple(_message))
audit_sentence_register("auth.login_failed", _login_failed)
audit_sentence_register("user.role_changed", _role_changed)
audit_sentence_register("invitation.created", _invitation_created)
audit_sentence_register("import.completed", _import_completed)
audit_sentence_register("team.updated", _lazy_simple(_OWN["team.updated"]), people=("managers",))
