"""Slack and Microsoft Teams channels: the organisation's Slack connection (a bot token),
its destinations (a Slack channel, or a Teams Workflows webhook) with their routing, and
the outbox of messages posted to them with every attempt.

Secrets (the bot token, a webhook's URL) are stored encrypted (advocacy.token_vault) and
never leave the server: pages and the API show a masked hint."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from content.models import Topic
from organizations.models import Organization, Team


class ConnectionStatus(models.TextChoices):
    CONNECTED = "connected", _("Connected")
    BROKEN = "broken", _("Needs attention")


class SlackConnection(models.Model):
    """The organisation's Slack app, installed in one workspace: its bot token, checked
    with auth.test when pasted."""

    organization = models.OneToOneField(
        Organization, on_delete=models.CASCADE, related_name="slack_connection"
    )
    bot_token = models.TextField(_("bot token (encrypted)"))
    token_hint = models.CharField(max_length=40, blank=True)
    team_id = models.CharField(max_length=40, blank=True)
    team_name = models.CharField(_("workspace"), max_length=200, blank=True)
    workspace_url = models.CharField(max_length=300, blank=True)
    bot_user_id = models.CharField(max_length=40, blank=True)
    bot_name = models.CharField(_("bot"), max_length=200, blank=True)
    status = models.CharField(
        max_length=12, choices=ConnectionStatus.choices, default=ConnectionStatus.CONNECTED
    )
    problem = models.CharField(max_length=40, blank=True)
    broken_at = models.DateTimeField(null=True, blank=True)
    connected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    connected_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.team_name or "Slack"


class DestinationKind(models.TextChoices):
    SLACK = "slack", _("Slack channel")
    TEAMS = "teams", _("Microsoft Teams channel (Workflows webhook)")


class DestinationStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    BROKEN = "broken", _("Needs attention")


class EventKind(models.TextChoices):
    CONTENT_PUBLISHED = "content.published", _("New posts to share")
    CHALLENGE_LAUNCHED = "challenge.launched", _("Challenge launches")
    CHALLENGE_RESULTS = "challenge.results", _("Challenge winners")
    LEADERBOARD_WEEKLY = "leaderboard.weekly", _("Weekly leaderboard")


# What a new destination receives unless told otherwise.
DEFAULT_EVENTS = [choice.value for choice in EventKind]


class Destination(models.Model):
    """Where messages go, and its routing: which event kinds, and for posts and challenges,
    which teams (their audience) or topics. No team and no topic: everything of those kinds."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="channel_destinations"
    )
    kind = models.CharField(_("kind"), max_length=10, choices=DestinationKind.choices)
    label = models.CharField(_("label"), max_length=100)
    slack_channel_id = models.CharField(_("Slack channel id"), max_length=40, blank=True)
    webhook_url = models.TextField(_("webhook address (encrypted)"), blank=True)
    webhook_hint = models.CharField(max_length=200, blank=True)
    events = models.JSONField(_("events"), default=list)
    teams = models.ManyToManyField(Team, verbose_name=_("teams"), blank=True, related_name="+")
    topics = models.ManyToManyField(Topic, verbose_name=_("topics"), blank=True, related_name="+")
    status = models.CharField(
        max_length=10, choices=DestinationStatus.choices, default=DestinationStatus.ACTIVE
    )
    problem = models.CharField(max_length=40, blank=True)
    broken_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["label", "pk"]
        constraints = [
            models.CheckConstraint(
                name="messaging_destination_target",
                condition=(models.Q(kind="slack", webhook_url="") & ~models.Q(slack_channel_id=""))
                | (models.Q(kind="teams", slack_channel_id="") & ~models.Q(webhook_url="")),
            )
        ]

    def __str__(self) -> str:
        return self.label


class MessageStatus(models.TextChoices):
    PENDING = "pending", _("Waiting to be sent")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    UNKNOWN = "unknown", _("Unknown: check the channel")


class ChannelMessage(models.Model):
    """The outbox: one row per (destination, event), unique by its idempotency key, so an
    event delivered twice makes one row. Claimed with a conditional UPDATE; the network is
    called outside any transaction, after `request_sent_at` is committed, so a claim found
    abandoned tells whether the message may have been posted."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    destination = models.ForeignKey(Destination, on_delete=models.CASCADE, related_name="messages")
    event = models.CharField(max_length=30)
    idempotency_key = models.CharField(max_length=200, unique=True)
    title = models.CharField(max_length=300)
    # The rendered message: {"slack": {"text", "blocks"}} or {"teams": {...payload}}.
    payload = models.JSONField(default=dict)
    status = models.CharField(
        max_length=10, choices=MessageStatus.choices, default=MessageStatus.PENDING
    )
    failure = models.CharField(max_length=40, blank=True)
    detail = models.CharField(max_length=500, blank=True)
    attempt_count = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    request_sent_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    external_id = models.CharField(max_length=100, blank=True)
    resent_count = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="messaging_msg_due"),
            models.Index(fields=["organization", "-created_at"], name="messaging_msg_org_recent"),
        ]

    def __str__(self) -> str:
        return self.title


class ChannelAttempt(models.Model):
    message = models.ForeignKey(ChannelMessage, on_delete=models.CASCADE, related_name="attempts")
    outcome = models.CharField(max_length=20)
    failure = models.CharField(max_length=40, blank=True)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    detail = models.CharField(max_length=500, blank=True)
    started_at = models.DateTimeField()
    duration_ms = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-started_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.outcome} {self.started_at:%Y-%m-%d %H:%M:%S}"
