"""Taking part in the programme is an explicit opt-in: accepting the social media charter
records it (when, which version). Leaving keeps the history or erases it, the person's
choice; someone who kept their history can join again."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from advocacy.models import Share, ShareStatus
from challenges.models import Score
from challenges.services.points import points_hide_from_rankings, points_rankings_choices_set
from content.models import CharterAcceptance
from digests.models import DigestPreference, Frequency
from digests.services import digest_preference_set
from nudges.models import NudgeKind, NudgeOptOut
from nudges.services import nudge_preferences_set
from organizations.audit import audit_record
from organizations.errors import ConflictError, DomainError
from organizations.memberships import organizations_of
from organizations.models import User
from privacy.models import Participation
from privacy.services.erasure import WAITING_SHARES, person_erase


def participation_join(
    *, user: User, charter_version: int | None, request: HttpRequest | None = None
) -> Participation:
    """Record that the person joins (or joins again). Called when they accept the charter:
    that acceptance is the explicit opt-in."""
    assert user.organization_id is not None
    now = timezone.now()
    with transaction.atomic():
        found = Participation.objects.select_for_update().filter(user=user).first()
        if found is None:
            found = Participation.objects.create(
                organization_id=user.organization_id,
                user=user,
                joined_at=now,
                charter_version=charter_version,
            )
            audit_record(
                action="privacy.joined",
                organization=user.organization,
                actor=user,
                target=user,
                request=request,
                details={"charter_version": charter_version},
            )
            return found
        rejoined = found.left_at is not None
        found.charter_version = charter_version
        if rejoined:
            found.joined_at, found.left_at = now, None
            _restore_choices(user, found.left_choices or {})
            found.left_choices = {}
        found.save()
        if rejoined:
            audit_record(
                action="privacy.rejoined",
                organization=user.organization,
                actor=user,
                target=user,
                request=request,
                details={"charter_version": charter_version},
            )
    return found


def _restore_choices(user: User, choices: dict[str, Any]) -> None:
    """What the person had chosen before leaving: digests, reminders, rankings."""
    digest = choices.get("digest")
    if digest:
        digest_preference_set(user=user, frequency=digest)
    else:
        DigestPreference.objects.filter(user=user).delete()
    off = set(choices.get("nudges_off") or [])
    nudge_preferences_set(user=user, enabled=set(NudgeKind.values) - off)
    if "hidden_in" in choices:
        # The choice of each organisation the person belongs to (points are kept per
        # organisation); an older record holds the active organisation's only.
        points_rankings_choices_set(user=user, hidden_in=set(choices["hidden_in"]))
    else:
        points_hide_from_rankings(user=user, hidden=bool(choices.get("hidden")))


def participation_leave(
    *,
    user: User,
    erase: bool,
    confirm_email: str = "",
    request: HttpRequest | None = None,
) -> Participation | str:
    """Leave the programme. With `erase`, the person's data is erased (as an admin's
    erasure would) and the pseudonym returned; otherwise the history stays, and the
    person stops receiving digests and reminders, leaves the leaderboards, and their
    waiting shares are cancelled."""
    if user.organization_id is None:
        raise DomainError(_("Your account does not belong to an organisation."))
    if erase:
        pseudonym = person_erase(
            actor=user, user=user, confirm_email=confirm_email, request=request, self_service=True
        )
        _mark_left(User.objects.get(pk=user.pk), choices={})
        return pseudonym
    with transaction.atomic():
        found = Participation.objects.select_for_update().filter(user=user).first()
        if found is not None and found.left_at is not None:
            raise ConflictError(_("You have already left the programme."))
        preference = DigestPreference.objects.filter(user=user).first()
        choices = {
            "digest": preference.frequency if preference else "",
            "nudges_off": sorted(
                NudgeOptOut.objects.filter(user=user).values_list("kind", flat=True)
            ),
            "hidden": Score.objects.filter(
                user=user, organization_id=user.organization_id, hidden_from_rankings=True
            ).exists(),
            "hidden_in": sorted(
                Score.objects.filter(user=user, hidden_from_rankings=True).values_list(
                    "organization_id", flat=True
                )
            ),
        }
        participation = _mark_left(user, choices=choices)
        digest_preference_set(user=user, frequency=Frequency.NEVER)
        nudge_preferences_set(user=user, enabled=set())
        # Out of the rankings of every organisation the person belongs to.
        points_rankings_choices_set(
            user=user, hidden_in={choice.organization.pk for choice in organizations_of(user)}
        )
        # The consent is withdrawn: the share sheet asks for the charter again, and
        # accepting it is joining again (the participation keeps when and which version).
        CharterAcceptance.objects.filter(user=user).delete()
        cancelled = Share.objects.filter(user=user, status__in=WAITING_SHARES).update(
            status=ShareStatus.CANCELLED, last_error=_("You left the programme.")
        )
        audit_record(
            action="privacy.left",
            organization=user.organization,
            actor=user,
            target=user,
            request=request,
            details={"history": "kept", "cancelled_shares": cancelled},
        )
    return participation


def _mark_left(user: User, *, choices: dict[str, Any]) -> Participation:
    now = timezone.now()
    participation, _created = Participation.objects.get_or_create(
        user=user,
        defaults={"organization_id": user.organization_id, "joined_at": now},
    )
    participation.left_at = now
    participation.left_choices = choices
    participation.save(update_fields=["left_at", "left_choices"])
    return participation
