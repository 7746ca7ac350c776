"""The rewards catalogue and the redemptions employees make with their spendable points."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from organizations.images import CleanImageField, UnguessableName, validate_image
from organizations.models import Organization

__all__ = ["Redemption", "RedemptionStatus", "Reward"]


class Reward(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="rewards")
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    image = CleanImageField(
        _("image"), upload_to=UnguessableName("rewards"), blank=True, validators=[validate_image]
    )
    cost = models.PositiveIntegerField(_("cost in points"))
    # Null: unlimited. Decremented with a conditional UPDATE under the row lock.
    stock = models.PositiveIntegerField(_("stock"), null=True, blank=True)
    per_person_limit = models.PositiveSmallIntegerField(
        _("limit per person"), null=True, blank=True
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("reward")
        verbose_name_plural = _("rewards")
        ordering = ["cost", "title", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(cost__gt=0), name="reward_cost_positive"),
            models.CheckConstraint(
                condition=Q(per_person_limit__isnull=True) | Q(per_person_limit__gt=0),
                name="reward_limit_positive",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def in_stock(self) -> bool:
        return self.stock is None or self.stock > 0


class RedemptionStatus(models.TextChoices):
    REQUESTED = "requested", _("Requested")
    FULFILLED = "fulfilled", _("Fulfilled")
    REFUSED = "refused", _("Refused (points refunded)")


class Redemption(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    # RESTRICT, not PROTECT: a requested reward cannot be deleted on its own (hide it),
    # but removing the whole organisation still goes through.
    reward = models.ForeignKey(Reward, on_delete=models.RESTRICT, related_name="redemptions")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="redemptions"
    )
    # The price paid, kept even if the catalogue price changes later.
    cost = models.PositiveIntegerField()
    status = models.CharField(
        max_length=10, choices=RedemptionStatus.choices, default=RedemptionStatus.REQUESTED
    )
    note = models.CharField(_("note"), max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("redemption")
        verbose_name_plural = _("redemptions")
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["organization", "status", "-created_at"], name="redemption_queue"),
            models.Index(fields=["user", "-created_at"], name="redemption_mine"),
        ]

    def __str__(self) -> str:
        return f"{self.reward_id} for {self.user_id}"
