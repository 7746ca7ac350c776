"""Reads shared by the HTML views and the API, always scoped to the caller's organisation."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time

from django.db.models import F, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone
from knox.models import AuthToken

from organizations.models import (
    AuditLogEntry,
    Invitation,
    Membership,
    Organization,
    Role,
    Team,
    User,
)


def team_descendant_ids(roots: Iterable[Team | int], all_teams: Iterable[Team]) -> set[int]:
    """Ids of the given teams and every team below them, walked in memory from one list of
    the organisation's teams (trees are small: one query instead of one per level)."""
    children: dict[int | None, list[int]] = {}
    for team in all_teams:
        children.setdefault(team.parent_id, []).append(team.pk)
    found: set[int] = set()
    stack = [root if isinstance(root, int) else root.pk for root in roots]
    while stack:
        current = stack.pop()
        if current not in found:
            found.add(current)
            stack.extend(children.get(current, []))
    return found


def user_team_ancestor_ids(user: User) -> set[int]:
    """The user's teams and every team above them: something aimed at a team reaches its
    sub-teams, so a member of a sub-team is in the audience of every ancestor."""
    teams = Team.objects.filter(organization_id=user.organization_id).only("id", "parent_id")
    parent = {team.pk: team.parent_id for team in teams}
    found: set[int] = set()
    for team_id in user.active_teams().values_list("id", flat=True):
        current: int | None = team_id
        while current is not None and current not in found:
            found.add(current)
            current = parent.get(current)
    return found


def teams_of_organization(user: User) -> QuerySet[Team]:
    return Team.objects.filter(organization_id=user.organization_id)


def visible_team_ids(user: User) -> set[int]:
    """Teams whose people and numbers this user may see: the whole organisation for
    admins and the comms team, the managed teams and those below them for a manager,
    and the user's own teams otherwise."""
    all_teams = list(teams_of_organization(user).only("id", "parent_id"))
    if user.role in (Role.ORG_ADMIN, Role.EDITOR, Role.REVIEWER):
        return {team.pk for team in all_teams}
    if user.role == Role.MANAGER:
        managed = list(user.managed_teams.values_list("id", flat=True))
        return team_descendant_ids(managed, all_teams)
    return set(user.active_teams().values_list("id", flat=True))


def team_tree(user: User) -> list[tuple[Team, int]]:
    """The organisation's teams in tree order with their depth, for display."""
    teams = list(
        teams_of_organization(user)
        .prefetch_related(Prefetch("managers", queryset=User.objects.only("id", "email")))
        .order_by("name")
    )
    children: dict[int | None, list[Team]] = {}
    for team in teams:
        children.setdefault(team.parent_id, []).append(team)
    ordered: list[tuple[Team, int]] = []

    def walk(parent_id: int | None, depth: int) -> None:
        for team in children.get(parent_id, []):
            ordered.append((team, depth))
            walk(team.pk, depth + 1)

    walk(None, 0)
    return ordered


def team_for_user(user: User, pk: int, *, write: bool = False) -> Team:
    """The one access check for a team: another organisation's team does not exist."""
    try:
        team = teams_of_organization(user).get(pk=pk)
    except Team.DoesNotExist:
        raise Http404 from None
    if write and not user.is_org_admin:
        raise Http404
    return team


def organization_people(organization_id: int | None) -> QuerySet[User]:
    """Everyone in the organisation, for the apps above: those whose home it is and those
    who belong to it through a Membership (a subquery: no duplicates)."""
    return User.objects.filter(
        Q(organization_id=organization_id)
        | Q(pk__in=Membership.objects.filter(organization_id=organization_id).values("user_id"))
    )


def organization_members(organization_id: int | None) -> QuerySet[User]:
    """Everyone in the organisation: those whose home it is, and those who belong to it
    through a Membership (their role here annotated as `org_role` for both)."""
    guest_role = Membership.objects.filter(
        user_id=OuterRef("pk"), organization_id=organization_id
    ).values("role")[:1]
    return organization_people(organization_id).annotate(
        org_role=Coalesce(
            Subquery(guest_role),
            F("role"),
        )
    )


def members_visible_to(user: User) -> QuerySet[User]:
    members = organization_members(user.organization_id)
    if user.role in (Role.ORG_ADMIN, Role.EDITOR, Role.REVIEWER):
        return members
    if user.role == Role.MANAGER:
        return members.filter(Q(teams__in=visible_team_ids(user)) | Q(pk=user.pk)).distinct()
    return members.filter(pk=user.pk)


def member_list(
    user: User, *, search: str = "", role: str = "", team_id: int | None = None
) -> QuerySet[User]:
    members = members_visible_to(user)
    if search:
        members = members.filter(
            Q(email__icontains=search)
            | Q(first_name__icontains=search)
            | Q(last_name__icontains=search)
        )
    if role:
        members = members.filter(org_role=role)
    if team_id:
        members = members.filter(teams=team_id)
    # Only this organisation's teams: a member of several has teams in each.
    teams = Team.objects.filter(organization_id=user.organization_id).only("id", "name")
    return members.prefetch_related(Prefetch("teams", queryset=teams))


def member_for_user(user: User, pk: int, *, write: bool = False) -> User:
    try:
        member = members_visible_to(user).get(pk=pk)
    except User.DoesNotExist:
        raise Http404 from None
    if write and not user.is_org_admin:
        raise Http404
    return member


def invitation_list(user: User) -> QuerySet[Invitation]:
    return (
        Invitation.objects.filter(organization_id=user.organization_id)
        .select_related("invited_by")
        .prefetch_related("teams")
    )


def invitation_for_user(user: User, pk: int) -> Invitation:
    try:
        return invitation_list(user).get(pk=pk)
    except Invitation.DoesNotExist:
        raise Http404 from None


def audit_entries(
    user: User,
    *,
    action: str = "",
    actor: str = "",
    since: date | None = None,
    until: date | None = None,
) -> QuerySet[AuditLogEntry]:
    entries = AuditLogEntry.objects.filter(organization_id=user.organization_id)
    if action:
        entries = entries.filter(action__startswith=action)
    if actor:
        entries = entries.filter(actor_email__icontains=actor)
    tz = timezone.get_current_timezone()
    if since:
        entries = entries.filter(created_at__gte=datetime.combine(since, time.min, tzinfo=tz))
    if until:
        entries = entries.filter(created_at__lte=datetime.combine(until, time.max, tzinfo=tz))
    return entries


def api_tokens_of_user(user: User) -> QuerySet[AuthToken]:
    """The person's own API tokens that still work, newest first (never anyone else's)."""
    return (
        AuthToken.objects.filter(user=user).exclude(expiry__lte=timezone.now()).order_by("-created")
    )


def organizations_for_operator() -> QuerySet[Organization]:
    """Every organisation, for the platform operator's page, with its headcounts."""
    from django.db.models import Count

    return Organization.objects.annotate(
        home_members=Count("members", distinct=True),
        guest_members=Count("guest_memberships", distinct=True),
        open_invitations=Count(
            "invitations",
            filter=Q(invitations__accepted_at__isnull=True, invitations__revoked_at__isnull=True),
            distinct=True,
        ),
    ).order_by("name")
