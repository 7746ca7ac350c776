"""Challenges: a goal and/or a ranking over a period, for an audience, on one metric, and
the results frozen when the challenge ends."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from content.models import Content, Network, Topic
from organizations.images import CleanImageField, UnguessableName, validate_image
from organizations.models import Organization, Team

__all__ = [
    "Challenge",
    "ChallengeMetric",
    "ChallengeMode",
    "ChallengeResult",
    "ChallengeStatus",
]


class ChallengeMode(models.TextChoices):
    INDIVIDUAL = "individual", _("Individual")
    TEAM = "team", _("Team against team")


class ChallengeMetric(models.TextChoices):
    SHARES = "shares", _("Shares")
    CLICKS = "clicks", _("Clicks")
    POINTS = "points", _("Points")
    SUGGESTIONS = "suggestions", _("Accepted suggestions")


class ChallengeStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SCHEDULED = "scheduled", _("Upcoming")
    ACTIVE = "active", _("Running")
    ENDED = "ended", _("Ended")
    CANCELLED = "cancelled", _("Cancelled")


class Challenge(models.Model):
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="challenges"
    )
    title = models.CharField(_("title"), max_length=200)
    why_it_matters = models.TextField(_("why it matters"), blank=True)
    banner = CleanImageField(
        _("banner"),
        upload_to=UnguessableName("challenges"),
        blank=True,
        validators=[validate_image],
    )
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    audience_teams = models.ManyToManyField(
        Team, verbose_name=_("audience"), blank=True, related_name="+"
    )
    mode = models.CharField(
        _("mode"), max_length=12, choices=ChallengeMode.choices, default=ChallengeMode.INDIVIDUAL
    )
    metric = models.CharField(
        _("metric"), max_length=12, choices=ChallengeMetric.choices, default=ChallengeMetric.SHARES
    )
    contents = models.ManyToManyField(
        Content, verbose_name=_("contents"), blank=True, related_name="+"
    )
    topics = models.ManyToManyField(Topic, verbose_name=_("topics"), blank=True, related_name="+")
    hashtag = models.CharField(_("hashtag"), max_length=100, blank=True)
    network = models.CharField(_("network"), max_length=10, choices=Network.choices, blank=True)
    goal = models.PositiveIntegerField(_("goal"), null=True, blank=True)
    winners_count = models.PositiveSmallIntegerField(_("number of winners"), default=0)
    prize = models.CharField(_("prize"), max_length=300, blank=True)
    bonus_points = models.PositiveIntegerField(_("bonus points"), default=0)
    status = models.CharField(
        _("status"), max_length=10, choices=ChallengeStatus.choices, default=ChallengeStatus.DRAFT
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    launched_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    results_frozen_at = models.DateTimeField(null=True, blank=True)
    # Claimed by the beat task, in the transaction that tells the audience (launch) and
    # pays and announces the results (end): each happens once, off the page request.
    launch_announced_at = models.DateTimeField(null=True, blank=True)
    results_paid_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("challenge")
        verbose_name_plural = _("challenges")
        ordering = ["-starts_at", "-pk"]
        indexes = [
            models.Index(fields=["organization", "status", "starts_at"], name="challenge_org"),
            models.Index(fields=["status", "starts_at"], name="challenge_due_start"),
            models.Index(fields=["status", "ends_at"], name="challenge_due_end"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="challenge_ends_after_start"
            ),
            models.CheckConstraint(
                condition=Q(goal__isnull=False) | Q(winners_count__gt=0),
                name="challenge_goal_or_ranking",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_editable(self) -> bool:
        return self.status in (ChallengeStatus.DRAFT, ChallengeStatus.SCHEDULED)


class ChallengeResult(models.Model):
    """One participant's (or team's) final standing, written once when the challenge ends;
    later activity never moves it."""

    challenge = models.ForeignKey(Challenge, on_delete=models.CASCADE, related_name="results")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    team = models.ForeignKey(
        Team, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    # Team mode: the members' total divided by the number of members.
    value = models.DecimalField(max_digits=12, decimal_places=2)
    members = models.PositiveIntegerField(default=1)
    rank = models.PositiveIntegerField()
    is_winner = models.BooleanField(default=False)
    goal_reached = models.BooleanField(default=False)
    # Frozen with the result: a person hidden from rankings at the end stays out of the
    # public list even if they change their mind later.
    hidden = models.BooleanField(default=False)
    # Set in the transaction that pays this result's bonus and tells its people.
    paid_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["rank", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["challenge", "user"],
                condition=Q(user__isnull=False),
                name="challenge_result_one_per_user",
            ),
            models.UniqueConstraint(
                fields=["challenge", "team"],
                condition=Q(team__isnull=False),
                name="challenge_result_one_per_team",
            ),
            models.CheckConstraint(
                condition=Q(user__isnull=True, team__isnull=False)
                | Q(user__isnull=False, team__isnull=True),
                name="challenge_result_user_or_team",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.challenge_id} #{self.rank}"
