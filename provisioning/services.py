"""Every write of SCIM provisioning: the organisation's tokens, the people and teams an
identity provider creates, changes and deletes, and `person_deprovision`, which any app
may call to take a person out at once."""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, connection, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from advocacy.models import Share, ShareStatus, SocialAccount
from advocacy.services.accounts import account_disconnect
from advocacy.services.activity import share_state_announce
from organizations.audit import audit_record
from organizations.errors import ConflictError, DomainError, NotFoundError, PermissionDeniedError
from organizations.models import Language, Organization, Role, Team, User
from organizations.services import api_tokens_revoke_all, user_sessions_end
from provisioning.models import ScimPerson, ScimToken

logger = logging.getLogger(__name__)

TOKEN_PREFIX = "pvscim_"  # noqa: S105  (a marker, not a secret)
# What the admin sees of a token once it is created: enough to tell two apart.
VISIBLE_PREFIX_LENGTH = len(TOKEN_PREFIX) + 6

# A waiting share cannot go out once its author has left.
WAITING_SHARE_STATUSES = (
    ShareStatus.SCHEDULED,
    ShareStatus.NEEDS_RECONNECT,
    ShareStatus.AWAITING_CONFIRMATION,
)


def token_digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


# --- Tokens --------------------------------------------------------------------------------


def _require_admin(actor: User) -> Organization:
    if not actor.is_org_admin or actor.organization is None:
        raise PermissionDeniedError(_("Only an organisation admin can manage SCIM tokens."))
    return actor.organization


def scim_token_create(
    *, actor: User, name: str, request: HttpRequest | None = None
) -> tuple[ScimToken, str]:
    """A new token: only its digest is kept, so the clear token is returned once, here."""
    organization = _require_admin(actor)
    name = name.strip()
    if not name:
        raise DomainError(
            _("Give the token a name (for example, the identity provider's)."), field="name"
        )
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        token = ScimToken.objects.create(
            organization=organization,
            name=name[:100],
            prefix=raw[:VISIBLE_PREFIX_LENGTH],
            digest=token_digest(raw),
            created_by=actor,
        )
        audit_record(
            action="scim.token_created",
            organization=organization,
            actor=actor,
            target=token,
            request=request,
            details={"token": token.prefix},
        )
    return token, raw


def scim_token_revoke(*, actor: User, token: ScimToken, request: HttpRequest | None = None) -> None:
    organization = _require_admin(actor)
    if token.organization_id != organization.pk:
        raise NotFoundError(_("No such token."))
    with transaction.atomic():
        updated = ScimToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
            revoked_at=timezone.now(), revoked_by=actor
        )
        if not updated:
            raise ConflictError(_("This token is already revoked."))
        audit_record(
            action="scim.token_revoked",
            organization=organization,
            actor=actor,
            target=token,
            request=request,
            details={"token": token.prefix},
        )


def scim_token_touch(*, token: ScimToken) -> None:
    """Remember when the token was last used (at most one write a minute)."""
    now = timezone.now()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() >= 60:
        ScimToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now


# --- Deprovisioning ------------------------------------------------------------------------


def _shares_cancel(user: User) -> int:
    cancelled = 0
    with transaction.atomic():
        shares = Share.objects.select_for_update().filter(
            user=user, status__in=WAITING_SHARE_STATUSES
        )
        for share in shares:
            share.status = ShareStatus.CANCELLED
            share.last_error = _("The person's account was deactivated.")
            share.save(update_fields=["status", "last_error"])
            share_state_announce(share.pk)
            cancelled += 1
    return cancelled


def _accounts_disconnect(user: User, account_ids: list[int]) -> None:
    """One account at a time; account_disconnect deletes the token here even when the
    network refuses to revoke it."""
    for account in SocialAccount.objects.filter(pk__in=account_ids, user=user):
        try:
            account_disconnect(user=user, account=account)
        except Exception:  # the person is out already; the others still go
            logger.exception(
                "Could not disconnect account %s of a deprovisioned person", account.pk
            )


def person_deprovision(*, user: User, actor: User | None = None, reason: str) -> dict[str, int]:
    """Take a person out at once: the account is deactivated, every session and API token
    ends, waiting shares are cancelled and connected network accounts disconnected (the
    token revoked at the network where it allows it). Their history (shares, clicks,
    points) stays. Idempotent: running it again finds nothing more to end."""
    counts: dict[str, int] = {}
    with transaction.atomic():
        # Before the save: its receiver (organizations.auth) would revoke them too, but
        # without the actor; this also covers a person already inactive.
        counts["api_tokens"] = api_tokens_revoke_all(user=user, actor=actor, reason="deactivated")
        if user.is_active:
            user.is_active = False
            user.save(update_fields=["is_active"])
        counts["sessions"] = user_sessions_end(user)
        counts["shares_cancelled"] = _shares_cancel(user)
    # Revoking at the network is a network call: never inside a transaction. Called
    # within one (a SCIM request is one), it runs once that transaction has committed.
    account_ids = list(SocialAccount.objects.filter(user=user).values_list("pk", flat=True))
    if account_ids:
        if connection.in_atomic_block:
            transaction.on_commit(lambda: _accounts_disconnect(user, account_ids))
        else:
            _accounts_disconnect(user, account_ids)
    counts["accounts_disconnected"] = len(account_ids)
    audit_record(
        action="person.deprovisioned",
        organization=user.organization,
        actor=actor,
        target=user,
        details={"reason": reason, **counts},
    )
    return counts


def person_reactivate(*, user: User, actor: User | None = None, reason: str) -> None:
    if user.is_active:
        return
    with transaction.atomic():
        user.is_active = True
        user.save(update_fields=["is_active"])
        audit_record(
            action="person.reactivated",
            organization=user.organization,
            actor=actor,
            target=user,
            details={"reason": reason},
        )


# --- People and teams from the identity provider --------------------------------------------


@dataclass
class PersonValues:
    email: str
    first_name: str = ""
    last_name: str = ""
    language: str = ""
    job_title: str = ""
    external_id: str = ""
    active: bool = True


def _clean_person(values: PersonValues) -> PersonValues:
    email = values.email.strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise DomainError(_("userName must be an email address."), field="userName") from None
    if values.language and values.language not in Language.values:
        raise DomainError(
            _("preferredLanguage must be one of: %(languages)s.")
            % {"languages": ", ".join(Language.values)},
            field="preferredLanguage",
        )
    for name, limit, field in (
        ("first_name", 100, "name.givenName"),
        ("last_name", 100, "name.familyName"),
        ("job_title", 150, "title"),
        ("external_id", 255, "externalId"),
    ):
        if len(getattr(values, name)) > limit:
            raise DomainError(
                _("%(field)s is longer than %(limit)s characters.")
                % {"field": field, "limit": limit},
                field=field,
            )
    values.email = email
    return values


def _check_email_free(*, organization: Organization, email: str, user: User | None) -> None:
    others = User.objects.filter(email=email)
    if user is not None:
        others = others.exclude(pk=user.pk)
    other = others.first()
    if other is None:
        return
    if other.organization_id != organization.pk:
        # Never say which organisation holds the address.
        raise ConflictError(_("This email address is already in use."), field="userName")
    raise ConflictError(
        _("A person of this organisation already has this email address."), field="userName"
    )


def _check_external_id_free(
    *, organization: Organization, external_id: str, user: User | None
) -> None:
    if not external_id:
        return
    taken = User.objects.filter(organization=organization, external_id=external_id)
    if user is not None:
        taken = taken.exclude(pk=user.pk)
    if taken.exists():
        raise ConflictError(_("Another person already has this externalId."), field="externalId")


def _scim_person_set(user: User, **values: object) -> None:
    ScimPerson.objects.update_or_create(
        user=user, defaults={"organization_id": user.organization_id, **values}
    )


def scim_user_create(*, organization: Organization, values: PersonValues, token: ScimToken) -> User:
    """A person the identity provider created. No invitation email: the account has no
    password until the person sets one (“Forgot your password?”) or SSO signs them in."""
    values = _clean_person(values)
    removed = User.objects.filter(
        organization=organization, email=values.email, scim_person__removed_at__isnull=False
    ).first()
    if removed is not None:
        # Deleted by the identity provider earlier and created again: the same person
        # comes back with their history.
        _scim_person_set(removed, removed_at=None)
        return scim_user_update(
            user=removed, values=values, token=token, action="scim.user_created"
        )
    _check_email_free(organization=organization, email=values.email, user=None)
    _check_external_id_free(organization=organization, external_id=values.external_id, user=None)
    try:
        with transaction.atomic():
            user = User.objects.create_user(
                email=values.email,
                password=None,
                organization=organization,
                first_name=values.first_name.strip(),
                last_name=values.last_name.strip(),
                language=values.language or organization.default_language,
                job_title=values.job_title.strip(),
                external_id=values.external_id,
                role=Role.EMPLOYEE,
                is_active=values.active,
            )
            _scim_person_set(user, preferred_language=values.language)
            audit_record(
                action="scim.user_created",
                organization=organization,
                target=user,
                details={"token": token.prefix, "active": values.active},
            )
    except IntegrityError:
        raise ConflictError(_("This email address is already in use."), field="userName") from None
    return user


def scim_user_update(
    *, user: User, values: PersonValues, token: ScimToken, action: str = "scim.user_updated"
) -> User:
    """The identity provider's view of the person replaces ours. An unassigned
    preferredLanguage leaves the person's own language as it is."""
    organization = user.organization
    assert organization is not None
    values = _clean_person(values)
    _check_email_free(organization=organization, email=values.email, user=user)
    _check_external_id_free(organization=organization, external_id=values.external_id, user=user)
    before = {
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "language": user.language,
        "job_title": user.job_title,
        "external_id": user.external_id,
    }
    after = {
        "email": values.email,
        "first_name": values.first_name.strip(),
        "last_name": values.last_name.strip(),
        "language": values.language or user.language,
        "job_title": values.job_title.strip(),
        "external_id": values.external_id,
    }
    changed = sorted(name for name in after if after[name] != before[name])
    try:
        with transaction.atomic():
            if changed:
                for name in changed:
                    setattr(user, name, after[name])
                user.save(update_fields=changed)
            _scim_person_set(user, preferred_language=values.language)
            if changed or action != "scim.user_updated":
                audit_record(
                    action=action,
                    organization=organization,
                    target=user,
                    details={"token": token.prefix, "changed": changed},
                )
    except IntegrityError:
        raise ConflictError(_("This email address is already in use."), field="userName") from None
    if values.active and not user.is_active:
        person_reactivate(user=user, reason=f"scim:{token.prefix}")
    elif not values.active and user.is_active:
        person_deprovision(user=user, reason=f"scim:{token.prefix}")
    return user


def scim_user_delete(*, user: User, token: ScimToken) -> None:
    """The identity provider deleted the person: deactivated everywhere, kept here."""
    with transaction.atomic():
        _scim_person_set(user, removed_at=timezone.now())
        audit_record(
            action="scim.user_deleted",
            organization=user.organization,
            target=user,
            details={"token": token.prefix},
        )
    person_deprovision(user=user, reason=f"scim:{token.prefix}")


@dataclass
class TeamValues:
    name: str
    external_id: str = ""
    # None: leave the members as they are.
    member_ids: list[int] | None = None


def _clean_team(
    organization: Organization, values: TeamValues, team: Team | None
) -> list[User] | None:
    values.name = values.name.strip()
    if not values.name:
        raise DomainError(_("displayName is required."), field="displayName")
    if len(values.name) > 120:
        raise DomainError(_("displayName is longer than 120 characters."), field="displayName")
    if len(values.external_id) > 255:
        raise DomainError(_("externalId is longer than 255 characters."), field="externalId")
    parent_id = team.parent_id if team else None
    clash = Team.objects.filter(organization=organization, parent_id=parent_id, name=values.name)
    if team is not None:
        clash = clash.exclude(pk=team.pk)
    if clash.exists():
        raise ConflictError(_("A team of this name already exists here."), field="displayName")
    if values.external_id:
        taken = Team.objects.filter(organization=organization, external_id=values.external_id)
        if team is not None:
            taken = taken.exclude(pk=team.pk)
        if taken.exists():
            raise ConflictError(_("Another team already has this externalId."), field="externalId")
    if values.member_ids is None:
        return None
    wanted = set(values.member_ids)
    members = list(
        User.objects.filter(organization=organization, pk__in=wanted).exclude(
            scim_person__removed_at__isnull=False
        )
    )
    if len(members) != len(wanted):
        raise DomainError(_("A member is not a person of this organisation."), field="members")
    return members


def scim_team_create(*, organization: Organization, values: TeamValues, token: ScimToken) -> Team:
    """A group of the identity provider becomes a root team."""
    members = _clean_team(organization, values, None)
    try:
        with transaction.atomic():
            team = Team.objects.create(
                organization=organization, name=values.name, external_id=values.external_id
            )
            if members is not None:
                team.members.set(members)
            audit_record(
                action="scim.group_created",
                organization=organization,
                target=team,
                details={"token": token.prefix, "members": len(members or [])},
            )
    except IntegrityError:
        raise ConflictError(
            _("A team of this name already exists here."), field="displayName"
        ) from None
    return team


def scim_team_update(*, team: Team, values: TeamValues, token: ScimToken) -> Team:
    organization = team.organization
    members = _clean_team(organization, values, team)
    try:
        with transaction.atomic():
            team.name, team.external_id = values.name, values.external_id
            team.save(update_fields=["name", "external_id"])
            details: dict[str, object] = {"token": token.prefix}
            if members is not None:
                # People removed by the identity provider are not members for SCIM:
                # leave their rows alone.
                visible = set(
                    team.members.exclude(scim_person__removed_at__isnull=False).values_list(
                        "pk", flat=True
                    )
                )
                wanted = {member.pk for member in members}
                added, removed = wanted - visible, visible - wanted
                if added:
                    team.members.add(*added)
                if removed:
                    team.members.remove(*removed)
                details["added"] = len(added)
                details["removed"] = len(removed)
            audit_record(
                action="scim.group_updated", organization=organization, target=team, details=details
            )
    except IntegrityError:
        raise ConflictError(
            _("A team of this name already exists here."), field="displayName"
        ) from None
    return team


def scim_team_delete(*, team: Team, token: ScimToken) -> None:
    """The team goes; its people stay. A team with sub-teams (made in Portevoix) stays
    until they are moved, as on the teams page."""
    if team.children.exists():
        raise ConflictError(
            _("Move or delete the teams below “%(name)s” first.") % {"name": team},
            field="displayName",
        )
    with transaction.atomic():
        audit_record(
            action="scim.group_deleted",
            organization=team.organization,
            target=team,
            details={"token": token.prefix},
        )
        team.delete()
