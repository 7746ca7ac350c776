"""Erasing a person: their personal fields wiped, what only concerns them deleted, the
points ledger and the audit log kept on an opaque id (totals unchanged), their connected
accounts disconnected and revoked, their files deleted. The archive of what was shared is
not touched: it is kept under legal retention (its rows cannot change).

Connected accounts are disconnected first, each in its own step (a token revoked at the
network cannot be un-revoked by a rollback, so that call is never made inside the
transaction); everything else is one transaction, audited with the pseudonym only."""

from __future__ import annotations

import json
import logging
import re
import secrets
from collections.abc import Iterable
from typing import Any

from django.db import connection, models, transaction
from django.db.models import Q, TextField
from django.db.models.functions import Cast
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from advocacy.models import Share, ShareStatus, SocialAccount
from advocacy.services.accounts import account_disconnect
from messaging.models import ChannelMessage
from notifications.models import Notification
from organizations.audit import audit_record
from organizations.errors import ConflictError, DomainError, PermissionDeniedError
from organizations.media import media_discard_on_commit
from organizations.models import AuditLogEntry, Invitation, Role, User
from organizations.services import user_sessions_end as _sessions_end
from privacy.models import DataExport
from privacy.registry import DELETE, UNLINK, installed_entries
from privacy.selectors import other_active_admins

logger = logging.getLogger(__name__)

ERASED_DOMAIN = "erased.invalid"
WAITING_SHARES = (
    ShareStatus.SCHEDULED,
    ShareStatus.NEEDS_RECONNECT,
    ShareStatus.AWAITING_CONFIRMATION,
)


def is_erased(user: User) -> bool:
    return user.email.endswith(f"@{ERASED_DOMAIN}")


def _pseudonym() -> str:
    return f"erased-{secrets.token_hex(6)}"


def person_erase_check(
    *, actor: User, user: User, confirm_email: str, self_service: bool = False
) -> None:
    """Refuse, with a message naming the field, anything erasure must not do."""
    if actor.organization_id is None or user.organization_id != actor.organization_id:
        raise PermissionDeniedError(_("This person is not in your organisation."))
    if self_service:
        if actor.pk != user.pk:
            raise PermissionDeniedError(_("You can only erase your own data here."))
    else:
        if not actor.is_org_admin:
            raise PermissionDeniedError(_("Only organisation administrators can do this."))
        if actor.pk == user.pk:
            raise DomainError(
                _("You cannot erase yourself here: use “Leave the programme” on your data page."),
                field="confirm_email",
            )
    if is_erased(user):
        raise ConflictError(_("This person's data has already been erased."))
    if user.role == Role.ORG_ADMIN and user.is_active and not other_active_admins(user=user):
        raise ConflictError(
            _(
                "This is the organisation's last administrator: make someone else an "
                "administrator first."
            )
        )
    if (confirm_email or "").strip().lower() != user.email.lower():
        raise DomainError(
            _("Type the person's email address exactly to confirm."), field="confirm_email"
        )


def person_erase(
    *,
    actor: User,
    user: User,
    confirm_email: str,
    request: HttpRequest | None = None,
    self_service: bool = False,
) -> str:
    """Erase `user`'s personal data (see the module). Returns the pseudonym."""
    person_erase_check(
        actor=actor, user=user, confirm_email=confirm_email, self_service=self_service
    )
    pseudonym = _pseudonym()
    # The network tokens: revoked where the network allows it, then deleted with the
    # account (and the account's waiting shares cancelled), one account at a time.
    for account in SocialAccount.objects.filter(user=user):
        network = account.network
        revoked = account_disconnect(user=user, account=account, request=None)
        if actor.pk != user.pk:
            # account_disconnect audits the disconnection as done by the account's owner
            # (it has no actor parameter): this entry says which admin did it, and why.
            audit_record(
                action="privacy.account_disconnected",
                organization=user.organization,
                actor=actor,
                target=user,
                request=request,
                details={
                    "network": network,
                    "revoked": revoked,
                    "reason": "erasure",
                    "erased_as": pseudonym,
                },
            )

    organization_id = user.organization_id
    assert organization_id is not None  # person_erase_check refused anyone else
    old_email = user.email
    names = _names_of(user)
    files = [user.avatar.name] if user.avatar else []
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        if is_erased(user):
            raise ConflictError(_("This person's data has already been erased."))
        counts = _erase_rows(user)
        # Locked first: a build finishing now either stored its file on the row (read
        # here, deleted after commit) or finds the row gone and deletes its file itself.
        files += [
            name
            for name in DataExport.objects.select_for_update()
            .filter(user=user)
            .values_list("file", flat=True)
            if name
        ]
        counts["data_exports"] = DataExport.objects.filter(user=user).delete()[0]
        user.groups.clear()
        user.user_permissions.clear()
        counts["waiting_shares"] = Share.objects.filter(
            user=user, status__in=WAITING_SHARES
        ).update(status=ShareStatus.CANCELLED, last_error=_("The person's data was erased."))
        counts["invitations"] = Invitation.objects.filter(
            organization_id=organization_id, email__iexact=old_email
        ).delete()[0]
        counts["scim_person"] = _scim_person_forget(user)
        counts["archive_exports"] = _archive_requester_forget(user)
        counts["sso_break_glass"] = _sso_break_glass_forget(user)
        counts["audit_entries"] = _audit_pseudonymise(
            user=user, old_email=old_email, names=names, pseudonym=pseudonym
        )
        counts["others_notifications"] = _scrub_text(
            Notification.objects.filter(organization_id=organization_id),
            ("title", "body"),
            needles=_org_wide_needles(old_email, names),
            replacement=pseudonym,
        )
        counts["channel_messages"] = _scrub_text(
            ChannelMessage.objects.filter(organization_id=organization_id),
            ("title", "detail", "payload"),
            needles=_org_wide_needles(old_email, names),
            replacement=pseudonym,
        )
        _django_admin_log_pseudonymise(user=user, pseudonym=pseudonym)
        user.email = f"{pseudonym}@{ERASED_DOMAIN}"
        user.first_name = user.last_name = user.job_title = user.time_zone = ""
        # The identity provider's id (often an employee number) and the last sign-in.
        user.external_id = ""
        user.last_login = None
        user.avatar = ""  # type: ignore[assignment]
        user.is_active = False
        user.is_staff = user.is_superuser = False
        if user.role == Role.ORG_ADMIN:
            user.role = Role.EMPLOYEE
        user.set_unusable_password()
        user.save()
        media_discard_on_commit(*files)
        audit_record(
            action="privacy.person_erased",
            organization=user.organization,
            actor=user if actor.pk == user.pk else actor,
            target=user,
            request=request if actor.pk != user.pk else None,
            details={"pseudonym": pseudonym, "self": actor.pk == user.pk, "counts": counts},
        )
    # After commit, outside the transaction: the scan reads every live session. The
    # sessions are already unusable (inactive account, new unusable password: Django's
    # session hash no longer matches); this deletes the rows that name the person.
    _sessions_end(user)
    _dashboards_forget(user.organization_id)
    return pseudonym


def _names_of(user: User) -> dict[str, str]:
    return {
        "full": user.get_full_name(),
        "first": user.first_name.strip(),
        "last": user.last_name.strip(),
        "reversed": f"{user.last_name} {user.first_name}".strip(),
    }


def _org_wide_needles(email: str, names: dict[str, str]) -> list[str]:
    """What names the person in text written about others' business: the full name (both
    orders) and the address. A first name alone is too common to replace everywhere."""
    found = [email]
    if names["first"] and names["last"]:
        found += [names["full"], names["reversed"]]
    return found


def _person_needles(email: str, names: dict[str, str]) -> list[str]:
    """In rows by or about the person, each name on its own goes too."""
    return [
        n
        for n in (email, names["full"], names["reversed"], names["last"], names["first"])
        if len(n) >= 2
    ]


def _replacer(needles: Iterable[str], replacement: str):  # type: ignore[no-untyped-def]
    ordered = sorted({n for n in needles if n}, key=len, reverse=True)
    if not ordered:
        return lambda text: text
    pattern = re.compile("|".join(rf"(?<!\w){re.escape(n)}(?!\w)" for n in ordered), re.IGNORECASE)

    def replace(value: Any) -> Any:
        if isinstance(value, str):
            return pattern.sub(replacement, value)
        if isinstance(value, list):
            return [replace(item) for item in value]
        if isinstance(value, dict):
            return {replace(key): replace(item) for key, item in value.items()}
        return value

    return replace


def _erase_rows(user: User) -> dict[str, int]:
    counts: dict[str, int] = {}
    for entry in installed_entries():
        if entry.erase == DELETE:
            counts[entry.kind] = entry.rows_of(user).delete()[0]
        elif entry.erase == UNLINK:
            rows = list(entry.rows_of(user))
            for row in rows:
                for name in entry.user_fields:
                    getattr(row, name).remove(user)
            counts[entry.kind] = len(rows)
    return counts


def _scim_person_forget(user: User) -> int:
    """SCIM's record of the person: marked as deleted for the identity provider (it no
    longer lists or updates the account, so it cannot write the person's details back
    onto the opaque account), the language it set wiped."""
    from django.apps import apps

    if not apps.is_installed("provisioning"):
        return 0
    from provisioning.models import ScimPerson

    found = ScimPerson.objects.filter(user=user).first()
    if found is None and not user.external_id:
        return 0
    ScimPerson.objects.update_or_create(
        user=user,
        defaults={
            "organization_id": user.organization_id,
            "preferred_language": "",
            "removed_at": (found.removed_at if found and found.removed_at else timezone.now()),
        },
    )
    return 1


def _sso_break_glass_forget(user: User) -> int:
    """An erased account cannot be anyone's way back in: it is removed as the break-glass
    administrator of single sign-on connections (the organisation's admins name another)."""
    from django.apps import apps

    if not apps.is_installed("sso"):
        return 0
    from sso.models import SsoConnection

    return SsoConnection.objects.filter(break_glass_admin=user).update(break_glass_admin=None)


def _archive_requester_forget(user: User) -> int:
    """The archive's export requests keep the requester's address: the archive app
    removes it (`archive.services.person_forget_requester`). Guarded: an archive without
    that function leaves them as they are."""
    try:
        from archive.services import person_forget_requester
    except ImportError:
        logger.warning("archive.services.person_forget_requester is missing")
        return 0
    return int(person_forget_requester(user=user) or 0)


def _scrub_text(
    rows: models.QuerySet, fields: tuple[str, ...], *, needles: list[str], replacement: str
) -> int:
    """Replace the needles in `fields` of the rows that contain one (text or JSON)."""
    if not needles:
        return 0
    replace = _replacer(needles, replacement)
    condition = Q()
    annotations = {}
    for name in fields:
        column = f"_privacy_{name}"
        annotations[column] = Cast(name, TextField())
        for needle in needles:
            condition |= Q(**{f"{column}__icontains": needle})
    changed = 0
    for row in rows.annotate(**annotations).filter(condition).only("pk", *fields).iterator():
        values = {name: replace(getattr(row, name)) for name in fields}
        rows.model._default_manager.filter(pk=row.pk).update(**values)
        changed += 1
    return changed


def _audit_pseudonymise(
    *, user: User, old_email: str, names: dict[str, str], pseudonym: str
) -> int:
    """The audit log is append-only (a trigger): inside this transaction only, with the
    purge flag on, the entries by or about the person get the pseudonym instead of their
    address and names, and lose the person's IP address; entries that name them in passing
    (an invitation's address) get the pseudonym too. Then the flag is off again."""
    about = Q(actor=user) | Q(target_type=user._meta.label_lower, target_id=str(user.pk))
    wide = _org_wide_needles(old_email, names)
    mention = Q(actor_email__iexact=old_email)
    entries = AuditLogEntry.objects.filter(organization=user.organization).annotate(
        _privacy_details=Cast("details", TextField())
    )
    for needle in wide:
        mention |= Q(target_repr__icontains=needle) | Q(_privacy_details__icontains=needle)
    personal = _replacer(_person_needles(old_email, names), pseudonym)
    passing = _replacer(wide, pseudonym)
    updates = []
    for entry in entries.filter(about | mention).iterator():
        own = entry.actor_id == user.pk or (
            entry.target_type == user._meta.label_lower and entry.target_id == str(user.pk)
        )
        replace = personal if own else passing
        updates.append(
            (
                pseudonym if entry.actor_id == user.pk else replace(entry.actor_email),
                replace(entry.target_repr)[:255],
                None if entry.actor_id == user.pk else entry.ip_address,
                json.dumps(replace(entry.details)),
                entry.pk,
            )
        )
    if not updates:
        return 0
    table = AuditLogEntry._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL portevoix.audit_purge = 'on'")
        cursor.executemany(
            f"UPDATE {table} SET actor_email = %s, target_repr = %s, ip_address = %s, "  # noqa: S608
            f"details = %s WHERE id = %s",
            updates,
        )
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL portevoix.audit_purge = 'off'")
    return len(updates)


def _django_admin_log_pseudonymise(*, user: User, pseudonym: str) -> None:
    """The platform's technical admin log names the objects it changed."""
    from django.contrib.admin.models import LogEntry
    from django.contrib.contenttypes.models import ContentType

    LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(User), object_id=str(user.pk)
    ).update(object_repr=pseudonym, change_message="")


def _dashboards_forget(organization_id: int | None) -> None:
    """The dashboards' cached answers hold names until the next rollup pass: drop the
    organisation's so that the erased name is gone at once (Redis cache only; another
    cache expires them within the hour)."""
    from django.conf import settings
    from django.core.cache import cache

    if organization_id is None or not settings.CACHES["default"]["BACKEND"].endswith("RedisCache"):
        return
    try:
        client = cache._cache.get_client(write=True)  # type: ignore[attr-defined]
        prefix = settings.CACHES["default"].get("KEY_PREFIX", "")
        database = str(settings.DATABASES["default"].get("NAME", ""))
        pattern = f"{prefix}:*:analytics:dash:*:{database}:{organization_id}:*"
        for key in client.scan_iter(pattern, count=1000):
            client.delete(key)
    except Exception:
        logger.warning("Could not drop the cached dashboards", exc_info=True)
