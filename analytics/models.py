"""Analytics data: metric snapshots polled from the networks, the polling state per share,
the organisation's earned-media rates, the daily rollups every dashboard reads, and the
fill watermark of the rollup job.

Raw events (shares, clicks, snapshots) are append-only; rollups are derived from them and
can always be rebuilt (`manage.py analytics_rollup --rebuild`)."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from advocacy.models import Share
from content.models import Content, Network
from organizations.models import Organization


class MetricSnapshot(models.Model):
    """One poll of one published API share, with names normalised across networks.
    A count is null when the network does not give it (not zero). Cumulative: the
    growth between two snapshots is what a day earned."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    share = models.ForeignKey(Share, on_delete=models.CASCADE, related_name="metric_snapshots")
    network = models.CharField(max_length=10, choices=Network.choices)
    fetched_at = models.DateTimeField()
    impressions = models.PositiveIntegerField(null=True, blank=True)
    reactions = models.PositiveIntegerField(null=True, blank=True)
    comments = models.PositiveIntegerField(null=True, blank=True)
    reshares = models.PositiveIntegerField(null=True, blank=True)
    clicks = models.PositiveIntegerField(null=True, blank=True)
    followers = models.PositiveIntegerField(null=True, blank=True)
    raw = models.JSONField(default=dict, blank=True)
    # When it was written: a snapshot stored after the rollup watermark re-fills its day.
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["share", "fetched_at", "pk"]
        indexes = [
            models.Index(fields=["share", "fetched_at"], name="snapshot_share_time"),
            models.Index(fields=["organization", "recorded_at"], name="snapshot_org_recorded"),
            # The rollups read a period's snapshots by when they were fetched.
            models.Index(fields=["organization", "fetched_at"], name="snapshot_org_fetched"),
        ]

    def __str__(self) -> str:
        return f"{self.share_id} @ {self.fetched_at:%Y-%m-%d %H:%M}"


class PollStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for the first poll")
    OK = "ok", _("Polling")
    UNSUPPORTED = "unsupported", _("This network gives no metrics")
    NO_PERMISSION = "no_permission", _("No permission to read metrics")
    PAUSED = "paused", _("Paused until the account is reconnected")
    ERROR = "error", _("Metrics could not be read")


class MetricPoll(models.Model):
    """Polling state of one published API share. `next_poll_at` null means polling has
    stopped (the post is old enough, or the network gives nothing); `note` says why, in
    words the dashboards show.

    `followers` is the sharer's audience at share time, taken from the first snapshot:
    it is the potential reach of the share. For a share-link share there is no poll and
    no snapshot; the rollups take the followers of the employee's connected account on
    that network (its most recent MetricPoll.followers), else 0."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    share = models.OneToOneField(Share, on_delete=models.CASCADE, related_name="metric_poll")
    next_poll_at = models.DateTimeField(null=True, blank=True)
    last_polled_at = models.DateTimeField(null=True, blank=True)
    poll_count = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=20, choices=PollStatus.choices, default=PollStatus.PENDING)
    note = models.CharField(max_length=300, blank=True)
    followers = models.PositiveIntegerField(null=True, blank=True)
    # Consecutive failures; the wait grows with them and polling stops after a few.
    failure_count = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            models.Index(fields=["next_poll_at"], name="metric_poll_due"),
            # The dashboards' network notes look for the few polls that give no metrics;
            # without it each dashboard read scanned every poll of every organisation.
            models.Index(fields=["organization", "status"], name="metric_poll_org_status"),
        ]

    def __str__(self) -> str:
        return f"{self.share_id}: {self.status}"

    @property
    def note_display(self) -> str:
        """The note in the reader's language (notes are stored in English)."""
        return gettext(self.note) if self.note else ""


class AnalyticsSettings(models.Model):
    """The organisation's rates for earned media value (EMV), in `currency`.

    EMV = CPM × impressions / 1000 + CPC × clicks: what the same visibility would have
    cost as paid media. The defaults are middle-of-the-market figures for paid social in
    Europe, rounded, and meant to be changed by each organisation:

    - CPM LinkedIn 30 €: LinkedIn is the dearest network per thousand impressions
      (sponsored content is usually quoted between 25 and 35 €, B2B audiences).
    - CPM X 6 €: promoted posts on X sit around 5 to 7 € per thousand.
    - CPM Facebook 9 €: Facebook feed ads are commonly quoted at 8 to 10 € per thousand.
    - CPC 1.50 €: a click to the organisation's site bought on social networks typically
      costs 1 to 2 €; a tracked click on an employee's post is valued the same.
    """

    organization = models.OneToOneField(
        Organization, on_delete=models.CASCADE, related_name="analytics_settings"
    )
    currency = models.CharField(_("currency"), max_length=3, default="EUR")
    cpc = models.DecimalField(
        _("cost per click"), max_digits=8, decimal_places=2, default=Decimal("1.50")
    )
    cpm_linkedin = models.DecimalField(
        _("CPM LinkedIn"), max_digits=8, decimal_places=2, default=Decimal("30.00")
    )
    cpm_x = models.DecimalField(_("CPM X"), max_digits=8, decimal_places=2, default=Decimal("6.00"))
    cpm_facebook = models.DecimalField(
        _("CPM Facebook"), max_digits=8, decimal_places=2, default=Decimal("9.00")
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("analytics settings")
        verbose_name_plural = _("analytics settings")
        constraints = [
            models.CheckConstraint(
                condition=Q(cpc__gte=0)
                & Q(cpm_linkedin__gte=0)
                & Q(cpm_x__gte=0)
                & Q(cpm_facebook__gte=0),
                name="analytics_settings_rates_positive",
            )
        ]

    def __str__(self) -> str:
        return f"{self.organization_id}: {self.currency}"

    def cpm_for(self, network: str) -> Decimal:
        return {
            Network.LINKEDIN: self.cpm_linkedin,
            Network.X: self.cpm_x,
            Network.FACEBOOK: self.cpm_facebook,
        }.get(network, Decimal("0"))


class DailyRollup(models.Model):
    """The finest grain the dashboards read: one row per (organisation, day, sharer,
    content, network). `day` is the date in the organisation's time zone. Dashboards only
    ever sum these rows; teams are resolved at read time through the sharer's current
    team memberships (a sharer in two teams counts in both team rows and once in the
    organisation's total; moving someone to another team moves their history with them).

    Clicks are attributed to the day of the click, shares to the day of publication (API)
    or confirmation (share link), metric growth to the day of the snapshot that saw it.
    `potential_reach` is the followers at share time of that day's shares.
    `reach_stands_in` is set when impressions are unknown for some of the row's shares, so
    potential reach was used in the EMV in their place."""

    # No index of its own: the bucket's unique index starts with it (and with the day), so
    # it serves every read by organisation and period; two more indexes cost the rollup
    # rebuild a third of its inserting time.
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    day = models.DateField()
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    content = models.ForeignKey(Content, on_delete=models.CASCADE, related_name="+")
    network = models.CharField(max_length=10, choices=Network.choices)
    shares = models.PositiveIntegerField(default=0)
    link_confirmations = models.PositiveIntegerField(default=0)
    clicks = models.PositiveIntegerField(default=0)
    unique_clicks = models.PositiveIntegerField(default=0)
    reactions = models.PositiveIntegerField(default=0)
    comments = models.PositiveIntegerField(default=0)
    reshares = models.PositiveIntegerField(default=0)
    impressions = models.PositiveIntegerField(default=0)
    potential_reach = models.PositiveIntegerField(default=0)
    reach_stands_in = models.BooleanField(default=False)
    emv = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "day", "user", "content", "network"],
                name="daily_rollup_bucket",
            )
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.user_id} {self.content_id} {self.network}"


class FillState(models.Model):
    """The rollup job's watermark: every event recorded before it is in the rollups."""

    name = models.CharField(max_length=100, unique=True)
    watermark = models.DateTimeField()
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.name}: {self.watermark:%Y-%m-%d %H:%M}"
