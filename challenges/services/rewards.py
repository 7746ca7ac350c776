"""The rewards catalogue (org admins) and redemptions: an employee spends points on a
reward; an admin fulfils or refuses the request, a refusal refunds the points once."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.files.base import File
from django.db import transaction
from django.db.models import F
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from challenges.models import Redemption, RedemptionStatus, Reward
from challenges.services.points import points_refund, points_spend
from notifications.services import notification_create
from organizations.audit import audit_record
from organizations.errors import ConflictError, DomainError, NotFoundError, PermissionDeniedError
from organizations.images import image_clean_for_field
from organizations.media import media_discard_on_commit
from organizations.models import Role, User

KIND_DECIDED = "rewards.redemption_decided"
KIND_REQUESTED = "rewards.redemption_requested"
MAX_AMOUNT = 1_000_000
MAX_PER_PERSON = 32_767  # a small integer column


@dataclass
class RewardInput:
    title: str
    cost: int
    description: str = ""
    stock: int | None = None
    per_person_limit: int | None = None
    is_active: bool = True
    image: File | None = None  # an upload; cleaned by _clean
    remove_image: bool = False
    # The stock the editor showed; when set, an update is refused if it moved meanwhile.
    check_stock: bool = False
    stock_seen: int | None = None


def _require_admin(actor: User) -> None:
    if not actor.is_org_admin or actor.organization_id is None:
        raise PermissionDeniedError(_("Only organisation administrators manage rewards."))


def _clean(data: RewardInput) -> None:
    data.title = data.title.strip()
    if not data.title:
        raise DomainError(_("Give the reward a title."), field="title")
    if data.cost is None or data.cost <= 0:
        raise DomainError(_("The cost must be at least 1 point."), field="cost")
    if data.cost > MAX_AMOUNT:
        raise DomainError(
            _("The cost can be at most %(n)s points.") % {"n": f"{MAX_AMOUNT:,}"}, field="cost"
        )
    if data.stock is not None and data.stock < 0:
        raise DomainError(_("The stock cannot be negative."), field="stock")
    if data.stock is not None and data.stock > MAX_AMOUNT:
        raise DomainError(
            _("The stock can be at most %(n)s.") % {"n": f"{MAX_AMOUNT:,}"}, field="stock"
        )
    if data.per_person_limit is not None and data.per_person_limit <= 0:
        raise DomainError(
            _("The limit per person must be at least 1, or empty."), field="per_person_limit"
        )
    if data.per_person_limit is not None and data.per_person_limit > MAX_PER_PERSON:
        raise DomainError(
            _("The limit per person can be at most %(n)s.") % {"n": f"{MAX_PER_PERSON:,}"},
            field="per_person_limit",
        )
    if data.image is not None:
        # Validated and re-encoded without metadata here, before anything is written.
        data.image = image_clean_for_field(data.image, field="image")


def _apply(reward: Reward, data: RewardInput) -> None:
    reward.title = data.title
    reward.description = data.description
    reward.cost = data.cost
    reward.stock = data.stock
    reward.per_person_limit = data.per_person_limit
    reward.is_active = data.is_active
    replaced = reward.image.name
    if data.remove_image and reward.image:
        reward.image = ""
    if data.image is not None:
        reward.image.save(data.image.name or "reward", data.image, save=False)
    if replaced != reward.image.name:
        media_discard_on_commit(replaced)


def reward_create(*, actor: User, data: RewardInput, request: HttpRequest | None = None) -> Reward:
    _require_admin(actor)
    _clean(data)
    with transaction.atomic():
        reward = Reward(organization_id=actor.organization_id)
        _apply(reward, data)
        reward.save()
        audit_record(
            action="reward.created",
            organization=actor.organization,
            actor=actor,
            target=reward,
            request=request,
        )
    return reward


def reward_update(
    *, actor: User, reward: Reward, data: RewardInput, request: HttpRequest | None = None
) -> Reward:
    _require_admin(actor)
    _clean(data)
    with transaction.atomic():
        # The row lock keeps an edit of the stock from racing a redemption.
        locked = Reward.objects.select_for_update().get(pk=reward.pk)
        if locked.organization_id != actor.organization_id:
            raise NotFoundError(_("No such reward."))
        # Writing back a stock read before a redemption would hand that unit out twice.
        if data.check_stock and locked.stock != data.stock_seen:
            now = _("unlimited") if locked.stock is None else locked.stock
            raise ConflictError(
                _("The stock changed meanwhile: now %(n)s. Check it and save again.") % {"n": now},
                field="stock",
            )
        _apply(locked, data)
        locked.save()
        audit_record(
            action="reward.updated",
            organization=actor.organization,
            actor=actor,
            target=locked,
            request=request,
            details={"stock": locked.stock, "cost": locked.cost, "active": locked.is_active},
        )
    return locked


def reward_redeem(*, user: User, reward_id: int, note: str = "") -> Redemption:
    """Spend the reward's cost on it. The reward row is locked for the whole check, so
    concurrent requests are served one at a time: the stock never goes below zero and
    the limit per person holds; a short balance rolls everything back."""
    if user.organization_id is None:
        raise NotFoundError(_("No such reward."))
    with transaction.atomic():
        reward = (
            Reward.objects.select_for_update()
            .filter(pk=reward_id, organization_id=user.organization_id)
            .first()
        )
        if reward is None:
            raise NotFoundError(_("No such reward."), field="reward")
        if not reward.is_active:
            raise ConflictError(_("This reward is no longer offered."), field="reward")
        if reward.stock is not None and reward.stock <= 0:
            raise ConflictError(_("This reward is out of stock."), field="reward")
        if reward.per_person_limit is not None:
            taken = (
                Redemption.objects.filter(reward=reward, user=user)
                .exclude(status=RedemptionStatus.REFUSED)
                .count()
            )
            if taken >= reward.per_person_limit:
                raise ConflictError(
                    _("You have reached the limit of %(n)s for this reward.")
                    % {"n": reward.per_person_limit},
                    field="reward",
                )
        redemption = Redemption.objects.create(
            organization_id=user.organization_id,
            reward=reward,
            user=user,
            cost=reward.cost,
            note=note.strip()[:500],
        )
        points_spend(
            user=user,
            points=reward.cost,
            source_key=f"redemption:{redemption.pk}",
            note=reward.title,
        )
        if reward.stock is not None:
            Reward.objects.filter(pk=reward.pk, stock__gt=0).update(stock=F("stock") - 1)
        url = reverse("redemption_queue")
        for admin in User.objects.filter(
            organization_id=user.organization_id, role=Role.ORG_ADMIN, is_active=True
        ):
            with translation.override(admin.language):
                notification_create(
                    recipient=admin,
                    kind=KIND_REQUESTED,
                    title=_("%(person)s asks for “%(reward)s”")
                    % {"person": str(user), "reward": reward.title},
                    url=url,
                )
    return redemption


def _decide(
    *,
    actor: User,
    redemption: Redemption,
    status: str,
    note: str,
    request: HttpRequest | None,
) -> Redemption:
    _require_admin(actor)
    with transaction.atomic():
        # Conditional: of two admins deciding at once, one wins and the other is told.
        updated = Redemption.objects.filter(
            pk=redemption.pk,
            organization_id=actor.organization_id,
            status=RedemptionStatus.REQUESTED,
        ).update(
            status=status, decided_at=timezone.now(), decided_by=actor, note=note.strip()[:500]
        )
        if not updated:
            raise ConflictError(_("This request has already been decided."))
        fresh = Redemption.objects.select_related("reward", "user").get(pk=redemption.pk)
        if status == RedemptionStatus.REFUSED:
            points_refund(
                user=fresh.user,
                points=fresh.cost,
                source_key=f"redemption-refund:{fresh.pk}",
                note=fresh.reward.title,
                organization_id=fresh.organization_id,
            )
            Reward.objects.filter(pk=fresh.reward_id, stock__isnull=False).update(
                stock=F("stock") + 1
            )
        audit_record(
            action=f"redemption.{status}",
            organization=actor.organization,
            actor=actor,
            target=fresh,
            request=request,
        )
        with translation.override(fresh.user.language):
            if status == RedemptionStatus.FULFILLED:
                title = _("Your reward “%(reward)s” is on its way") % {"reward": fresh.reward.title}
            else:
                title = _("Your request for “%(reward)s” was refused; your points are back") % {
                    "reward": fresh.reward.title
                }
            notification_create(
                recipient=fresh.user,
                kind=KIND_DECIDED,
                title=title,
                body=fresh.note,
                url=reverse("my_redemptions"),
            )
    return fresh


def redemption_fulfil(
    *, actor: User, redemption: Redemption, note: str = "", request: HttpRequest | None = None
) -> Redemption:
    return _decide(
        actor=actor,
        redemption=redemption,
        status=RedemptionStatus.FULFILLED,
        note=note,
        request=request,
    )


def redemption_refuse(
    *, actor: User, redemption: Redemption, note: str = "", request: HttpRequest | None = None
) -> Redemption:
    return _decide(
        actor=actor,
        redemption=redemption,
        status=RedemptionStatus.REFUSED,
        note=note,
        request=request,
    )
