"""The curated library: Content with its per-network captions, topics, versions and reviews;
the organisation's content policy and compliance rules; employee suggestions; guideline
pages and charter acceptances."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from organizations.images import CleanImageField, UnguessableName, validate_image
from organizations.models import Language, Organization, Team


class Network(models.TextChoices):
    LINKEDIN = "linkedin", "LinkedIn"
    X = "x", "X"
    FACEBOOK = "facebook", "Facebook"


class Topic(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="topics")
    name = models.CharField(_("name"), max_length=80)
    slug = models.SlugField(_("slug"), max_length=80)

    class Meta:
        verbose_name = _("topic")
        verbose_name_plural = _("topics")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "slug"], name="topic_unique_slug")
        ]

    def __str__(self) -> str:
        return self.name


class ContentKind(models.TextChoices):
    LINK = "link", _("Link")
    IMAGE = "image", _("Image post")
    TEXT = "text", _("Text")


class ContentStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    IN_REVIEW = "in_review", _("In review")
    APPROVED = "approved", _("Approved")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class Lifecycle(models.TextChoices):
    """What people see: an approved item is scheduled, published or expired by its dates."""

    DRAFT = "draft", _("Draft")
    IN_REVIEW = "in_review", _("In review")
    SCHEDULED = "scheduled", _("Approved, scheduled")
    PUBLISHED = "published", _("Published")
    EXPIRED = "expired", _("Expired")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class PreviewStatus(models.TextChoices):
    NONE = "", _("No link")
    PENDING = "pending", _("Fetching the preview…")
    READY = "ready", _("Preview ready")
    REFUSED = "refused", _("Address refused")
    FAILED = "failed", _("Preview unavailable")


class Content(models.Model):
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="contents"
    )
    kind = models.CharField(_("kind"), max_length=10, choices=ContentKind.choices)
    title = models.CharField(_("title"), max_length=200)
    why_it_matters = models.TextField(
        _("why it matters"), blank=True, help_text=_("Tell employees why this post matters.")
    )
    link_url = models.URLField(_("link"), max_length=1000, blank=True)
    preview_status = models.CharField(
        max_length=10, choices=PreviewStatus.choices, default=PreviewStatus.NONE, blank=True
    )
    preview_title = models.CharField(max_length=300, blank=True)
    preview_description = models.TextField(blank=True)
    preview_image_url = models.URLField(max_length=1000, blank=True)
    preview_site_name = models.CharField(max_length=200, blank=True)
    preview_error = models.CharField(max_length=300, blank=True)
    # The preview's image, downloaded by the preview task (SSRF-checked, re-encoded): the
    # thumbnail uploaded with article posts. Empty when the page has none or it was refused.
    preview_image = CleanImageField(
        _("preview image"),
        upload_to=UnguessableName("content/previews"),
        blank=True,
        editable=False,
    )
    image = CleanImageField(
        _("image"), upload_to=UnguessableName("content"), blank=True, validators=[validate_image]
    )
    hashtags = models.JSONField(_("hashtags"), default=list, blank=True)
    topics = models.ManyToManyField(Topic, verbose_name=_("topics"), blank=True)
    language = models.CharField(
        _("language"), max_length=5, choices=Language.choices, default=Language.FRENCH
    )
    audience_teams = models.ManyToManyField(
        Team,
        verbose_name=_("audience"),
        blank=True,
        help_text=_("Empty means the whole organisation; a team includes its sub-teams."),
    )
    publish_at = models.DateTimeField(_("publish at"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    pinned = models.BooleanField(_("pinned"), default=False)
    evergreen = models.BooleanField(
        _("evergreen"), default=False, help_text=_("Our positions: kept available over time.")
    )
    caption_locked = models.BooleanField(
        _("caption locked"), default=False, help_text=_("Employees cannot edit the caption.")
    )
    status = models.CharField(
        _("status"), max_length=12, choices=ContentStatus.choices, default=ContentStatus.DRAFT
    )
    version = models.PositiveIntegerField(default=1)
    withdrawn_reason = models.TextField(blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    suggested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    # The review round under way: the chain chosen at submission (or at the restart after
    # an edit), the step it is at, when that step was entered, when it is due, and when
    # its overdue reminder went out (once per step entry).
    approval_chain = models.ForeignKey(
        "ApprovalChain", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    approval_step = models.ForeignKey(
        "ApprovalStep", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    step_entered_at = models.DateTimeField(null=True, blank=True)
    step_due_at = models.DateTimeField(null=True, blank=True)
    step_reminded_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("content")
        verbose_name_plural = _("contents")
        ordering = ["-pinned", "-publish_at", "-id"]
        indexes = [
            models.Index(fields=["organization", "status", "publish_at"]),
            models.Index(fields=["status", "step_due_at"], name="content_step_due"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(expires_at__isnull=True) | Q(expires_at__gt=models.F("publish_at")),
                name="content_expires_after_publish",
            )
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def lifecycle(self) -> str:
        if self.status != ContentStatus.APPROVED:
            return self.status
        now = timezone.now()
        if self.expires_at is not None and self.expires_at <= now:
            return Lifecycle.EXPIRED
        if self.publish_at > now:
            return Lifecycle.SCHEDULED
        return Lifecycle.PUBLISHED

    def get_lifecycle_display(self) -> str:
        return str(Lifecycle(self.lifecycle).label)


class Caption(models.Model):
    """A suggested caption for one network. Several per network are offered in rotation so
    that colleagues do not all post the same words."""

    content = models.ForeignKey(Content, on_delete=models.CASCADE, related_name="captions")
    network = models.CharField(_("network"), max_length=10, choices=Network.choices)
    text = models.TextField(_("caption"))
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["network", "position", "id"]

    def __str__(self) -> str:
        return f"{self.network}: {self.text[:40]}"


class ImageRendition(models.Model):
    content = models.ForeignKey(Content, on_delete=models.CASCADE, related_name="renditions")
    name = models.CharField(max_length=20)
    file = models.ImageField(upload_to=UnguessableName("content/renditions"))
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["content", "name"], name="rendition_unique_name")
        ]

    def __str__(self) -> str:
        return f"{self.content_id}:{self.name}"


class ContentVersion(models.Model):
    """A snapshot of the editable fields at each save, so that every change can be diffed."""

    content = models.ForeignKey(Content, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    snapshot = models.JSONField()
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(fields=["content", "number"], name="content_version_unique")
        ]

    def __str__(self) -> str:
        return f"{self.content_id} v{self.number}"


class ReviewerGroup(models.Model):
    """People who review together (for example the medical team), named once and used by
    the steps of several approval chains."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="reviewer_groups"
    )
    name = models.CharField(_("name"), max_length=80)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("members"), blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("reviewer group")
        verbose_name_plural = _("reviewer groups")
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "name"], name="reviewer_group_unique_name"
            )
        ]

    def __str__(self) -> str:
        return self.name


class ApprovalChain(models.Model):
    """Named review steps in order (for example Medical, then Legal). Each organisation has
    exactly one default chain, used when no rule chooses another."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="approval_chains"
    )
    name = models.CharField(_("name"), max_length=80)
    is_default = models.BooleanField(_("default chain"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("approval chain")
        verbose_name_plural = _("approval chains")
        ordering = ["-is_default", "name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "name"], name="approval_chain_unique_name"
            ),
            models.UniqueConstraint(
                fields=["organization"],
                condition=Q(is_default=True),
                name="approval_chain_one_default",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class ApprovalStep(models.Model):
    """One step of a chain. With neither named reviewers nor a group, every reviewer and
    organisation admin may act on it; otherwise only the people named or in the group."""

    chain = models.ForeignKey(ApprovalChain, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveSmallIntegerField()
    name = models.CharField(_("name"), max_length=80)
    required_approvals = models.PositiveSmallIntegerField(_("approvals required"), default=1)
    deadline_hours = models.PositiveIntegerField(
        _("deadline (hours)"),
        null=True,
        blank=True,
        help_text=_("Empty: no deadline. When it passes, reviewers and the author are reminded."),
    )
    reviewers = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("reviewers"), blank=True, related_name="+"
    )
    reviewer_group = models.ForeignKey(
        ReviewerGroup,
        verbose_name=_("reviewer group"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="steps",
    )

    class Meta:
        verbose_name = _("approval step")
        verbose_name_plural = _("approval steps")
        ordering = ["chain", "position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["chain", "position"], name="approval_step_unique_position"
            ),
            models.CheckConstraint(
                condition=Q(required_approvals__gte=1), name="approval_step_needs_an_approval"
            ),
            models.CheckConstraint(
                condition=Q(deadline_hours__isnull=True) | Q(deadline_hours__gte=1),
                name="approval_step_deadline_positive",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.chain_id}.{self.position} {self.name}"


class ChainRule(models.Model):
    """Chooses a chain for content that matches every condition it sets (an empty
    condition matches anything). Rules are tried by priority, lowest first; the first
    that matches wins, else the default chain."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="chain_rules"
    )
    chain = models.ForeignKey(
        ApprovalChain, verbose_name=_("chain"), on_delete=models.CASCADE, related_name="rules"
    )
    priority = models.PositiveSmallIntegerField(_("priority"), default=10)
    topic = models.ForeignKey(
        Topic,
        verbose_name=_("topic"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
    )
    kind = models.CharField(_("kind"), max_length=10, choices=ContentKind.choices, blank=True)
    language = models.CharField(_("language"), max_length=5, choices=Language.choices, blank=True)
    network = models.CharField(_("network"), max_length=10, choices=Network.choices, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("chain rule")
        verbose_name_plural = _("chain rules")
        ordering = ["priority", "id"]

    def __str__(self) -> str:
        return f"{self.priority}: {self.chain_id}"


class ReviewDecision(models.TextChoices):
    APPROVE = "approve", _("Approved")
    REJECT = "reject", _("Rejected")


class Review(models.Model):
    content = models.ForeignKey(Content, on_delete=models.CASCADE, related_name="reviews")
    version = models.PositiveIntegerField()
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    decision = models.CharField(max_length=10, choices=ReviewDecision.choices)
    comment = models.TextField(blank=True)
    # The chain step the decision was given for; its name is kept for the record should
    # the step be deleted later.
    step = models.ForeignKey(
        ApprovalStep, on_delete=models.SET_NULL, null=True, blank=True, related_name="reviews"
    )
    step_name = models.CharField(max_length=80, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # One decision per reviewer and version: approving twice never counts twice.
            models.UniqueConstraint(
                fields=["content", "version", "reviewer"], name="review_once_per_version"
            )
        ]

    def __str__(self) -> str:
        return f"{self.content_id} v{self.version} {self.decision}"


class ContentPolicy(models.Model):
    """An organisation's governance settings for content and shares. (How many approvals
    content needs is its approval chains' business: ApprovalChain.)"""

    organization = models.OneToOneField(
        Organization, on_delete=models.CASCADE, related_name="content_policy"
    )
    disclosure = models.CharField(
        _("mandatory disclosure"),
        max_length=100,
        blank=True,
        help_text=_("Appended to every share, for example #employee."),
    )
    linkedin_max_length = models.PositiveIntegerField(_("LinkedIn length limit"), default=3000)
    x_max_length = models.PositiveIntegerField(_("X length limit"), default=280)
    facebook_max_length = models.PositiveIntegerField(_("Facebook length limit"), default=63206)

    def __str__(self) -> str:
        return f"policy of {self.organization_id}"


class RuleKind(models.TextChoices):
    BLOCKED_TERM = "blocked_term", _("Blocked term")
    ALLOWED_DOMAIN = "allowed_domain", _("Allowed link domain")


class ComplianceRule(models.Model):
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="compliance_rules"
    )
    kind = models.CharField(max_length=20, choices=RuleKind.choices)
    value = models.CharField(_("value"), max_length=200)
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["kind", "value"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "kind", "value"], name="compliance_rule_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind}: {self.value}"


class SuggestionStatus(models.TextChoices):
    PENDING = "pending", _("Waiting")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")


class Suggestion(models.Model):
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="suggestions"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="suggestions"
    )
    url = models.URLField(_("link"), max_length=1000, blank=True)
    text = models.TextField(_("text"), blank=True)
    comment = models.TextField(_("why should colleagues share it?"), blank=True)
    status = models.CharField(
        max_length=10, choices=SuggestionStatus.choices, default=SuggestionStatus.PENDING
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True)
    content = models.ForeignKey(
        Content, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(url="") | ~Q(text=""), name="suggestion_has_url_or_text"
            )
        ]

    def __str__(self) -> str:
        return self.url or self.text[:60]


class GuidelineKind(models.TextChoices):
    CHARTER = "charter", _("Social media charter")
    TONE = "tone", _("Tone of voice")
    BRAND = "brand", _("Brand identity")
    POSITIONS = "positions", _("Our positions")


class Guideline(models.Model):
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="guidelines"
    )
    kind = models.CharField(_("kind"), max_length=20, choices=GuidelineKind.choices)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("text (Markdown)"))
    version = models.PositiveIntegerField(default=1)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["kind"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "kind"], name="guideline_one_per_kind")
        ]

    def __str__(self) -> str:
        return self.title


class CharterAcceptance(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="charter_acceptances"
    )
    guideline = models.ForeignKey(Guideline, on_delete=models.CASCADE, related_name="acceptances")
    version = models.PositiveIntegerField()
    accepted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "guideline", "version"], name="charter_accepted_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user_id} v{self.version}"


class FeedVisit(models.Model):
    """When the user last opened the feed, for "new since your last visit"."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="feed_visit"
    )
    previous_visit_at = models.DateTimeField(null=True, blank=True)
    last_visit_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.user_id} {self.last_visit_at:%Y-%m-%d}"


class FeedMode(models.TextChoices):
    DRAFT = "draft", _("Create drafts")
    REVIEW = "review", _("Submit for review")


class FeedSubscription(models.Model):
    """An RSS or Atom feed whose new items become library content (drafts, or submitted
    for review; never published without approval). Fetched on a schedule held here
    (``next_fetch_at``); a feed that keeps failing is paused with its reason in words."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="feed_subscriptions"
    )
    url = models.URLField(_("feed address"), max_length=1000)
    title = models.CharField(
        _("name"), max_length=200, blank=True, help_text=_("Empty: the feed's own title.")
    )
    mode = models.CharField(
        _("new items"), max_length=10, choices=FeedMode.choices, default=FeedMode.DRAFT
    )
    topics = models.ManyToManyField(Topic, verbose_name=_("topics"), blank=True, related_name="+")
    language = models.CharField(
        _("language"),
        max_length=5,
        choices=Language.choices,
        blank=True,
        help_text=_("Empty: guessed from each item, else the organisation's language."),
    )
    etag = models.CharField(max_length=300, blank=True)
    last_modified = models.CharField(max_length=100, blank=True)
    last_fetched_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    next_fetch_at = models.DateTimeField(default=timezone.now)
    consecutive_failures = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=300, blank=True)
    active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("feed")
        verbose_name_plural = _("feeds")
        ordering = ["title", "url", "id"]
        indexes = [models.Index(fields=["active", "next_fetch_at"])]
        constraints = [
            models.UniqueConstraint(fields=["organization", "url"], name="feed_unique_url")
        ]

    def __str__(self) -> str:
        return self.title or self.url


class FeedItem(models.Model):
    """An item seen in a feed. Its canonical URL is unique per organisation, so the same
    article in two feeds, or seen again, never makes a second draft. Kept when its feed is
    deleted, so that subscribing again does not import everything twice."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    subscription = models.ForeignKey(
        FeedSubscription, on_delete=models.SET_NULL, null=True, related_name="items"
    )
    guid = models.CharField(max_length=500, blank=True)
    canonical_url = models.CharField(max_length=1000)
    content = models.ForeignKey(
        Content, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    seen_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "canonical_url"], name="feed_item_unique_url"
            )
        ]
        indexes = [models.Index(fields=["subscription", "guid"])]

    def __str__(self) -> str:
        return self.canonical_url
