"""Every write to organisations, teams, people and invitations."""

from __future__ import annotations

import csv
import io
import zoneinfo
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.core.files.base import File
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from knox.models import AuthToken

from organizations import signals
from organizations.audit import audit_record
from organizations.errors import ConflictError, DomainError, PermissionDeniedError
from organizations.images import image_clean_for_field
from organizations.media import media_discard_on_commit
from organizations.models import (
    Invitation,
    Language,
    Membership,
    Organization,
    Role,
    Team,
    TeamKind,
    User,
)

# --- Teams ------------------------------------------------------------------------------


def _check_parent(*, organization: Organization, team: Team | None, parent: Team | None) -> None:
    if parent is None:
        return
    if parent.organization_id != organization.pk:
        raise DomainError(_("The parent team belongs to another organisation."), field="parent")
    ancestor: Team | None = parent
    while ancestor is not None:
        if team is not None and ancestor.pk == team.pk:
            raise DomainError(_("A team cannot be placed below itself."), field="parent")
        ancestor = ancestor.parent


def team_create(
    *,
    actor: User,
    name: str,
    kind: str = TeamKind.TEAM,
    parent: Team | None = None,
    managers: list[User] | None = None,
    request: HttpRequest | None = None,
) -> Team:
    organization = actor.organization
    assert organization is not None
    _check_parent(organization=organization, team=None, parent=parent)
    try:
        with transaction.atomic():
            team = Team.objects.create(
                organization=organization, name=name.strip(), kind=kind, parent=parent
            )
            if managers:
                team.managers.set(managers)
            audit_record(
                action="team.created",
                organization=organization,
                actor=actor,
                target=team,
                request=request,
                details={"parent": parent.name if parent else None},
            )
    except IntegrityError:
        raise ConflictError(
            _("A team named “%(name)s” already exists here.") % {"name": name}, field="name"
        ) from None
    return team


def team_update(
    *,
    actor: User,
    team: Team,
    name: str,
    kind: str,
    parent: Team | None,
    managers: list[User],
    request: HttpRequest | None = None,
) -> Team:
    organization = actor.organization
    assert organization is not None
    _check_parent(organization=organization, team=team, parent=parent)
    try:
        with transaction.atomic():
            team.name, team.kind, team.parent = name.strip(), kind, parent
            team.save()
            team.managers.set(managers)
            audit_record(
                action="team.updated",
                organization=organization,
                actor=actor,
                target=team,
                request=request,
                details={"managers": sorted(m.email for m in managers)},
            )
    except IntegrityError:
        raise ConflictError(
            _("A team named “%(name)s” already exists here.") % {"name": name}, field="name"
        ) from None
    return team


def team_delete(*, actor: User, team: Team, request: HttpRequest | None = None) -> None:
    if team.children.exists():
        raise ConflictError(_("Move or delete the teams below “%(name)s” first.") % {"name": team})
    with transaction.atomic():
        audit_record(
            action="team.deleted",
            organization=team.organization,
            actor=actor,
            target=team,
            request=request,
        )
        team.delete()


# --- People -----------------------------------------------------------------------------


def user_set_role(
    *, actor: User, user: User, role: str, request: HttpRequest | None = None
) -> User:
    if role not in Role.values:
        raise DomainError(_("Unknown role “%(role)s”.") % {"role": role}, field="role")
    if user.organization_id != actor.organization_id:
        membership = Membership.objects.filter(
            user_id=user.pk, organization_id=actor.organization_id
        ).first()
        if membership is None:
            raise PermissionDeniedError(_("This person is not in your organisation."))
        return _membership_set_role(
            actor=actor, user=user, membership=membership, role=role, request=request
        )
    if user.pk == actor.pk and role != Role.ORG_ADMIN:
        raise DomainError(
            _("You cannot remove your own administrator role; ask another administrator."),
            field="role",
        )
    previous = user.role
    if previous == role:
        return user
    with transaction.atomic():
        user.role = role
        user.save(update_fields=["role"])
        if hasattr(user, "org_role"):
            user.org_role = role  # type: ignore[attr-defined]
        audit_record(
            action="user.role_changed",
            organization=user.organization,
            actor=actor,
            target=user,
            request=request,
            details={"from": previous, "to": role},
        )
        transaction.on_commit(
            lambda: signals.member_role_changed.send(
                sender=User, user=user, previous=previous, actor=actor
            )
        )
    return user


def _membership_set_role(
    *, actor: User, user: User, membership: Membership, role: str, request: HttpRequest | None
) -> User:
    """The role of a person whose home is another organisation: it lives on their
    Membership here, never on their account."""
    if user.pk == actor.pk and role != Role.ORG_ADMIN:
        raise DomainError(
            _("You cannot remove your own administrator role; ask another administrator."),
            field="role",
        )
    previous = membership.role
    if previous == role:
        return user
    with transaction.atomic():
        membership.role = role
        membership.save(update_fields=["role"])
        audit_record(
            action="user.role_changed",
            organization=membership.organization,
            actor=actor,
            target=user,
            request=request,
            details={"from": previous, "to": role, "membership": True},
        )
    user.org_role = role  # type: ignore[attr-defined]
    return user


def user_update_membership(
    *,
    actor: User,
    user: User,
    teams: list[Team],
    job_title: str,
    is_active: bool,
    request: HttpRequest | None = None,
) -> User:
    if any(team.organization_id != actor.organization_id for team in teams):
        raise DomainError(_("A chosen team belongs to another organisation."), field="teams")
    if user.pk == actor.pk and not is_active:
        raise DomainError(_("You cannot deactivate your own account."), field="is_active")
    if user.home_organization_id != actor.organization_id:
        return _guest_update(actor=actor, user=user, teams=teams, stays=is_active, request=request)
    with transaction.atomic():
        user.job_title = job_title
        user.is_active = is_active
        user.save(update_fields=["job_title", "is_active"])
        teams_set_in_organization(user=user, organization_id=actor.organization_id, teams=teams)
        audit_record(
            action="user.updated",
            organization=user.organization,
            actor=actor,
            target=user,
            request=request,
            details={"teams": sorted(t.name for t in teams), "active": is_active},
        )
    return user


def teams_set_in_organization(
    *, user: User, organization_id: int | None, teams: list[Team]
) -> None:
    """Set the person's teams in one organisation, leaving their teams in the others."""
    keep = [team.pk for team in user.teams.exclude(organization_id=organization_id)]
    user.teams.set([*keep, *(team.pk for team in teams)])


def _guest_update(
    *, actor: User, user: User, teams: list[Team], stays: bool, request: HttpRequest | None
) -> User:
    """An administrator edits a person whose home is another organisation: their teams
    here, or their removal from this organisation. Their account (job title, active) is
    their home organisation's to change."""
    organization_id = actor.organization_id
    with transaction.atomic():
        if not stays:
            membership_remove(actor=actor, user=user, request=request)
            return user
        teams_set_in_organization(user=user, organization_id=organization_id, teams=teams)
        audit_record(
            action="user.updated",
            organization=actor.organization,
            actor=actor,
            target=user,
            request=request,
            details={"teams": sorted(t.name for t in teams), "membership": True},
        )
    return user


# --- Memberships in several organisations -----------------------------------------------


def membership_add(
    *,
    user: User,
    organization: Organization,
    role: str,
    actor: User | None = None,
    teams: list[Team] | None = None,
    request: HttpRequest | None = None,
) -> Membership:
    """Make an existing person a member of another organisation than their home one."""
    if role not in Role.values:
        raise DomainError(_("Unknown role “%(role)s”.") % {"role": role}, field="role")
    if user.home_organization_id == organization.pk:
        raise ConflictError(
            _("%(email)s is already a member of your organisation.") % {"email": user.email},
            field="email",
        )
    teams = teams or []
    if any(team.organization_id != organization.pk for team in teams):
        raise DomainError(_("A chosen team belongs to another organisation."), field="teams")
    with transaction.atomic():
        membership, created = Membership.objects.get_or_create(
            user=user, organization=organization, defaults={"role": role}
        )
        if not created:
            raise ConflictError(
                _("%(email)s is already a member of your organisation.") % {"email": user.email},
                field="email",
            )
        if teams:
            user.teams.add(*teams)
        audit_record(
            action="membership.created",
            organization=organization,
            actor=actor or user,
            target=user,
            request=request,
            details={"role": role},
        )
    return membership


def membership_remove(*, actor: User, user: User, request: HttpRequest | None = None) -> None:
    """Remove a person from the actor's active organisation when it is not their home one:
    their account, and their history there, stay; their teams there are left."""
    organization = actor.organization
    assert organization is not None
    with transaction.atomic():
        deleted, _rows = Membership.objects.filter(
            user_id=user.pk, organization_id=organization.pk
        ).delete()
        if not deleted:
            raise PermissionDeniedError(_("This person is not in your organisation."))
        user.teams.remove(*user.teams.filter(organization_id=organization.pk))
        audit_record(
            action="membership.removed",
            organization=organization,
            actor=actor,
            target=user,
            request=request,
        )


def organization_switch(*, request: HttpRequest, user: User, reference: str | int) -> Organization:
    """Work in another of one's organisations from now on in this session (audited in
    the organisation switched to)."""
    from organizations.memberships import SESSION_KEY, organization_apply, organization_resolve

    choice = organization_resolve(user, reference)
    if choice is None:
        raise PermissionDeniedError(_("You are not a member of this organisation."))
    request.session[SESSION_KEY] = choice.organization.pk
    organization_apply(user, choice.organization, choice.role)
    audit_record(
        action="organization.switched",
        organization=choice.organization,
        actor=user,
        target=choice.organization,
        request=request,
    )
    return choice.organization


def organization_create(
    *,
    name: str,
    slug: str,
    admin_email: str,
    language: str = Language.FRENCH,
    actor: User | None = None,
    actor_email: str = "",
    request: HttpRequest | None = None,
) -> tuple[Organization, Invitation]:
    """A platform operator creates an organisation and invites its first administrator
    (who may already have an account in another organisation: accepting then adds a
    membership)."""
    from django.utils.text import slugify

    name = name.strip()
    if not name:
        raise DomainError(_("Enter a name."), field="name")
    slug = slugify(slug.strip() or name)[:60]
    if not slug:
        raise DomainError(_("Enter a slug made of letters, digits and hyphens."), field="slug")
    email = admin_email.strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise DomainError(_("Enter a valid email address."), field="admin_email") from None
    if language not in Language.values:
        raise DomainError(_("Unknown language."), field="language")
    try:
        with transaction.atomic():
            organization = Organization.objects.create(
                name=name[:200], slug=slug, default_language=language
            )
            invitation = Invitation.objects.create(
                organization=organization,
                email=email,
                role=Role.ORG_ADMIN,
                language=language,
                invited_by=actor,
                expires_at=timezone.now() + timedelta(days=settings.INVITATION_VALID_DAYS),
            )
            audit_record(
                action="organization.created",
                organization=organization,
                actor=actor,
                actor_email=actor_email,
                target=organization,
                request=request,
                details={"admin_email": email},
            )
    except IntegrityError:
        raise ConflictError(
            _("An organisation with the slug “%(slug)s” exists already.") % {"slug": slug},
            field="slug",
        ) from None
    from organizations.tasks import send_invitation

    send_invitation.delay_on_commit(invitation.pk)
    return organization, invitation


def user_update_profile(
    *,
    user: User,
    first_name: str,
    last_name: str,
    language: str,
    job_title: str,
    time_zone: str | None = None,
    avatar: File | None = None,
    request: HttpRequest | None = None,
) -> User:
    if language not in Language.values:
        raise DomainError(_("Unknown language."), field="language")
    if time_zone and time_zone not in zoneinfo.available_timezones():
        raise DomainError(_("Unknown time zone."), field="time_zone")
    clean_avatar = image_clean_for_field(avatar, field="avatar") if avatar is not None else None
    user.first_name, user.last_name = first_name.strip(), last_name.strip()
    user.language, user.job_title = language, job_title.strip()
    fields = ["first_name", "last_name", "language", "job_title"]
    if time_zone is not None:
        user.time_zone = time_zone
        fields.append("time_zone")
    replaced = ""
    if clean_avatar is not None:
        replaced = user.avatar.name
        user.avatar = clean_avatar  # type: ignore[assignment]
        fields.append("avatar")
    with transaction.atomic():
        user.save(update_fields=fields)
        media_discard_on_commit(replaced)
        audit_record(
            action="user.profile_updated",
            organization=user.organization,
            actor=user,
            target=user,
            request=request,
        )
    return user


# --- Invitations ------------------------------------------------------------------------


def _check_invitable(*, organization: Organization, email: str) -> None:
    """Someone already in the organisation cannot be invited again. A person with an
    account in another organisation can: accepting adds a membership here."""
    existing = User.objects.filter(email__iexact=email).first()
    if existing is not None and (
        existing.organization_id == organization.pk
        or Membership.objects.filter(user=existing, organization=organization).exists()
    ):
        raise ConflictError(
            _("%(email)s is already a member of your organisation.") % {"email": email},
            field="email",
        )


def invitation_accept_as_member(
    *, invitation: Invitation, user: User, request: HttpRequest | None = None
) -> Membership:
    """A signed-in person with an account in another organisation accepts an invitation
    sent to their address: they become a member here too, with the invited role."""
    if not invitation.is_open:
        raise ConflictError(_("This invitation is no longer valid. Ask for a new one."))
    if user.email.lower() != invitation.email.lower():
        raise PermissionDeniedError(_("This invitation was sent to another address."))
    with transaction.atomic():
        locked = Invitation.objects.select_for_update().get(pk=invitation.pk)
        if not locked.is_open:
            raise ConflictError(_("This invitation is no longer valid. Ask for a new one."))
        account = User.objects.get(pk=user.pk)
        membership = membership_add(
            user=account,
            organization=invitation.organization,
            role=invitation.role,
            teams=list(invitation.teams.all()),
            request=request,
        )
        locked.accepted_at = timezone.now()
        locked.save(update_fields=["accepted_at"])
        audit_record(
            action="invitation.accepted",
            organization=invitation.organization,
            actor=account,
            target=locked,
            request=request,
            details={"membership": True},
        )
    return membership


def invitation_create(
    *,
    actor: User,
    email: str,
    role: str = Role.EMPLOYEE,
    teams: list[Team] | None = None,
    first_name: str = "",
    last_name: str = "",
    job_title: str = "",
    language: str = "",
    request: HttpRequest | None = None,
    audit: bool = True,
) -> Invitation:
    organization = actor.organization
    assert organization is not None
    email = email.strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise DomainError(_("Enter a valid email address."), field="email") from None
    if role not in Role.values:
        raise DomainError(_("Unknown role “%(role)s”.") % {"role": role}, field="role")
    teams = teams or []
    if any(team.organization_id != organization.pk for team in teams):
        raise DomainError(_("A chosen team belongs to another organisation."), field="teams")
    _check_invitable(organization=organization, email=email)
    # An expired invitation still holds the "one open invitation" slot: close it.
    Invitation.objects.filter(
        organization=organization,
        email=email,
        accepted_at__isnull=True,
        revoked_at__isnull=True,
        expires_at__lte=timezone.now(),
    ).update(revoked_at=timezone.now())
    try:
        with transaction.atomic():
            invitation = Invitation.objects.create(
                organization=organization,
                email=email,
                role=role,
                first_name=first_name.strip(),
                last_name=last_name.strip(),
                job_title=job_title.strip(),
                language=language or organization.default_language,
                invited_by=actor,
                expires_at=timezone.now() + timedelta(days=settings.INVITATION_VALID_DAYS),
            )
            invitation.teams.set(teams)
            if audit:
                audit_record(
                    action="invitation.created",
                    organization=organization,
                    actor=actor,
                    target=invitation,
                    request=request,
                    details={"role": role},
                )
    except IntegrityError:
        raise ConflictError(
            _("An invitation for %(email)s is already waiting.") % {"email": email}, field="email"
        ) from None
    from organizations.tasks import send_invitation

    send_invitation.delay_on_commit(invitation.pk)
    return invitation


def invitation_send(*, invitation_id: int) -> bool:
    """Email an invitation link; runs in the worker. Returns False for a closed one."""
    invitation = (
        Invitation.objects.select_related("organization", "invited_by")
        .filter(pk=invitation_id)
        .first()
    )
    if invitation is None or not invitation.is_open:
        return False
    link = settings.SITE_URL + reverse("invitation_accept", args=[invitation.token])
    with translation.override(invitation.language):
        context = {"invitation": invitation, "link": link}
        subject = _("You are invited to join %(org)s on Portevoix") % {
            "org": invitation.organization.name
        }
        body = render_to_string("organizations/email/invitation.txt", context)
    send_mail(subject, body, None, [invitation.email])
    Invitation.objects.filter(pk=invitation.pk).update(sent_at=timezone.now())
    return True


def invitation_resend(*, actor: User, invitation: Invitation, request: HttpRequest | None = None):
    if not invitation.is_open and invitation.status != "expired":
        raise ConflictError(_("This invitation is closed."))
    with transaction.atomic():
        invitation.expires_at = timezone.now() + timedelta(days=settings.INVITATION_VALID_DAYS)
        invitation.sent_at = None
        invitation.save(update_fields=["expires_at", "sent_at"])
        audit_record(
            action="invitation.resent",
            organization=invitation.organization,
            actor=actor,
            target=invitation,
            request=request,
        )
    from organizations.tasks import send_invitation

    send_invitation.delay_on_commit(invitation.pk)


def invitation_revoke(*, actor: User, invitation: Invitation, request: HttpRequest | None = None):
    if invitation.accepted_at or invitation.revoked_at:
        raise ConflictError(_("This invitation is closed."))
    with transaction.atomic():
        invitation.revoked_at = timezone.now()
        invitation.save(update_fields=["revoked_at"])
        audit_record(
            action="invitation.revoked",
            organization=invitation.organization,
            actor=actor,
            target=invitation,
            request=request,
        )


def invitation_accept(
    *,
    invitation: Invitation,
    password: str,
    first_name: str,
    last_name: str,
    request: HttpRequest | None = None,
) -> User:
    if not invitation.is_open:
        raise ConflictError(_("This invitation is no longer valid. Ask for a new one."))
    candidate = User(email=invitation.email, first_name=first_name, last_name=last_name)
    try:
        validate_password(password, user=candidate)
    except ValidationError as exc:
        raise DomainError(" ".join(exc.messages), field="password") from None
    with transaction.atomic():
        # Lock the invitation so two submissions cannot both create the account.
        locked = Invitation.objects.select_for_update().get(pk=invitation.pk)
        if not locked.is_open:
            raise ConflictError(_("This invitation is no longer valid. Ask for a new one."))
        _check_invitable(organization=invitation.organization, email=invitation.email)
        if User.objects.filter(email__iexact=invitation.email).exists():
            raise ConflictError(
                _("You already have an account: sign in with it to accept this invitation.")
            )
        user = User.objects.create_user(
            email=invitation.email,
            password=password,
            organization=invitation.organization,
            first_name=first_name.strip() or invitation.first_name,
            last_name=last_name.strip() or invitation.last_name,
            role=invitation.role,
            job_title=invitation.job_title,
            language=invitation.language,
        )
        user.teams.set(invitation.teams.all())
        locked.accepted_at = timezone.now()
        locked.save(update_fields=["accepted_at"])
        audit_record(
            action="invitation.accepted",
            organization=invitation.organization,
            actor=user,
            target=locked,
            request=request,
        )
        transaction.on_commit(
            lambda: signals.invitation_accepted.send(
                sender=Invitation, invitation=locked, user=user
            )
        )
    return user


# --- CSV import -------------------------------------------------------------------------

CSV_MAX_BYTES = 2 * 1024 * 1024
CSV_MAX_ROWS = 5000
CSV_REQUIRED = {"email"}
CSV_KNOWN = {"email", "first_name", "last_name", "role", "teams", "job_title", "language"}
TEAM_PATH_SEPARATOR = ">"


@dataclass
class ImportRow:
    line: int
    email: str
    first_name: str
    last_name: str
    role: str
    team_paths: list[list[str]]
    job_title: str
    language: str


@dataclass
class ImportResult:
    invited: int = 0
    updated: int = 0
    teams_created: int = 0
    errors: list[str] = field(default_factory=list)


class ImportRejected(DomainError):
    """The file was refused as a whole; `errors` names each problem by line."""


def _parse_import(raw: bytes, organization: Organization) -> list[ImportRow]:
    if len(raw) > CSV_MAX_BYTES:
        raise ImportRejected(_("The file is larger than 2 MB."))
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportRejected(_("The file is not UTF-8 text. Export it as “CSV UTF-8”.")) from None
    if not text.strip():
        raise ImportRejected(_("The file is empty."))
    first_line = text.splitlines()[0]
    # French spreadsheets export with semicolons; accept both.
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    headers = {(h or "").strip().lower() for h in (reader.fieldnames or [])}
    missing = CSV_REQUIRED - headers
    if missing:
        raise ImportRejected(
            _("Missing column(s): %(cols)s. Expected: %(known)s.")
            % {"cols": ", ".join(sorted(missing)), "known": ", ".join(sorted(CSV_KNOWN))}
        )
    unknown = headers - CSV_KNOWN
    if unknown:
        raise ImportRejected(
            _("Unknown column(s): %(cols)s. Expected: %(known)s.")
            % {"cols": ", ".join(sorted(unknown)), "known": ", ".join(sorted(CSV_KNOWN))}
        )
    rows: list[ImportRow] = []
    errors: list[str] = []
    seen: dict[str, int] = {}
    for count, record in enumerate(reader, start=1):
        # The reader's own line number: blank lines and quoted line breaks shift it.
        index = reader.line_num
        if count > CSV_MAX_ROWS:
            raise ImportRejected(_("The file has more than %(n)s rows.") % {"n": CSV_MAX_ROWS})
        values = {(k or "").strip().lower(): (v or "").strip() for k, v in record.items() if k}
        if not any(values.values()):
            continue
        line_errors: list[str] = []
        email = values.get("email", "").lower()
        try:
            validate_email(email)
        except ValidationError:
            line_errors.append(_("“%(email)s” is not a valid email address") % {"email": email})
        if email in seen:
            line_errors.append(
                _("%(email)s already appears on line %(line)s")
                % {"email": email, "line": seen[email]}
            )
        seen.setdefault(email, index)
        role = values.get("role", "").lower() or Role.EMPLOYEE
        if role not in Role.values:
            line_errors.append(
                _("role “%(role)s” is unknown (use %(roles)s)")
                % {"role": role, "roles": ", ".join(Role.values)}
            )
        language = values.get("language", "").lower() or organization.default_language
        if language not in Language.values:
            line_errors.append(
                _("language “%(lang)s” is unknown (use fr or en)") % {"lang": language}
            )
        team_paths: list[list[str]] = []
        for path in filter(None, (p.strip() for p in values.get("teams", "").split("|"))):
            parts = [part.strip() for part in path.split(TEAM_PATH_SEPARATOR)]
            if any(not part or len(part) > 120 for part in parts) or len(parts) > 3:
                line_errors.append(
                    _("team “%(path)s” must be up to three names separated by “>”") % {"path": path}
                )
            else:
                team_paths.append(parts)
        for name, limit in (("first_name", 100), ("last_name", 100), ("job_title", 150)):
            if len(values.get(name, "")) > limit:
                line_errors.append(
                    _("%(field)s is longer than %(n)s characters") % {"field": name, "n": limit}
                )
        if line_errors:
            errors.extend(
                _("Line %(line)s: %(error)s") % {"line": index, "error": error}
                for error in line_errors
            )
            continue
        rows.append(
            ImportRow(
                line=index,
                email=email,
                first_name=values.get("first_name", ""),
                last_name=values.get("last_name", ""),
                role=role,
                team_paths=team_paths,
                job_title=values.get("job_title", ""),
                language=language,
            )
        )
    if not rows and not errors:
        raise ImportRejected(_("The file has no rows to import."))
    # Emails owned by another organisation can only be found against the database.
    members = {
        u.email: u
        for u in User.objects.filter(email__in=[r.email for r in rows]).only(
            "id", "email", "organization_id"
        )
    }
    for row in rows:
        owner = members.get(row.email)
        if owner is not None and owner.organization_id != organization.pk:
            errors.append(
                _("Line %(line)s: %(email)s already has an account elsewhere")
                % {"line": row.line, "email": row.email}
            )
    if errors:
        raise ImportRejected(
            _("Nothing was imported: %(n)s problem(s) to fix.") % {"n": len(errors)}, errors=errors
        )
    return rows


def _team_for_path(
    organization: Organization,
    path: list[str],
    cache: dict[tuple[str, ...], Team],
    result: ImportResult,
) -> Team:
    kinds = [TeamKind.DEPARTMENT, TeamKind.SITE, TeamKind.TEAM]
    parent: Team | None = None
    for depth, name in enumerate(path):
        key = tuple(part.lower() for part in path[: depth + 1])
        team = cache.get(key)
        if team is None:
            team = Team.objects.filter(
                organization=organization, parent=parent, name__iexact=name
            ).first()
            if team is None:
                team = Team.objects.create(
                    organization=organization,
                    name=name,
                    parent=parent,
                    kind=kinds[min(depth, 2)] if len(path) > 1 else TeamKind.TEAM,
                )
                result.teams_created += 1
            cache[key] = team
        parent = team
    assert parent is not None
    return parent


def users_import_csv(
    *, actor: User, raw: bytes, request: HttpRequest | None = None
) -> ImportResult:
    """Import employees with their teams. The whole file is checked first; any error
    rejects it and nothing is written. New people are invited, existing members updated."""
    organization = actor.organization
    assert organization is not None
    try:
        rows = _parse_import(raw, organization)
    except ImportRejected as exc:
        audit_record(
            action="import.rejected",
            organization=organization,
            actor=actor,
            request=request,
            details={"errors": exc.errors[:50] or [exc.message]},
        )
        raise
    result = ImportResult()
    cache: dict[tuple[str, ...], Team] = {}
    with transaction.atomic():
        existing = {
            u.email: u
            for u in User.objects.filter(
                organization=organization, email__in=[r.email for r in rows]
            )
        }
        open_invites = {
            i.email: i
            for i in Invitation.objects.filter(
                organization=organization,
                accepted_at__isnull=True,
                revoked_at__isnull=True,
                email__in=[r.email for r in rows],
            )
        }
        for row in rows:
            teams = [_team_for_path(organization, path, cache, result) for path in row.team_paths]
            member = existing.get(row.email)
            if member is not None:
                if member.role != row.role and member.pk != actor.pk:
                    user_set_role(actor=actor, user=member, role=row.role, request=request)
                member.first_name = row.first_name or member.first_name
                member.last_name = row.last_name or member.last_name
                member.job_title = row.job_title or member.job_title
                member.save(update_fields=["first_name", "last_name", "job_title"])
                if teams:
                    member.teams.set(teams)
                result.updated += 1
                continue
            stale = open_invites.get(row.email)
            if stale is not None:
                # A newer import replaces a pending invitation rather than failing on it.
                stale.revoked_at = timezone.now()
                stale.save(update_fields=["revoked_at"])
            invitation_create(
                actor=actor,
                email=row.email,
                role=row.role,
                teams=teams,
                first_name=row.first_name,
                last_name=row.last_name,
                job_title=row.job_title,
                language=row.language,
                request=request,
                audit=False,
            )
            result.invited += 1
        audit_record(
            action="import.completed",
            organization=organization,
            actor=actor,
            request=request,
            details={
                "invited": result.invited,
                "updated": result.updated,
                "teams_created": result.teams_created,
            },
        )
    return result


def organization_update(
    *,
    actor: User,
    name: str,
    default_language: str,
    time_zone: str,
    brand_colour: str,
    logo: File | None = None,
    request: HttpRequest | None = None,
) -> Organization:
    organization = actor.organization
    assert organization is not None
    clean_logo = image_clean_for_field(logo, field="logo") if logo is not None else None
    organization.name = name.strip()
    organization.default_language = default_language
    organization.time_zone = time_zone
    organization.brand_colour = brand_colour
    fields = ["name", "default_language", "time_zone", "brand_colour"]
    replaced = ""
    if clean_logo is not None:
        # From the database: a model form may already have put the upload on the instance.
        replaced = (
            Organization.objects.filter(pk=organization.pk).values_list("logo", flat=True).get()
        )
        organization.logo = clean_logo  # type: ignore[assignment]
        fields.append("logo")
    with transaction.atomic():
        organization.save(update_fields=fields)
        media_discard_on_commit(replaced)
        audit_record(
            action="organization.updated",
            organization=organization,
            actor=actor,
            target=organization,
            request=request,
        )
    return organization


# --- API tokens ---------------------------------------------------------------------------


def api_token_issue(*, user: User, request: HttpRequest | None = None) -> tuple[AuthToken, str]:
    """A new token for the person: knox stores only its digest, so the clear token is
    returned once, here, and never again (an earlier token cannot be handed back)."""
    with transaction.atomic():
        # Scripts that sign in on every run would otherwise pile up dead rows.
        AuthToken.objects.filter(user=user, expiry__lte=timezone.now()).delete()
        instance, token = AuthToken.objects.create(user=user)
        audit_record(
            action="auth.token_issued",
            organization=user.organization,
            actor=user,
            request=request,
            details={"token": instance.token_key},
        )
    return instance, token


def api_token_revoke(*, actor: User, token: AuthToken, request: HttpRequest | None = None) -> None:
    if token.user_id != actor.pk:
        raise PermissionDeniedError(_("This token is not yours."))
    with transaction.atomic():
        token.delete()
        audit_record(
            action="auth.token_revoked",
            organization=actor.organization,
            actor=actor,
            request=request,
            details={"token": token.token_key},
        )


def api_tokens_revoke_all(
    *, user: User, reason: str, actor: User | None = None, request: HttpRequest | None = None
) -> int:
    """Delete every API token of the person; `reason` is kept in the audit log
    (signed_out_everywhere, password_changed, deactivated, locked_out)."""
    with transaction.atomic():
        count, _deleted = AuthToken.objects.filter(user=user).delete()
        if count:
            audit_record(
                action="auth.tokens_revoked",
                organization=user.organization,
                actor=actor,
                target=user,
                request=request,
                details={"reason": reason, "count": count},
            )
    return count


SESSION_BATCH = 1000


def user_sessions_end(user: User, *, batch: int = SESSION_BATCH) -> int:
    """Delete every session of the person (an erasure, a deprovisioning). The database
    store keeps the user id encoded in the session data, so each live session is decoded:
    call it outside long transactions; it reads in chunks and deletes in batches."""
    ended = 0
    found: list[str] = []
    sessions = (
        Session.objects.filter(expire_date__gt=timezone.now())
        .only("session_key", "session_data")
        .order_by()
    )
    for session in sessions.iterator(chunk_size=batch):
        # get_decoded() answers {} for a session it cannot read: nobody's.
        if str(session.get_decoded().get("_auth_user_id")) == str(user.pk):
            found.append(session.pk)
            if len(found) >= batch:
                ended += Session.objects.filter(pk__in=found).delete()[0]
                found = []
    if found:
        ended += Session.objects.filter(pk__in=found).delete()[0]
    return ended
