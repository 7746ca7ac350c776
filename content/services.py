"""Every write to the content library: editing with versions, the review workflow,
compliance rules, suggestions, guidelines and charter acceptance."""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models.signals import post_delete, post_save
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.text import slugify
from django.utils.translation import gettext as _

from content import chains, compliance
from content.announce import content_announce_later
from content.feed_cache import feed_forget
from content.models import (
    ApprovalStep,
    Caption,
    CharterAcceptance,
    ComplianceRule,
    Content,
    ContentKind,
    ContentPolicy,
    ContentStatus,
    ContentVersion,
    Guideline,
    GuidelineKind,
    ImageRendition,
    Network,
    PreviewStatus,
    Review,
    ReviewDecision,
    RuleKind,
    Suggestion,
    SuggestionStatus,
    Topic,
)
from notifications.services import notification_create
from organizations.audit import audit_record
from organizations.dates import date_error
from organizations.errors import ConflictError, DomainError, PermissionDeniedError
from organizations.images import EXTENSIONS, CleanImageFile, image_clean
from organizations.media import media_discard, media_discard_on_commit
from organizations.models import Organization, Role, Team, User

if TYPE_CHECKING:
    from content.linkpreview import AddressPolicy

logger = logging.getLogger(__name__)

# --- Policy and compliance --------------------------------------------------------------


def policy_for(organization: Organization) -> ContentPolicy:
    policy, _created = ContentPolicy.objects.get_or_create(organization=organization)
    return policy


RULES_CACHE_SECONDS = 300


def _rules_cache_key(organization_id: int) -> str:
    return f"content:compliance-rules:{organization_id}"


def compliance_rules_cached(*, organization_id: int) -> compliance.ComplianceRules:
    """The organisation's rules for showing previews (the feed and its API read them on
    every request), from the cache: forgotten after every change to the policy or a rule
    (compliance_rules_forget). Posting and approving check with compliance_rules_for."""
    key = _rules_cache_key(organization_id)
    cached = cache.get(key)
    if cached is not None:
        blocked, allowed, disclosure, max_lengths = cached
        return compliance.ComplianceRules(
            blocked_terms=blocked,
            allowed_domains=allowed,
            disclosure=disclosure,
            max_lengths=max_lengths,
        )
    rules = compliance_rules_for(Organization(pk=organization_id))
    # Plain values: the rules' read-only mapping does not pickle.
    plain = (rules.blocked_terms, rules.allowed_domains, rules.disclosure, dict(rules.max_lengths))
    cache.set(key, plain, RULES_CACHE_SECONDS)
    return rules


def compliance_rules_forget(*, organization_id: int) -> None:
    key = _rules_cache_key(organization_id)
    cache.delete(key)
    # And once more after the commit: a request between the change and its commit may have
    # cached the rules as they were.
    transaction.on_commit(lambda: cache.delete(key))


def _rules_changed(
    sender: type, instance: ContentPolicy | ComplianceRule, created: bool = False, **_: object
) -> None:
    compliance_rules_forget(organization_id=instance.organization_id)
    # The feed shows the captions' previews under the rules. A policy being created is not a
    # change for it: a kept page was shaped with rules, read from a policy that existed (the
    # first read creates it, policy_for).
    if not (created and isinstance(instance, ContentPolicy)):
        feed_forget(organization_id=instance.organization_id)


def compliance_rules_watch() -> None:
    """Connected in ContentConfig.ready(): any save or delete of a rule or the policy, by a
    service, a factory or the admin, forgets the cached rules."""
    for model in (ContentPolicy, ComplianceRule):
        post_save.connect(_rules_changed, sender=model, dispatch_uid=f"rules-{model.__name__}")
        post_delete.connect(_rules_changed, sender=model, dispatch_uid=f"rules-d-{model.__name__}")


def compliance_rules_for(organization: Organization) -> compliance.ComplianceRules:
    policy = policy_for(organization)
    rules = list(
        ComplianceRule.objects.filter(organization=organization).values_list("kind", "value")
    )
    return compliance.ComplianceRules(
        blocked_terms=tuple(v for k, v in rules if k == RuleKind.BLOCKED_TERM),
        allowed_domains=tuple(v for k, v in rules if k == RuleKind.ALLOWED_DOMAIN),
        disclosure=policy.disclosure,
        max_lengths={
            Network.LINKEDIN: policy.linkedin_max_length,
            Network.X: policy.x_max_length,
            Network.FACEBOOK: policy.facebook_max_length,
        },
    )


def caption_violations(
    *, organization: Organization, network: str, text: str, link_url: str = ""
) -> list[compliance.Violation]:
    return compliance.caption_check(
        text=text, network=network, rules=compliance_rules_for(organization), link_url=link_url
    )


def _content_violations(content: Content) -> list[str]:
    rules = compliance_rules_for(content.organization)
    problems: list[str] = []
    for caption in content.captions.all():
        for violation in compliance.caption_check(
            text=caption.text, network=caption.network, rules=rules, link_url=content.link_url
        ):
            problems.append(f"{Network(caption.network).label}: {violation.message}")
    if content.link_url:
        for violation in compliance.caption_check(
            text=content.link_url, network=Network.LINKEDIN, rules=rules
        ):
            if violation.code == "domain_not_allowed":
                problems.append(violation.message)
    return problems


def compliance_rule_add(
    *, actor: User, kind: str, value: str, note: str = "", request: HttpRequest | None = None
) -> ComplianceRule:
    if not actor.is_org_admin:
        raise PermissionDeniedError(_("Only organisation administrators can change the rules."))
    value = value.strip()
    if kind not in RuleKind.values:
        raise DomainError(_("Unknown kind of rule."), field="kind")
    if not value:
        raise DomainError(_("Enter a term or a domain."), field="value")
    if kind == RuleKind.ALLOWED_DOMAIN:
        value = value.lower().removeprefix("https://").removeprefix("http://").strip("/")
        if "/" in value or " " in value or "." not in value:
            raise DomainError(_("Enter a domain such as example.com."), field="value")
    try:
        with transaction.atomic():
            rule = ComplianceRule.objects.create(
                organization=actor.organization, kind=kind, value=value, note=note
            )
            audit_record(
                action="compliance.rule_added",
                organization=actor.organization,
                actor=actor,
                target=rule,
                request=request,
                details={"kind": kind, "value": value},
            )
    except IntegrityError:
        raise ConflictError(_("This rule exists already."), field="value") from None
    return rule


def compliance_rule_remove(
    *, actor: User, rule: ComplianceRule, request: HttpRequest | None = None
) -> None:
    if not actor.is_org_admin or rule.organization_id != actor.organization_id:
        raise PermissionDeniedError(_("Only organisation administrators can change the rules."))
    with transaction.atomic():
        audit_record(
            action="compliance.rule_removed",
            organization=actor.organization,
            actor=actor,
            target=rule,
            request=request,
            details={"kind": rule.kind, "value": rule.value},
        )
        rule.delete()


def policy_update(
    *, actor: User, request: HttpRequest | None = None, **values: Any
) -> ContentPolicy:
    if not actor.is_org_admin:
        raise PermissionDeniedError(_("Only organisation administrators can change the policy."))
    assert actor.organization is not None
    policy = policy_for(actor.organization)
    for name, value in values.items():
        setattr(policy, name, value)
    with transaction.atomic():
        policy.save()
        audit_record(
            action="compliance.policy_updated",
            organization=actor.organization,
            actor=actor,
            target=policy,
            request=request,
            details={k: str(v) for k, v in values.items()},
        )
    return policy


# --- Topics -----------------------------------------------------------------------------


def topic_get_or_create(*, organization: Organization, name: str) -> Topic:
    name = name.strip()
    slug = slugify(name)[:80] or "topic"
    topic, _created = Topic.objects.get_or_create(
        organization=organization, slug=slug, defaults={"name": name[:80]}
    )
    return topic


# --- Content editing --------------------------------------------------------------------


def _require_editor(user: User) -> None:
    if not user.can_edit_content:
        raise PermissionDeniedError(_("Only editors can change the library."))


@dataclass
class ContentInput:
    kind: str
    title: str
    why_it_matters: str = ""
    link_url: str = ""
    hashtags: list[str] = field(default_factory=list)
    topics: list[Topic] = field(default_factory=list)
    language: str = "fr"
    audience_teams: list[Team] = field(default_factory=list)
    publish_at: datetime | None = None
    expires_at: datetime | None = None
    pinned: bool = False
    evergreen: bool = False
    caption_locked: bool = False
    captions: dict[str, list[str]] = field(default_factory=dict)
    image: Any = None  # an uploaded file, or None to keep the current image


def _clean_input(data: ContentInput, organization: Organization) -> None:
    if data.kind not in ContentKind.values:
        raise DomainError(_("Unknown kind of content."), field="kind")
    if not data.title.strip():
        raise DomainError(_("A title is required."), field="title")
    if data.kind == ContentKind.LINK and not data.link_url:
        raise DomainError(_("A link post needs a link."), field="link_url")
    if data.link_url and not data.link_url.lower().startswith(("http://", "https://")):
        raise DomainError(_("The link must start with http:// or https://."), field="link_url")
    for name in ("publish_at", "expires_at"):
        value = getattr(data, name)
        problem = date_error(value) if value is not None else None
        if problem:
            raise DomainError(problem, field=name)
    if data.expires_at and data.expires_at <= (data.publish_at or timezone.now()):
        raise DomainError(_("The expiry must come after the publication."), field="expires_at")
    for network, texts in data.captions.items():
        if network not in Network.values:
            raise DomainError(_("Unknown network “%(n)s”.") % {"n": network}, field="captions")
        if any(not text.strip() for text in texts):
            raise DomainError(_("A caption cannot be empty."), field="captions")
    if any(team.organization_id != organization.pk for team in data.audience_teams):
        raise DomainError(
            _("A chosen team belongs to another organisation."), field="audience_teams"
        )
    if any(topic.organization_id != organization.pk for topic in data.topics):
        raise DomainError(_("A chosen topic belongs to another organisation."), field="topics")
    data.hashtags = [
        tag if tag.startswith("#") else f"#{tag}"
        for tag in (t.strip() for t in data.hashtags)
        if tag.strip("#")
    ]


def _snapshot(content: Content) -> dict[str, Any]:
    captions: dict[str, list[str]] = {}
    for caption in content.captions.all():
        captions.setdefault(caption.network, []).append(caption.text)
    return {
        "kind": content.kind,
        "title": content.title,
        "why_it_matters": content.why_it_matters,
        "link_url": content.link_url,
        "image": content.image.name if content.image else "",
        "hashtags": list(content.hashtags),
        "topics": sorted(t.name for t in content.topics.all()),
        "language": content.language,
        "audience": sorted(t.name for t in content.audience_teams.all()),
        "publish_at": content.publish_at.isoformat() if content.publish_at else "",
        "expires_at": content.expires_at.isoformat() if content.expires_at else "",
        "pinned": content.pinned,
        "evergreen": content.evergreen,
        "caption_locked": content.caption_locked,
        "captions": captions,
    }


def _store_image(content: Content, upload: Any) -> None:
    from content.imaging import image_process

    try:
        processed = image_process(upload)
    except Exception as exc:  # ValidationError from the image checks
        messages = getattr(exc, "messages", None) or [str(exc)]
        raise DomainError(" ".join(messages), field="image") from None
    replaced = [content.image.name, *(r.file.name for r in content.renditions.all())]
    extension = EXTENSIONS[processed.format]
    # Stored under unguessable names (the fields' upload_to), whatever the upload was called.
    content.image.save(
        f"image.{extension}",
        CleanImageFile(processed.original, name=f"image.{extension}"),
        save=False,
    )
    content.renditions.all().delete()
    for name, data in processed.renditions.items():
        rendition = ImageRendition(content=content, name=name, width=0, height=0)
        suffix = "png" if data[:4] == b"\x89PNG" else "jpg"
        rendition.file.save(f"{name}.{suffix}", ContentFile(data), save=False)
        from content.imaging import RENDITIONS

        rendition.width, rendition.height = RENDITIONS[name]
        rendition.save()
    media_discard_on_commit(*replaced)


def _apply(content: Content, data: ContentInput) -> bool:
    """Copy the input onto the content; returns whether the link changed."""
    link_changed = content.link_url != data.link_url
    content.kind = data.kind
    content.title = data.title.strip()
    content.why_it_matters = data.why_it_matters.strip()
    content.link_url = data.link_url
    content.hashtags = data.hashtags
    content.language = data.language
    content.publish_at = data.publish_at or content.publish_at or timezone.now()
    content.expires_at = data.expires_at
    content.pinned = data.pinned
    content.evergreen = data.evergreen
    content.caption_locked = data.caption_locked
    if link_changed:
        content.preview_status = PreviewStatus.PENDING if data.link_url else PreviewStatus.NONE
        content.preview_title = content.preview_description = content.preview_error = ""
        content.preview_image_url = content.preview_site_name = ""
        if content.preview_image:
            # The old link's image goes with it (once the edit is committed).
            media_discard_on_commit(content.preview_image.name)
            content.preview_image = ""
    return link_changed


def _save_relations(content: Content, data: ContentInput) -> None:
    content.topics.set(data.topics)
    content.audience_teams.set(data.audience_teams)
    content.captions.all().delete()
    Caption.objects.bulk_create(
        Caption(content=content, network=network, text=text.strip(), position=index)
        for network, texts in data.captions.items()
        for index, text in enumerate(texts)
    )


def _record_version(content: Content, actor: User) -> None:
    ContentVersion.objects.create(
        content=content, number=content.version, snapshot=_snapshot(content), author=actor
    )


def _enqueue_preview(content: Content) -> None:
    from content.tasks import fetch_link_preview

    fetch_link_preview.delay_on_commit(content.pk)


def content_create(
    *, actor: User, data: ContentInput, request: HttpRequest | None = None
) -> Content:
    _require_editor(actor)
    organization = actor.organization
    assert organization is not None
    _clean_input(data, organization)
    with transaction.atomic():
        content = Content(organization=organization, author=actor)
        link_changed = _apply(content, data)
        content.save()
        _save_relations(content, data)
        if data.image is not None:
            _store_image(content, data.image)
            content.save(update_fields=["image"])
        _record_version(content, actor)
        audit_record(
            action="content.created",
            organization=organization,
            actor=actor,
            target=content,
            request=request,
        )
    if link_changed and content.link_url:
        _enqueue_preview(content)
    return content


def content_update(
    *, actor: User, content: Content, data: ContentInput, request: HttpRequest | None = None
) -> Content:
    """Save an edit as a new version. Editing content that is in review or approved sends
    it (back) to review: earlier approvals were given to other words."""
    _require_editor(actor)
    if content.organization_id != actor.organization_id:
        raise PermissionDeniedError(_("This content belongs to another organisation."))
    if content.status == ContentStatus.WITHDRAWN:
        raise ConflictError(_("Withdrawn content cannot be edited."))
    _clean_input(data, content.organization)
    with transaction.atomic():
        content = Content.objects.select_for_update().get(pk=content.pk)
        previous_status = content.status
        link_changed = _apply(content, data)
        if previous_status in (ContentStatus.APPROVED, ContentStatus.IN_REVIEW):
            content.status = ContentStatus.IN_REVIEW
        content.version += 1
        content.save()
        _save_relations(content, data)
        if data.image is not None:
            _store_image(content, data.image)
            content.save(update_fields=["image"])
        _record_version(content, actor)
        audit_record(
            action="content.updated",
            organization=content.organization,
            actor=actor,
            target=content,
            request=request,
            details={"version": content.version, "from": previous_status, "to": content.status},
        )
        if content.status == ContentStatus.IN_REVIEW:
            # Other words: the chain starts again at step 1 (the rules may now choose
            # another chain), and its reviewers see what changed.
            step = chains.round_start(
                content,
                exclude=_version_authors(content),
                url=reverse("content_version", args=[content.pk, content.version]),
            )
            audit_record(
                action="content.chain_restarted",
                organization=content.organization,
                actor=actor,
                target=content,
                request=request,
                details={"version": content.version, "chain": step.chain.name, "step": step.name},
            )
    if link_changed and content.link_url:
        _enqueue_preview(content)
    return content


def _transition_check(content: Content, allowed_from: tuple[str, ...], message: str) -> None:
    """Refuse a transition from a state that does not allow it; `message` names the
    state with %(state)s."""
    if content.status not in allowed_from:
        raise ConflictError(message % {"state": content.get_lifecycle_display()})


def _notify_author(content: Content, title: str, body: str = "") -> None:
    author = content.author
    if author is None or not author.is_active:
        return
    with translation.override(author.language):
        notification_create(
            recipient=author,
            kind="content.decision",
            title=title,
            body=body,
            url=reverse("content_detail", args=[content.pk]),
        )


def content_submit(*, actor: User, content: Content, request: HttpRequest | None = None) -> Content:
    _require_editor(actor)
    with transaction.atomic():
        content = Content.objects.select_for_update().get(pk=content.pk)
        if content.organization_id != actor.organization_id:
            raise PermissionDeniedError(_("This content belongs to another organisation."))
        _transition_check(
            content,
            (ContentStatus.DRAFT,),
            _("Only a draft can be submitted; this content is “%(state)s”."),
        )
        problems = _content_violations(content)
        if not content.captions.exists():
            problems.insert(0, _("Write at least one caption."))
        if problems:
            raise DomainError(
                _("This content does not meet the rules yet."), field="captions", errors=problems
            )
        if Review.objects.filter(content=content, version=content.version).exists():
            # A new review round: decisions on the earlier round do not carry over.
            content.version += 1
            _record_version(content, actor)
        content.status = ContentStatus.IN_REVIEW
        content.save(update_fields=["status", "version", "updated_at"])
        # The rules choose the chain; the reviewers of its first step are told.
        step = chains.round_start(content, exclude=_version_authors(content) | {actor.pk})
        audit_record(
            action="content.submitted",
            organization=content.organization,
            actor=actor,
            target=content,
            request=request,
            details={"version": content.version, "chain": step.chain.name, "step": step.name},
        )
    return content


def _version_authors(content: Content) -> set[int]:
    ids = set(
        ContentVersion.objects.filter(content=content, number=content.version).values_list(
            "author_id", flat=True
        )
    )
    if content.author_id:
        ids.add(content.author_id)
    return ids


def _lock_for_review(actor: User, content: Content, *, not_in_review: str, own: str) -> Content:
    """Inside a transaction: the content locked, in review, of the reviewer's organisation,
    and not written or edited by the reviewer."""
    content = Content.objects.select_for_update().get(pk=content.pk)
    if content.organization_id != actor.organization_id:
        raise PermissionDeniedError(_("This content belongs to another organisation."))
    _transition_check(content, (ContentStatus.IN_REVIEW,), not_in_review)
    if actor.pk in _version_authors(content):
        raise PermissionDeniedError(own)
    return content


def _review_record(
    actor: User, content: Content, decision: str, comment: str, step: ApprovalStep
) -> None:
    try:
        with transaction.atomic():
            Review.objects.create(
                content=content,
                version=content.version,
                reviewer=actor,
                decision=decision,
                comment=comment,
                step=step,
                step_name=step.name,
            )
    except IntegrityError:
        # One decision per person and round: not at step 1 and again at step 2.
        raise ConflictError(_("You have already reviewed this version.")) from None


def _step_for(actor: User, content: Content) -> ApprovalStep:
    """The step the content is at, if `actor` may act on it."""
    step = chains.current_step(content, exclude=_version_authors(content))
    if not chains.step_allows(step, actor):
        raise PermissionDeniedError(
            _("This content is at the step “%(step)s”, which you do not review.")
            % {"step": step.name}
        )
    return step


def content_approve(
    *, actor: User, content: Content, comment: str = "", request: HttpRequest | None = None
) -> Content:
    if not actor.can_review:
        raise PermissionDeniedError(_("Only reviewers can approve content."))
    with transaction.atomic():
        content = _lock_for_review(
            actor,
            content,
            not_in_review=_("Only content in review can be approved; this content is “%(state)s”."),
            own=_("You cannot approve content you wrote or edited."),
        )
        problems = _content_violations(content)
        if problems:
            raise DomainError(
                _("This content does not meet the rules."), field="captions", errors=problems
            )
        step = _step_for(actor, content)
        _review_record(actor, content, ReviewDecision.APPROVE, comment, step)
        approvals = chains.step_approvals(content, step)
        required = step.required_approvals
        audit_record(
            action="content.approval_given",
            organization=content.organization,
            actor=actor,
            target=content,
            request=request,
            details={
                "version": content.version,
                "approvals": approvals,
                "required": required,
                "step": step.name,
            },
        )
        following = chains.next_step(step) if approvals >= required else None
        if following is not None:
            already = set(
                Review.objects.filter(content=content, version=content.version).values_list(
                    "reviewer_id", flat=True
                )
            )
            chains.step_enter(content, following, exclude=_version_authors(content) | already)
            audit_record(
                action="content.step_passed",
                organization=content.organization,
                actor=actor,
                target=content,
                request=request,
                details={"version": content.version, "step": step.name, "next": following.name},
            )
        elif approvals >= required:
            chains.round_end(content, status=ContentStatus.APPROVED)
            audit_record(
                action="content.approved",
                organization=content.organization,
                actor=actor,
                target=content,
                request=request,
                details={"version": content.version},
            )
            content_announce_later(content_id=content.pk)
            author_lang = content.author.language if content.author else "en"
            with translation.override(author_lang):
                _notify_author(
                    content, _("Approved: %(title)s") % {"title": content.title}, comment
                )
    return content


def content_reject(
    *, actor: User, content: Content, comment: str, request: HttpRequest | None = None
) -> Content:
    if not actor.can_review:
        raise PermissionDeniedError(_("Only reviewers can reject content."))
    if not comment.strip():
        raise DomainError(_("Say what must change."), field="comment")
    with transaction.atomic():
        content = _lock_for_review(
            actor,
            content,
            not_in_review=_("Only content in review can be rejected; this content is “%(state)s”."),
            own=_("You cannot review content you wrote or edited."),
        )
        step = _step_for(actor, content)
        _review_record(actor, content, ReviewDecision.REJECT, comment, step)
        chains.round_end(content, status=ContentStatus.DRAFT)
        audit_record(
            action="content.rejected",
            organization=content.organization,
            actor=actor,
            target=content,
            request=request,
            details={"version": content.version, "comment": comment, "step": step.name},
        )
        author_lang = content.author.language if content.author else "en"
        with translation.override(author_lang):
            _notify_author(
                content, _("Changes requested: %(title)s") % {"title": content.title}, comment
            )
    return content


def content_withdraw(
    *, actor: User, content: Content, reason: str, request: HttpRequest | None = None
) -> Content:
    """Recall approved content (scheduled, published or expired) in a crisis. The sharing
    app cancels waiting shares and deletes published posts on `content_withdrawn`."""
    if actor.role not in (Role.EDITOR, Role.REVIEWER, Role.ORG_ADMIN):
        raise PermissionDeniedError(_("Only the communications team can withdraw content."))
    if not reason.strip():
        raise DomainError(_("Give the reason for withdrawing."), field="reason")
    from content.signals import content_withdrawn

    with transaction.atomic():
        content = Content.objects.select_for_update().get(pk=content.pk)
        if content.organization_id != actor.organization_id:
            raise PermissionDeniedError(_("This content belongs to another organisation."))
        _transition_check(
            content,
            (ContentStatus.APPROVED,),
            _("Only approved content can be withdrawn; this content is “%(state)s”."),
        )
        content.status = ContentStatus.WITHDRAWN
        content.withdrawn_reason = reason.strip()
        content.pinned = False
        content.save(update_fields=["status", "withdrawn_reason", "pinned", "updated_at"])
        audit_record(
            action="content.withdrawn",
            organization=content.organization,
            actor=actor,
            target=content,
            request=request,
            details={"reason": reason.strip()},
        )
        transaction.on_commit(
            lambda: content_withdrawn.send(sender=Content, content=content, actor=actor)
        )
    return content


def link_preview_refresh(*, content_id: int) -> str:
    """Fetch the Open Graph preview of a content's link, and store its image; runs in the
    worker. A ready preview replaces the previous one, image included (the old file is
    deleted); a refused or failed fetch only records why."""
    from content.linkpreview import (
        LinkFetchFailed,
        LinkRefused,
        policy_from_settings,
        preview_fetch,
    )

    content = Content.objects.filter(pk=content_id).first()
    if content is None or not content.link_url:
        return "skipped"
    url = content.link_url
    policy = policy_from_settings()
    values: dict[str, Any]
    try:
        preview = preview_fetch(url, policy=policy)
    except LinkRefused as exc:
        values = {"preview_status": PreviewStatus.REFUSED, "preview_error": str(exc.message)[:300]}
    except LinkFetchFailed as exc:
        values = {"preview_status": PreviewStatus.FAILED, "preview_error": str(exc.message)[:300]}
    else:
        values = {
            "preview_status": PreviewStatus.READY,
            "preview_title": preview.title[:300],
            "preview_description": preview.description,
            "preview_image_url": preview.image_url[:1000],
            "preview_site_name": preview.site_name[:200],
            "preview_error": "",
            "preview_image": _preview_image_store(preview.image_url, policy),
        }
    stored = values.get("preview_image", "")
    with transaction.atomic():
        # Only if the link is still the one fetched: an edit meanwhile queued its own fetch.
        current = (
            Content.objects.select_for_update()
            .filter(pk=content_id, link_url=url)
            .only("pk", "organization_id", "preview_image")
            .first()
        )
        if current is not None:
            replaced = current.preview_image.name or ""
            Content.objects.filter(pk=content_id).update(**values)
            feed_forget(organization_id=current.organization_id)
            if "preview_image" in values and replaced != stored:
                media_discard_on_commit(replaced)
    if current is None:
        media_discard(stored)  # fetched for a link that is no longer the content's
    return str(values["preview_status"])


def _preview_image_store(image_url: str, policy: AddressPolicy) -> str:
    """Download the preview's image (SSRF-checked like the page), put it through the image
    pipeline and store it; its storage name, or "" when there is none or it was refused.
    Never raises for the image's sake: a preview without its image is still a preview."""
    from content.linkpreview import LinkFetchFailed, LinkRefused, image_fetch

    if not image_url:
        return ""
    try:
        fetched = image_fetch(image_url, policy=policy)
        clean = image_clean(io.BytesIO(fetched.data))
    except (LinkRefused, LinkFetchFailed, ValidationError) as exc:
        logger.info("Link preview image not stored (%s): %s", image_url, exc)
        return ""
    except Exception:
        logger.exception("Link preview image not stored (%s)", image_url)
        return ""
    field = Content._meta.get_field("preview_image")
    try:
        return field.storage.save(  # type: ignore[attr-defined]
            field.generate_filename(None, clean.name or "image"),  # type: ignore[attr-defined]
            clean,
            max_length=field.max_length,
        )
    except OSError:
        logger.exception("Link preview image could not be saved")
        return ""


# --- Suggestions ------------------------------------------------------------------------


def suggestion_create(
    *,
    actor: User,
    url: str = "",
    text: str = "",
    comment: str = "",
    request: HttpRequest | None = None,
) -> Suggestion:
    url, text = url.strip(), text.strip()
    if not url and not text:
        raise DomainError(_("Give a link or a text to suggest."), field="url")
    if url and not url.lower().startswith(("http://", "https://")):
        raise DomainError(_("The link must start with http:// or https://."), field="url")
    with transaction.atomic():
        suggestion = Suggestion.objects.create(
            organization=actor.organization, author=actor, url=url, text=text, comment=comment
        )
        audit_record(
            action="suggestion.created",
            organization=actor.organization,
            actor=actor,
            target=suggestion,
            request=request,
        )
    return suggestion


def suggestion_decide(
    *,
    actor: User,
    suggestion: Suggestion,
    accept: bool,
    note: str = "",
    request: HttpRequest | None = None,
) -> Suggestion:
    """Accept (a draft is created, credited to the employee) or decline a suggestion; the
    employee is told either way."""
    _require_editor(actor)
    from content.signals import suggestion_accepted

    with transaction.atomic():
        suggestion = Suggestion.objects.select_for_update().get(pk=suggestion.pk)
        if suggestion.organization_id != actor.organization_id:
            raise PermissionDeniedError(_("This suggestion belongs to another organisation."))
        if suggestion.status != SuggestionStatus.PENDING:
            raise ConflictError(_("This suggestion has already been decided."))
        suggestion.decided_by = actor
        suggestion.decided_at = timezone.now()
        suggestion.decision_note = note.strip()
        if accept:
            suggestion.status = SuggestionStatus.ACCEPTED
            content = content_create(
                actor=actor,
                data=ContentInput(
                    kind=ContentKind.LINK if suggestion.url else ContentKind.TEXT,
                    title=(suggestion.text or suggestion.url)[:120],
                    why_it_matters=suggestion.comment,
                    link_url=suggestion.url,
                    language=suggestion.author.language,
                    captions={Network.LINKEDIN: [suggestion.text]} if suggestion.text else {},
                ),
                request=request,
            )
            content.suggested_by = suggestion.author
            content.save(update_fields=["suggested_by"])
            suggestion.content = content
        else:
            suggestion.status = SuggestionStatus.DECLINED
        suggestion.save()
        audit_record(
            action="suggestion.accepted" if accept else "suggestion.declined",
            organization=actor.organization,
            actor=actor,
            target=suggestion,
            request=request,
        )
        author = suggestion.author
        with translation.override(author.language):
            notification_create(
                recipient=author,
                kind="content.suggestion_decided",
                title=(
                    _("Your suggestion was accepted")
                    if accept
                    else _("Your suggestion was not retained")
                ),
                body=note.strip(),
                url=reverse("suggestions"),
            )
        if accept:
            transaction.on_commit(
                lambda: suggestion_accepted.send(sender=Suggestion, suggestion=suggestion)
            )
    return suggestion


# --- Guidelines and charter -------------------------------------------------------------


def guideline_save(
    *, actor: User, kind: str, title: str, body: str, request: HttpRequest | None = None
) -> Guideline:
    """Create or update a guideline page. A changed charter text is a new version, which
    every employee must accept again before sharing."""
    _require_editor(actor)
    if kind not in GuidelineKind.values:
        raise DomainError(_("Unknown kind of page."), field="kind")
    if not title.strip() or not body.strip():
        raise DomainError(_("A title and a text are required."), field="body")
    with transaction.atomic():
        guideline = (
            Guideline.objects.select_for_update()
            .filter(organization=actor.organization, kind=kind)
            .first()
        )
        if guideline is None:
            guideline = Guideline.objects.create(
                organization=actor.organization,
                kind=kind,
                title=title.strip(),
                body=body,
                updated_by=actor,
            )
        else:
            if guideline.body.strip() != body.strip():
                guideline.version += 1
            guideline.title, guideline.body, guideline.updated_by = title.strip(), body, actor
            guideline.save()
        audit_record(
            action="guideline.saved",
            organization=actor.organization,
            actor=actor,
            target=guideline,
            request=request,
            details={"kind": kind, "version": guideline.version},
        )
    return guideline


def charter_accept(*, user: User, request: HttpRequest | None = None) -> CharterAcceptance:
    from content.signals import charter_accepted

    charter = Guideline.objects.filter(
        organization_id=user.organization_id, kind=GuidelineKind.CHARTER
    ).first()
    if charter is None:
        raise ConflictError(_("Your organisation has not published a charter yet."))
    with transaction.atomic():
        acceptance, created = CharterAcceptance.objects.get_or_create(
            user=user, guideline=charter, version=charter.version
        )
        if created:
            audit_record(
                action="charter.accepted",
                organization=user.organization,
                actor=user,
                target=charter,
                request=request,
                details={"version": charter.version},
            )
            transaction.on_commit(
                lambda: charter_accepted.send(sender=CharterAcceptance, acceptance=acceptance)
            )
    return acceptance


def feed_visit_record(*, user: User) -> datetime | None:
    """Remember this visit; "new since your last visit" compares with the one before.
    Reloads within half an hour count as the same visit. Returns the previous visit as it
    stood before this one (what selectors.feed_previous_visit read), in the same query."""
    from content.models import FeedVisit

    now = timezone.now()
    visit, created = FeedVisit.objects.get_or_create(user=user, defaults={"last_visit_at": now})
    before = None if created else visit.previous_visit_at
    if not created and now - visit.last_visit_at > timedelta(minutes=30):
        visit.previous_visit_at = visit.last_visit_at
        visit.last_visit_at = now
        visit.save(update_fields=["previous_visit_at", "last_visit_at"])
    return before
