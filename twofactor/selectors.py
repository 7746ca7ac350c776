"""Reads of the two-factor policy and of who has set up a second factor, always scoped to
one organisation."""

from __future__ import annotations

from allauth.mfa.models import Authenticator
from django.core.cache import cache
from django.db.models import (
    BooleanField,
    Case,
    Count,
    Exists,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.http import Http404

from organizations.models import Membership, Organization, Role, User
from twofactor.models import TwoFactorPolicy

# The roles a policy can cover, in the order the page lists them.
COVERED_ROLES = (Role.ORG_ADMIN.value, Role.EDITOR.value, Role.REVIEWER.value)
# Authenticators that are a second factor on their own (recovery codes only back them up).
FACTOR_TYPES = (Authenticator.Type.TOTP, Authenticator.Type.WEBAUTHN)
# The policy is read on every request of an admin, editor or reviewer (the middleware):
# kept in the cache, so that those requests cost no query; services drop it on change.
POLICY_CACHE_SECONDS = 300


def _policy_cache_key(organization_id: int) -> str:
    return f"twofactor:policy:{organization_id}"


def two_factor_policy_of(organization: Organization) -> TwoFactorPolicy:
    """The organisation's policy; an unsaved one (nobody required) when none was set."""
    found = TwoFactorPolicy.objects.filter(organization=organization).first()
    return found or TwoFactorPolicy(organization=organization)


def two_factor_required_roles(organization_id: int) -> frozenset[str]:
    key = _policy_cache_key(organization_id)
    cached = cache.get(key)
    if cached is not None:
        return frozenset(cached)
    policy = TwoFactorPolicy.objects.filter(organization_id=organization_id).first()
    roles = policy.required_roles if policy else frozenset()
    cache.set(key, sorted(roles), POLICY_CACHE_SECONDS)
    return roles


def two_factor_policy_forget(organization_id: int) -> None:
    cache.delete(_policy_cache_key(organization_id))


def two_factor_required_for(user: User) -> bool:
    """Whether the person's organisation requires a second factor of their role."""
    if user.organization_id is None or user.role not in COVERED_ROLES:
        return False
    return user.role in two_factor_required_roles(user.organization_id)


def two_factor_required_anywhere(user: User) -> bool:
    """Whether any organisation the person belongs to (their home one, or one they are a
    guest member of) requires a second factor of the role they hold there. An API token
    can work in each of them (the X-Organization header), so each policy counts."""
    from organizations.memberships import home_of

    home, home_role = home_of(user)
    if (
        home is not None
        and home_role in COVERED_ROLES
        and home_role in two_factor_required_roles(home.pk)
    ):
        return True
    guest_roles = Membership.objects.filter(user_id=user.pk, role__in=COVERED_ROLES).values_list(
        "organization_id", "role"
    )
    return any(role in two_factor_required_roles(org_id) for org_id, role in guest_roles)


def two_factor_enrolled(user: User) -> bool:
    """Whether the person has an authenticator app or a security key."""
    return Authenticator.objects.filter(user_id=user.pk, type__in=FACTOR_TYPES).exists()


def two_factor_summary(user: User) -> dict[str, object]:
    """What the profile page shows: which factors the person has, and whether one is due."""
    counts = dict(
        Authenticator.objects.filter(user_id=user.pk)
        .order_by()
        .values("type")
        .annotate(n=Count("id"))
        .values_list("type", "n")
    )
    return {
        "has_totp": bool(counts.get(Authenticator.Type.TOTP)),
        "webauthn_count": counts.get(Authenticator.Type.WEBAUTHN, 0),
        "has_recovery_codes": bool(counts.get(Authenticator.Type.RECOVERY_CODES)),
        "enrolled": bool(
            counts.get(Authenticator.Type.TOTP) or counts.get(Authenticator.Type.WEBAUTHN)
        ),
        "required": two_factor_required_for(user),
    }


def concerned_people(organization: Organization, *, status: str = "") -> QuerySet[User]:
    """The active admins, editors and reviewers of the organisation, each annotated with
    the factors they have: its own people, and guests whose membership here
    (organizations.Membership) has one of these roles. Each row carries `org_role` (the
    role in this organisation, read through `User.role_here`) and `is_guest`.
    status: "missing" (none yet), "enrolled", or "" (everyone)."""
    factors = Authenticator.objects.filter(user_id=OuterRef("pk"))
    guest_here = Membership.objects.filter(user_id=OuterRef("pk"), organization=organization)
    people = (
        User.objects.filter(is_active=True)
        .filter(
            Q(organization=organization, role__in=COVERED_ROLES)
            | (~Q(organization=organization) & Exists(guest_here.filter(role__in=COVERED_ROLES)))
        )
        .annotate(
            is_guest=Case(
                When(organization=organization, then=Value(False)),
                default=Value(True),
                output_field=BooleanField(),
            ),
            org_role=Case(
                When(organization=organization, then=F("role")),
                default=Subquery(guest_here.values("role")[:1]),
            ),
            has_totp=Exists(factors.filter(type=Authenticator.Type.TOTP)),
            has_webauthn=Exists(factors.filter(type=Authenticator.Type.WEBAUTHN)),
            has_recovery_codes=Exists(factors.filter(type=Authenticator.Type.RECOVERY_CODES)),
        )
        .order_by("last_name", "first_name", "email")
    )
    if status == "missing":
        people = people.filter(has_totp=False, has_webauthn=False)
    elif status == "enrolled":
        people = people.filter(Q(has_totp=True) | Q(has_webauthn=True))
    return people


def person_for_reset(organization: Organization, pk: object) -> User:
    """A person of this organisation (any role: a lost phone is anyone's), or a guest
    member of it (shown, so that the page can say whom to ask), else 404. The result
    carries `is_guest`."""
    wanted = str(pk)
    if not wanted.isdigit() or len(wanted) > 18:
        raise Http404
    found = (
        User.objects.filter(pk=int(wanted))
        .filter(
            Q(organization=organization)
            | Exists(Membership.objects.filter(user_id=OuterRef("pk"), organization=organization))
        )
        .first()
    )
    if found is None:
        raise Http404
    found.is_guest = found.organization_id != organization.pk  # type: ignore[attr-defined]
    return found


def authenticator_count(user: User) -> int:
    return Authenticator.objects.filter(user_id=user.pk).count()
