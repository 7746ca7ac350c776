"""The points ledger and what derives from it: scoring rules, the append-only PointEntry
ledger, each employee's Score, levels ("paliers") and badges."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from content.models import Content
from organizations.models import Organization

__all__ = [
    "SHARE_REASONS",
    "BadgeAward",
    "BadgeKind",
    "ClickSettleState",
    "Level",
    "PointEntry",
    "PointReason",
    "Score",
    "ScoringEvent",
    "ScoringRule",
]


class ScoringEvent(models.TextChoices):
    SHARE_PUBLISHED = "share_published", _("Share published by the platform")
    SHARE_LINK_CONFIRMED = "share_link_confirmed", _("Share link confirmed")
    CLICK = "click", _("Unique click on a share")
    SUGGESTION_ACCEPTED = "suggestion_accepted", _("Suggestion accepted")
    CHARTER_ACCEPTED = "charter_accepted", _("Charter accepted")
    CHALLENGE_COMPLETED = "challenge_completed", _("Challenge completed")


class ScoringRule(models.Model):
    """An organisation's points for one event; an event without a rule pays the default
    (challenges.services.points.DEFAULT_POINTS)."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="scoring_rules"
    )
    event = models.CharField(_("event"), max_length=30, choices=ScoringEvent.choices)
    points = models.PositiveIntegerField(_("points"))
    daily_cap_per_share = models.PositiveIntegerField(
        _("daily cap per share"),
        null=True,
        blank=True,
        help_text=_("Clicks only: the most clicks of one share that pay on one day."),
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("scoring rule")
        verbose_name_plural = _("scoring rules")
        ordering = ["event"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "event"], name="scoring_rule_unique")
        ]

    def __str__(self) -> str:
        return f"{self.get_event_display()}: {self.points}"


class PointReason(models.TextChoices):
    SHARE_PUBLISHED = "share_published", _("Share published")
    SHARE_LINK_CONFIRMED = "share_link_confirmed", _("Share link confirmed")
    CLICK = "click", _("Click on your share")
    SUGGESTION_ACCEPTED = "suggestion_accepted", _("Suggestion accepted")
    CHARTER_ACCEPTED = "charter_accepted", _("Charter accepted")
    CHALLENGE_COMPLETED = "challenge_completed", _("Challenge completed")
    CHALLENGE_BONUS = "challenge_bonus", _("Challenge bonus")
    SHARE_RECALLED = "share_recalled", _("Share withdrawn")
    CLICK_FRAUD = "click_fraud", _("Click found fraudulent")
    REVERSAL = "reversal", _("Correction")
    REDEMPTION = "redemption", _("Reward redeemed")
    REFUND = "refund", _("Refund")
    ADJUSTMENT = "adjustment", _("Adjustment")


SHARE_REASONS = (PointReason.SHARE_PUBLISHED, PointReason.SHARE_LINK_CONFIRMED)


class PointEntryQuerySet(models.QuerySet["PointEntry"]):
    def update(self, **kwargs: object) -> int:
        raise TypeError("The points ledger is append-only: write a new entry")


class PointEntry(models.Model):
    """One line of the ledger. Never changed: a correction is a new (negative) entry.
    `points` moves lifetime points (rankings, levels), `spendable_delta` the balance
    rewards are paid from. `source_key` is unique, so one event pays once."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="point_entries"
    )
    reason = models.CharField(_("reason"), max_length=30, choices=PointReason.choices)
    points = models.IntegerField(_("points"))
    spendable_delta = models.IntegerField(_("spendable points"))
    source_key = models.CharField(max_length=150, unique=True)
    # Set on a reversal; unique, so an entry is reversed at most once.
    reversal_of = models.OneToOneField(
        "self", on_delete=models.CASCADE, null=True, blank=True, related_name="reversed_by"
    )
    share = models.ForeignKey(
        "advocacy.Share", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    content = models.ForeignKey(
        Content, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    note = models.CharField(_("note"), max_length=300, blank=True)
    occurred_at = models.DateTimeField(_("when"))
    created_at = models.DateTimeField(auto_now_add=True)

    objects = PointEntryQuerySet.as_manager()

    class Meta:
        verbose_name = _("point entry")
        verbose_name_plural = _("point entries")
        ordering = ["-occurred_at", "-pk"]
        indexes = [
            models.Index(fields=["user", "-occurred_at"], name="point_entry_user_recent"),
            models.Index(fields=["organization", "occurred_at"], name="point_entry_org_time"),
            models.Index(fields=["share", "reason"], name="point_entry_share"),
        ]

    def __str__(self) -> str:
        return f"{self.source_key}: {self.points:+d}"

    def save(self, *args: object, **kwargs: object) -> None:
        if self.pk is not None:
            raise TypeError("The points ledger is append-only: write a new entry")
        super().save(*args, **kwargs)  # type: ignore[arg-type]


class Score(models.Model):
    """Each employee's totals in one organisation, moved with F() in the transaction that
    writes the entry. A person who belongs to several organisations has one row in each:
    points, levels, streaks and the ranking choice never cross from one to another."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="scores"
    )
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    lifetime_points = models.IntegerField(default=0)
    spendable_points = models.IntegerField(default=0)
    hidden_from_rankings = models.BooleanField(_("hide me from public rankings"), default=False)
    share_count = models.IntegerField(default=0)
    click_count = models.IntegerField(default=0)
    current_streak_weeks = models.PositiveIntegerField(default=0)
    longest_streak_weeks = models.PositiveIntegerField(default=0)
    # Monday (organisation's time zone) of the last week with a share: a streak whose last
    # week is older than last week is over, whatever current_streak_weeks says.
    streak_week = models.DateField(null=True, blank=True)
    # The highest level threshold the employee was told about: a level-up is announced once.
    level_threshold = models.IntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("score")
        verbose_name_plural = _("scores")
        indexes = [models.Index(fields=["organization", "-lifetime_points"], name="score_rank")]
        constraints = [
            models.CheckConstraint(
                condition=Q(spendable_points__gte=0), name="score_spendable_not_negative"
            ),
            models.UniqueConstraint(fields=["user", "organization"], name="score_user_org"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id}@{self.organization_id}: {self.lifetime_points}"


class Level(models.Model):
    """A named threshold of lifetime points ("palier")."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="levels")
    threshold = models.PositiveIntegerField(_("from (points)"))
    name_en = models.CharField(_("name in English"), max_length=60)
    name_fr = models.CharField(_("name in French"), max_length=60)

    class Meta:
        verbose_name = _("level")
        verbose_name_plural = _("levels")
        ordering = ["threshold"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "threshold"], name="level_unique")
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return self.name_fr if (get_language() or "").startswith("fr") else self.name_en


class BadgeKind(models.TextChoices):
    FIRST_SHARE = "first_share", _("First share")
    SHARES_10 = "shares_10", _("10 shares")
    SHARES_50 = "shares_50", _("50 shares")
    SHARES_100 = "shares_100", _("100 shares")
    CLICKS_100 = "clicks_100", _("First 100 clicks")
    STREAK_4_WEEKS = "streak_4_weeks", _("4 weeks in a row")
    TOP_SUGGESTER = "top_suggester", _("Top suggester of the month")
    CHALLENGE_WINNER = "challenge_winner", _("Challenge winner")


class BadgeAward(models.Model):
    """A badge earned; `key` is unique, so each badge (or each month's, each challenge's)
    is awarded once."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="badge_awards"
    )
    badge = models.CharField(_("badge"), max_length=30, choices=BadgeKind.choices)
    key = models.CharField(max_length=150, unique=True)
    awarded_at = models.DateTimeField()

    class Meta:
        verbose_name = _("badge")
        verbose_name_plural = _("badges")
        ordering = ["-awarded_at", "-pk"]
        indexes = [models.Index(fields=["user", "-awarded_at"], name="badge_award_user")]

    def __str__(self) -> str:
        return self.key


class ClickSettleState(models.Model):
    """The one row the click-settling job locks and moves forward: clicks recorded up to
    `settled_until` have been looked at."""

    name = models.CharField(max_length=30, unique=True, default="clicks")
    settled_until = models.DateTimeField(null=True, blank=True)
    # Set while a backlog is worked through batch by batch: the last click looked at.
    last_click_id = models.PositiveBigIntegerField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name}: {self.settled_until}"
