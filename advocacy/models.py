"""Sharing: connected accounts, the Share outbox and its attempts, tracked links, clicks,
the activity feed other apps subscribe to, posting slots and the organisation's pause."""

from __future__ import annotations

import secrets
import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from content.models import Content, Network
from organizations.models import Organization, Team


class AccountStatus(models.TextChoices):
    ACTIVE = "active", _("Connected")
    NEEDS_RECONNECT = "needs_reconnect", _("Needs reconnecting")


class SocialAccount(models.Model):
    """An employee's connected account on one network. `adapter` names the code that
    talks to the network (the sandbox network in the demo and the tests)."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="social_accounts"
    )
    network = models.CharField(_("network"), max_length=10, choices=Network.choices)
    adapter = models.CharField(max_length=20)
    external_id = models.CharField(max_length=200)
    display_name = models.CharField(max_length=200, blank=True)
    # Encrypted with FIELD_ENCRYPTION_KEYS (advocacy.secrets); never stored in clear.
    access_token = models.TextField(blank=True)
    refresh_token = models.TextField(blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(
        max_length=20, choices=AccountStatus.choices, default=AccountStatus.ACTIVE
    )
    connected_at = models.DateTimeField(auto_now_add=True)
    # Tokens that cannot be refreshed (LinkedIn's 60 days): when the employee was told it
    # expires soon, and that it has expired; cleared on reconnecting. Each is sent once.
    expiry_warned_at = models.DateTimeField(null=True, blank=True)
    expired_notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "network"], name="social_account_one_per_network"
            )
        ]
        indexes = [models.Index(fields=["status", "expires_at"], name="social_account_expiry")]

    def __str__(self) -> str:
        return f"{self.get_network_display()} · {self.display_name or self.external_id}"


class NetworkApp(models.Model):
    """An organisation's app at a network (X, LinkedIn): the client id and secret the org
    admin registered there, and how employees may post through it. Without one (and
    without server-wide defaults) the network is share links only."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="network_apps"
    )
    # The network package's name (advocacy/networks/<name>/).
    adapter = models.CharField(max_length=20)
    client_id = models.CharField(_("client id"), max_length=200)
    # Encrypted with FIELD_ENCRYPTION_KEYS, like the tokens.
    client_secret = models.TextField(blank=True)
    api_posting = models.BooleanField(
        _("employees may post through the API"),
        default=True,
        help_text=_("Off: share links only (X charges for each post made through its API)."),
    )
    community_management = models.BooleanField(
        _("the app has LinkedIn's Community Management API (post analytics)"), default=False
    )
    # A problem only the org admin or the operator can fix, shown loudly in the
    # administration pages: "version_expired" (LinkedIn 426), "missing_permission" (403).
    problem = models.CharField(max_length=40, blank=True)
    problem_detail = models.CharField(max_length=500, blank=True)
    problem_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "adapter"], name="network_app_one_per_adapter"
            )
        ]

    def __str__(self) -> str:
        return f"{self.organization} · {self.adapter}"


class ShareMode(models.TextChoices):
    API = "api", _("Posted for me")
    LINK = "link", _("Share link")


class ShareStatus(models.TextChoices):
    SCHEDULED = "scheduled", _("Scheduled")
    PUBLISHING = "publishing", _("Publishing")
    PUBLISHED = "published", _("Published")
    NEEDS_RECONNECT = "needs_reconnect", _("Needs reconnect")
    FAILED = "failed", _("Failed")
    OUTCOME_UNKNOWN = "outcome_unknown", _("Outcome unknown")
    AWAITING_CONFIRMATION = "awaiting_confirmation", _("Waiting for your confirmation")
    CANCELLED = "cancelled", _("Cancelled")
    DISMISSED = "dismissed", _("Not posted")
    RECALL_PENDING = "recall_pending", _("Being deleted")
    RECALLING = "recalling", _("Being deleted")
    RECALLED = "recalled", _("Deleted (content withdrawn)")
    RECALL_ASKED = "recall_asked", _("Please delete it (content withdrawn)")
    RECALL_FAILED = "recall_failed", _("Could not be deleted")


# A share in one of these states holds its (employee, content, network) place: a second
# one is refused by the database.
LIVE_STATUSES = (
    ShareStatus.SCHEDULED,
    ShareStatus.PUBLISHING,
    ShareStatus.PUBLISHED,
    ShareStatus.NEEDS_RECONNECT,
    ShareStatus.OUTCOME_UNKNOWN,
    ShareStatus.AWAITING_CONFIRMATION,
)


class Share(models.Model):
    """The outbox row: nothing is posted that has no Share."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="shares"
    )
    content = models.ForeignKey(Content, on_delete=models.CASCADE, related_name="shares")
    network = models.CharField(_("network"), max_length=10, choices=Network.choices)
    mode = models.CharField(_("mode"), max_length=10, choices=ShareMode.choices)
    account = models.ForeignKey(
        SocialAccount, on_delete=models.SET_NULL, null=True, blank=True, related_name="shares"
    )
    text = models.TextField(_("text"))
    status = models.CharField(
        _("status"), max_length=30, choices=ShareStatus.choices, default=ShareStatus.SCHEDULED
    )
    scheduled_at = models.DateTimeField(_("scheduled for"))
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # Set when a task was last handed to the broker; the sweeper re-dispatches a due share
    # whose message never arrived.
    dispatched_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    # Committed just before the network is called: a claim that dies without it was never
    # sent and may be retried; one that dies with it may have been posted.
    request_sent_at = models.DateTimeField(null=True, blank=True)
    attempt_count = models.PositiveSmallIntegerField(default=0)
    # Sent with the post so a network (or our reconciliation) can recognise a repeat.
    idempotency_key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    external_id = models.CharField(max_length=200, blank=True)
    external_url = models.URLField(max_length=500, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-scheduled_at", "-pk"]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="share_due"),
            models.Index(fields=["organization", "status"], name="share_org_status"),
            models.Index(fields=["user", "-scheduled_at"], name="share_user_recent"),
            # The rollups read a period's shares by publication time: without it, every
            # chunk of a rebuild read the whole table twice.
            models.Index(
                fields=["organization", "published_at"],
                name="share_org_published",
                condition=models.Q(published_at__isnull=False),
            ),
            # And a person's latest API share on a network before a moment (the reach of a
            # share link is that of the same person's latest API share): API shares only,
            # so that the search stops at the first entry instead of walking the links.
            models.Index(
                fields=["user", "network", "-published_at", "-id"],
                name="share_user_network_api",
                condition=models.Q(published_at__isnull=False, mode="api"),
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "content", "network"],
                condition=Q(status__in=LIVE_STATUSES),
                name="share_one_live_per_account",
            ),
            models.CheckConstraint(
                condition=Q(mode="link") | Q(account__isnull=False) | ~Q(status="scheduled"),
                name="share_api_has_account",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.content} → {self.get_network_display()}"


class AttemptKind(models.TextChoices):
    PUBLISH = "publish", _("Publish")
    DELETE = "delete", _("Delete")
    RECONCILE = "reconcile", _("Check")


class ShareAttempt(models.Model):
    share = models.ForeignKey(Share, on_delete=models.CASCADE, related_name="attempts")
    kind = models.CharField(max_length=10, choices=AttemptKind.choices)
    outcome = models.CharField(max_length=30)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    body = models.CharField(max_length=500, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField()

    class Meta:
        ordering = ["started_at", "pk"]

    def __str__(self) -> str:
        return f"{self.kind} {self.outcome}"


def _link_code() -> str:
    return secrets.token_urlsafe(6)


class TrackedLink(models.Model):
    """The link a share carries: /s/<code> redirects to `destination` with UTM parameters."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    share = models.OneToOneField(Share, on_delete=models.CASCADE, related_name="tracked_link")
    code = models.CharField(max_length=16, unique=True, default=_link_code)
    destination = models.URLField(max_length=1000)
    utm_source = models.CharField(max_length=20)
    utm_campaign = models.CharField(max_length=100)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.code


class Click(models.Model):
    """One counted click: bots, previews and prefetches are never stored."""

    event_id = models.UUIDField(unique=True)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    link = models.ForeignKey(TrackedLink, on_delete=models.CASCADE, related_name="clicks")
    share = models.ForeignKey(Share, on_delete=models.CASCADE, related_name="clicks")
    content = models.ForeignKey(Content, on_delete=models.CASCADE, related_name="+")
    sharer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    team = models.ForeignKey(
        Team, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    network = models.CharField(max_length=10, choices=Network.choices)
    # A keyed hash of address and browser, per day: counts unique visitors, stores no address.
    visitor = models.CharField(max_length=64)
    is_self = models.BooleanField(default=False)
    referrer_host = models.CharField(max_length=200, blank=True)
    clicked_at = models.DateTimeField()
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            models.Index(fields=["organization", "clicked_at"], name="click_org_time"),
            # The incremental rollup finds the days new clicks landed on by recorded_at.
            models.Index(fields=["organization", "recorded_at"], name="click_org_recorded"),
        ]

    def __str__(self) -> str:
        return str(self.event_id)


class ActivityKind(models.TextChoices):
    SHARE_PUBLISHED = "share_published", _("Share published")
    SHARE_LINK_CONFIRMED = "share_link_confirmed", _("Share link confirmed")
    CLICK_RECORDED = "click_recorded", _("Click recorded")
    SHARE_RECALLED = "share_recalled", _("Share recalled")


class Activity(models.Model):
    """Something that happened, once: `source_key` is unique, so a repeat writes nothing
    and sends no second signal. Gamification and analytics subscribe."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=30, choices=ActivityKind.choices)
    source_key = models.CharField(max_length=100, unique=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    share = models.ForeignKey(Share, on_delete=models.CASCADE, related_name="+")
    content = models.ForeignKey(Content, on_delete=models.CASCADE, related_name="+")
    click = models.ForeignKey(
        Click, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    network = models.CharField(max_length=10, choices=Network.choices)
    occurred_at = models.DateTimeField()

    class Meta:
        ordering = ["-occurred_at", "-pk"]
        indexes = [models.Index(fields=["organization", "occurred_at"], name="activity_org_time")]

    def __str__(self) -> str:
        return self.source_key


class PostingSlot(models.Model):
    """A weekly moment the employee likes to post at, in the organisation's time zone."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="posting_slots"
    )
    weekday = models.PositiveSmallIntegerField(_("day"))  # Monday is 0
    time = models.TimeField(_("time"))

    class Meta:
        ordering = ["weekday", "time"]
        constraints = [
            models.UniqueConstraint(fields=["user", "weekday", "time"], name="posting_slot_unique"),
            models.CheckConstraint(condition=Q(weekday__lte=6), name="posting_slot_weekday"),
        ]

    def __str__(self) -> str:
        return f"{self.weekday} {self.time:%H:%M}"


class SharingPause(models.Model):
    """Crisis mode: while `paused_at` is set, nothing of the organisation is published."""

    organization = models.OneToOneField(
        Organization, on_delete=models.CASCADE, related_name="sharing_pause"
    )
    paused_at = models.DateTimeField(null=True, blank=True)
    paused_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reason = models.CharField(max_length=300, blank=True)

    def __str__(self) -> str:
        return f"{self.organization}: {'paused' if self.paused_at else 'running'}"


class PostWhen(models.TextChoices):
    NOW = "now", _("Now")
    QUEUE = "queue", _("In my next posting slot")


class SharingPreferenceManager(models.Manager["SharingPreference"]):
    def when_for(self, user_id: int) -> str:
        when = self.filter(user_id=user_id).values_list("post_when", flat=True).first()
        return when or PostWhen.NOW

    def remember(self, *, user_id: int, post_when: str) -> None:
        """One upsert: two tabs posting at once leave one row, with the last choice."""
        self.update_or_create(user_id=user_id, defaults={"post_when": post_when})


class SharingPreference(models.Model):
    """How the employee likes the share sheet to post through a connected account: now, or
    in their next posting slot. Remembered from their last choice."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="sharing_preference"
    )
    post_when = models.CharField(
        _("post"), max_length=10, choices=PostWhen.choices, default=PostWhen.NOW
    )
    updated_at = models.DateTimeField(auto_now=True)

    objects = SharingPreferenceManager()

    def __str__(self) -> str:
        return f"{self.user_id}: {self.post_when}"
