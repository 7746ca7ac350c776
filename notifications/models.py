from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from organizations.models import Organization


class Notification(models.Model):
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="notifications"
    )
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(_("kind"), max_length=64)
    title = models.CharField(_("title"), max_length=255)
    body = models.TextField(_("message"), blank=True)
    url = models.CharField(_("link"), max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    read_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["recipient"], condition=Q(read_at__isnull=True), name="notification_unread"
            )
        ]

    def __str__(self) -> str:
        return self.title


class EmailPreference(models.Model):
    """Whether a kind of notification reaches the user by email; absent means the kind's
    default."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="email_preferences"
    )
    kind = models.CharField(max_length=64)
    email = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "kind"], name="email_preference_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user_id}:{self.kind}={self.email}"


class PushPreference(models.Model):
    """Whether a kind of notification that can be pushed reaches the user's devices; absent
    means on (pushes only go to devices where the user turned them on)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="push_preferences"
    )
    kind = models.CharField(max_length=64)
    push = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "kind"], name="push_preference_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user_id}:{self.kind}={self.push}"


class PushSubscription(models.Model):
    """One browser (device) that accepted push notifications for a user (the Push API's
    PushSubscription: the push service's endpoint and the keys that encrypt for it)."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="push_subscriptions"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="push_subscriptions"
    )
    endpoint = models.CharField(_("endpoint"), max_length=1000)
    p256dh = models.CharField(max_length=100)
    auth = models.CharField(max_length=40)
    user_agent = models.CharField(_("device"), max_length=120, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    failure_count = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("push subscription")
        verbose_name_plural = _("push subscriptions")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "endpoint"], name="push_subscription_unique_endpoint"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user_id}:{self.user_agent or self.endpoint[:40]}"
