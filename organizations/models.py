"""The tenant and its people: Organization, Team (a tree), User and roles, Invitation,
and the append-only audit log."""

from __future__ import annotations

import secrets
import zoneinfo

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from organizations.images import CleanImageField, UnguessableName, validate_image

hex_colour = RegexValidator(r"^#[0-9a-fA-F]{6}$", _("Enter a colour as #RRGGBB."))


def _time_zone_choices() -> list[tuple[str, str]]:
    return [(name, name) for name in sorted(zoneinfo.available_timezones())]


class Language(models.TextChoices):
    FRENCH = "fr", _("French")
    ENGLISH = "en", _("English")


class Organization(models.Model):
    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("slug"), max_length=60, unique=True)
    default_language = models.CharField(
        _("default language"), max_length=5, choices=Language.choices, default=Language.FRENCH
    )
    time_zone = models.CharField(
        _("time zone"), max_length=64, choices=_time_zone_choices, default="Europe/Paris"
    )
    brand_colour = models.CharField(
        _("brand colour"), max_length=7, default="#1d4ed8", validators=[hex_colour]
    )
    logo = CleanImageField(
        _("logo"), upload_to=UnguessableName("logos"), blank=True, validators=[validate_image]
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class TeamKind(models.TextChoices):
    DEPARTMENT = "department", _("Department")
    SITE = "site", _("Site")
    TEAM = "team", _("Team")


class Team(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="teams")
    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(_("kind"), max_length=20, choices=TeamKind.choices, default="team")
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent team"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
    )
    managers = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("managers"),
        related_name="managed_teams",
        blank=True,
    )
    # The identity provider's id for the group this team mirrors (SCIM provisioning).
    external_id = models.CharField(_("external id"), max_length=255, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("team")
        verbose_name_plural = _("teams")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "parent", "name"], name="team_unique_name_under_parent"
            ),
            models.UniqueConstraint(
                fields=["organization", "name"],
                condition=Q(parent__isnull=True),
                name="team_unique_root_name",
            ),
            models.UniqueConstraint(
                fields=["organization", "external_id"],
                condition=~Q(external_id=""),
                name="team_unique_external_id",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    EMPLOYEE = "employee", _("Employee")
    EDITOR = "editor", _("Editor")
    REVIEWER = "reviewer", _("Reviewer")
    MANAGER = "manager", _("Manager")
    ORG_ADMIN = "org_admin", _("Organisation admin")
    # Reads the archive of everything shared, across the organisation (issue 17).
    COMPLIANCE_OFFICER = "compliance", _("Compliance officer")


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra: object) -> User:
        if not email:
            raise ValueError("An email address is required")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra: object) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    email = models.EmailField(_("email address"), unique=True)
    first_name = models.CharField(_("first name"), max_length=100, blank=True)
    last_name = models.CharField(_("last name"), max_length=100, blank=True)
    organization = models.ForeignKey(
        Organization,
        verbose_name=_("organisation"),
        on_delete=models.CASCADE,
        related_name="members",
        null=True,
        blank=True,
    )
    teams = models.ManyToManyField(
        Team, verbose_name=_("teams"), related_name="members", blank=True
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.EMPLOYEE)
    language = models.CharField(
        _("language"), max_length=5, choices=Language.choices, default=Language.FRENCH
    )
    job_title = models.CharField(_("job title"), max_length=150, blank=True)
    # The identity provider's id for this person (SCIM provisioning), unique per organisation.
    external_id = models.CharField(_("external id"), max_length=255, blank=True, default="")
    # Blank: the organisation's. Digests and nudges arrive at the hour set in this zone.
    time_zone = models.CharField(
        _("time zone"), max_length=64, choices=_time_zone_choices, blank=True, default=""
    )
    avatar = CleanImageField(
        _("avatar"), upload_to=UnguessableName("avatars"), blank=True, validators=[validate_image]
    )
    is_active = models.BooleanField(_("active"), default=True)
    is_staff = models.BooleanField(_("staff"), default=False)
    date_joined = models.DateTimeField(_("date joined"), default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        ordering = ["last_name", "first_name", "email"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "external_id"],
                condition=~Q(external_id=""),
                name="user_unique_external_id",
            ),
        ]

    def __str__(self) -> str:
        return self.get_full_name() or self.email

    def save(self, *args: object, **kwargs: object) -> None:
        # One spelling per address, whatever form created the account.
        self.email = self.email.strip().lower()
        home = getattr(self, "_home_membership", None)
        if home is None:
            super().save(*args, **kwargs)  # type: ignore[arg-type]
            return
        # Another organisation is active on this object for the current request
        # (organizations.memberships): the row always keeps the home organisation and role,
        # whatever form saves the person.
        active = (self.organization, self.role)
        self.organization, self.role = home
        try:
            super().save(*args, **kwargs)  # type: ignore[arg-type]
        finally:
            self.organization, self.role = active

    @property
    def home_organization_id(self) -> int | None:
        """The organisation stored on the account, whichever one is active for the request."""
        home = getattr(self, "_home_membership", None)
        return home[0].pk if home is not None and home[0] is not None else self.organization_id

    @property
    def home_role(self) -> str:
        home = getattr(self, "_home_membership", None)
        return home[1] if home is not None else self.role

    @property
    def role_here(self) -> str:
        """The role in the organisation a member list was read for (selectors'
        `org_role`), else the role on the object."""
        return getattr(self, "org_role", None) or self.role

    @property
    def role_here_label(self) -> str:
        return str(Role(self.role_here).label) if self.role_here in Role.values else ""

    def active_teams(self) -> models.QuerySet[Team]:
        """The person's teams in the active organisation only: `teams` holds the teams of
        every organisation the person belongs to."""
        return self.teams.filter(organization_id=self.organization_id)

    def get_full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        """The person's time zone: their own, else their organisation's, else the server's."""
        from django.conf import settings

        name = self.time_zone or (self.organization.time_zone if self.organization else "")
        return zoneinfo.ZoneInfo(name or settings.TIME_ZONE)

    def get_short_name(self) -> str:
        return self.first_name or self.email

    @property
    def initials(self) -> str:
        letters = (self.first_name[:1] + self.last_name[:1]) or self.email[:1]
        return letters.upper()

    def has_role(self, *roles: str) -> bool:
        return self.role in roles

    @property
    def is_org_admin(self) -> bool:
        return self.role == Role.ORG_ADMIN

    @property
    def can_edit_content(self) -> bool:
        return self.role in (Role.EDITOR, Role.ORG_ADMIN)

    @property
    def can_review(self) -> bool:
        return self.role in (Role.REVIEWER, Role.ORG_ADMIN)

    @property
    def is_compliance_officer(self) -> bool:
        return self.role == Role.COMPLIANCE_OFFICER

    @property
    def can_see_dashboards(self) -> bool:
        # Managers see their teams; the comms team (editors, reviewers) and admins the whole
        # organisation.
        return self.role in (Role.MANAGER, Role.EDITOR, Role.REVIEWER, Role.ORG_ADMIN)


class Membership(models.Model):
    """A person's place in an organisation other than their home one (an agency working
    for several client organisations): the role and external id there.

    The home organisation and role stay on the User row (`User.organization`,
    `User.role`), and there is no Membership row for them: the whole codebase reads those
    two fields, and the request's active organisation is applied to them in memory
    (organizations.memberships), so every existing query stays scoped to one organisation
    without knowing memberships exist. Teams stay on `User.teams` (a team names its
    organisation); points are entries that carry their organisation."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="guest_memberships"
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.EMPLOYEE)
    # The identity provider's id for this person in this organisation.
    external_id = models.CharField(_("external id"), max_length=255, blank=True, default="")
    joined_at = models.DateTimeField(_("joined"), default=timezone.now)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        ordering = ["organization__name"]
        constraints = [
            models.UniqueConstraint(fields=["user", "organization"], name="membership_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.organization}"


def _invitation_token() -> str:
    return secrets.token_urlsafe(32)


class Invitation(models.Model):
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="invitations"
    )
    email = models.EmailField(_("email address"))
    first_name = models.CharField(_("first name"), max_length=100, blank=True)
    last_name = models.CharField(_("last name"), max_length=100, blank=True)
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.EMPLOYEE)
    job_title = models.CharField(_("job title"), max_length=150, blank=True)
    language = models.CharField(
        _("language"), max_length=5, choices=Language.choices, default=Language.FRENCH
    )
    teams = models.ManyToManyField(Team, verbose_name=_("teams"), blank=True)
    token = models.CharField(max_length=64, unique=True, default=_invitation_token)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        ordering = ["-created_at"]
        constraints = [
            # At most one open invitation per address and organisation.
            models.UniqueConstraint(
                fields=["organization", "email"],
                condition=Q(accepted_at__isnull=True, revoked_at__isnull=True),
                name="invitation_one_open_per_email",
            )
        ]

    def __str__(self) -> str:
        return self.email

    @property
    def is_open(self) -> bool:
        return (
            self.accepted_at is None
            and self.revoked_at is None
            and self.expires_at > timezone.now()
        )

    @property
    def status(self) -> str:
        if self.accepted_at:
            return "accepted"
        if self.revoked_at:
            return "revoked"
        if self.expires_at <= timezone.now():
            return "expired"
        return "sent" if self.sent_at else "pending"


class AppendOnlyError(Exception):
    pass


class AuditLogEntryQuerySet(models.QuerySet["AuditLogEntry"]):
    def update(self, **kwargs: object) -> int:
        raise AppendOnlyError("The audit log is append-only")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("The audit log is append-only")


class AuditLogEntry(models.Model):
    """Who did what, to what, when and from where. Rows are never changed or removed;
    on PostgreSQL a trigger enforces it below the ORM too."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="audit_entries", null=True
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    # Kept as text too, so the entry still reads right after the account is gone.
    actor_email = models.CharField(max_length=254, blank=True)
    action = models.CharField(max_length=64, db_index=True)
    target_type = models.CharField(max_length=64, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    target_repr = models.CharField(max_length=255, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    details = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    objects = AuditLogEntryQuerySet.as_manager()

    class Meta:
        verbose_name = _("audit log entry")
        verbose_name_plural = _("audit log entries")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["organization", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_email} {self.action}"

    def save(self, *args: object, **kwargs: object) -> None:
        if self.pk is not None:
            raise AppendOnlyError("The audit log is append-only")
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("The audit log is append-only")
