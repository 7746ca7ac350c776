"""People in several organisations: which organisations a person belongs to, and the one
active for a request.

A request works in one organisation at a time. The active one is applied to the request's
user object in memory (`organization`, `organization_id`, `role`), so that every page, API
and selector, which all read those fields, stays scoped to it unchanged. `User.save()`
always writes the home values back (organizations.models.User.save)."""

from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpRequest

from organizations.models import Membership, Organization, User

# The session key holding the id of the organisation the person chose in the switcher.
SESSION_KEY = "active_organization_id"
# How many organisations the person had at sign-in (or after joining one): the header
# only asks the database for the switcher's list when there is more than one.
SESSION_COUNT_KEY = "organization_count"


@dataclass(frozen=True)
class OrganizationChoice:
    organization: Organization
    role: str
    is_home: bool

    @property
    def role_label(self) -> str:
        from organizations.models import Role

        return str(Role(self.role).label) if self.role in Role.values else self.role


def home_of(user: User) -> tuple[Organization | None, str]:
    """The home organisation and role, even while another one is applied."""
    home = getattr(user, "_home_membership", None)
    if home is not None:
        return home
    return user.organization, user.role


def organizations_of(user: User) -> list[OrganizationChoice]:
    """Every organisation the person belongs to, the home one first, then by name."""
    home, home_role = home_of(user)
    choices = []
    if home is not None:
        choices.append(OrganizationChoice(home, home_role, True))
    for membership in (
        Membership.objects.filter(user_id=user.pk)
        .exclude(organization_id=home.pk if home else None)
        .select_related("organization")
        .order_by("organization__name")
    ):
        choices.append(OrganizationChoice(membership.organization, membership.role, False))
    return choices


def organization_apply(user: User, organization: Organization, role: str) -> None:
    """Make `organization` (with `role`) the active one on this user object, in memory."""
    if getattr(user, "_home_membership", None) is None:
        user._home_membership = (user.organization, user.role)  # type: ignore[attr-defined]
    user.organization = organization
    user.role = role


def organization_resolve(user: User, reference: str | int) -> OrganizationChoice | None:
    """The person's organisation named by id or slug, or None if they are not a member
    (an unknown organisation and someone else's answer the same)."""
    text = str(reference).strip()
    # Ids are small integers and slugs short words: anything else names nothing (and
    # never reaches the database, which refuses NUL and out-of-range integers).
    if not text or len(text) > 60 or not text.isascii() or not text.isprintable():
        return None
    home, home_role = home_of(user)
    if home is not None and (text == str(home.pk) or text == home.slug):
        return OrganizationChoice(home, home_role, True)
    memberships = Membership.objects.filter(user_id=user.pk).select_related("organization")
    if text.isdecimal():
        if len(text) > 18:
            return None
        membership = memberships.filter(organization_id=int(text)).first()
    else:
        membership = memberships.filter(organization__slug=text).first()
    if membership is None:
        return None
    return OrganizationChoice(membership.organization, membership.role, False)


def session_organization_apply(request: HttpRequest, user: User) -> None:
    """Apply the organisation chosen in the switcher; a membership removed since then
    falls back to the home organisation (and the choice is forgotten)."""
    session = getattr(request, "session", None)
    if session is None:
        return
    chosen = session.get(SESSION_KEY)
    if chosen is None:
        return
    home, _role = home_of(user)
    if home is not None and chosen == home.pk:
        return
    choice = organization_resolve(user, chosen)
    if choice is None:
        session.pop(SESSION_KEY, None)
        return
    organization_apply(user, choice.organization, choice.role)


def organization_count(user: User) -> int:
    home, _role = home_of(user)
    others = Membership.objects.filter(user_id=user.pk)
    if home is not None:
        others = others.exclude(organization_id=home.pk)
    return (1 if home is not None else 0) + others.count()


def session_remember_count(request: HttpRequest, user: User) -> None:
    session = getattr(request, "session", None)
    if session is not None:
        session[SESSION_COUNT_KEY] = organization_count(user)


def user_as_member_of(user: User, organization_id: int | None) -> bool:
    """Apply `organization_id` to this user object if the person belongs to it (home or
    membership) and say whether they do: for work done outside a request (points for a
    share, a click) on behalf of the organisation a row names."""
    if organization_id is None:
        return False
    home, home_role = home_of(user)
    if home is not None and home.pk == organization_id:
        if user.organization_id != organization_id:
            organization_apply(user, home, home_role)
        return True
    membership = (
        Membership.objects.filter(user_id=user.pk, organization_id=organization_id)
        .select_related("organization")
        .first()
    )
    if membership is None:
        return False
    organization_apply(user, membership.organization, membership.role)
    return True
