"""`seed_demo` fills the library: every state of a post's life, both languages, the three
kinds with images and ready previews, a charter, suggestions; and a second run changes
nothing."""

from __future__ import annotations

import io
from collections import Counter
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from content import selectors
from content.chains import chain_default_for
from content.demo import MEDICAL_LEGAL, seed_demo_content
from content.models import (
    ApprovalChain,
    Caption,
    CharterAcceptance,
    ComplianceRule,
    Content,
    ContentKind,
    ContentVersion,
    Guideline,
    GuidelineKind,
    ImageRendition,
    PreviewStatus,
    Review,
    Suggestion,
    SuggestionStatus,
    Topic,
)
from content.services import policy_for
from notifications.models import Notification
from organizations.models import AuditLogEntry, Organization, User
from tests.factories import OrganizationFactory

pytestmark = pytest.mark.django_db

COUNTED = [
    Content,
    Caption,
    ContentVersion,
    Review,
    ImageRendition,
    Topic,
    ComplianceRule,
    Guideline,
    CharterAcceptance,
    Suggestion,
    Notification,
    AuditLogEntry,
]


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in COUNTED}


def queued_tasks(callbacks) -> list[str]:
    """The Celery tasks that the captured on-commit callbacks would enqueue."""
    names = []
    for callback in callbacks:
        task = getattr(getattr(callback, "func", None), "__self__", None)
        if task is not None and hasattr(task, "name"):
            names.append(task.name)
    return names


def test_seed_demo_fills_the_library_once(
    settings, tmp_path, demo_clock, django_capture_on_commit_callbacks
):
    settings.MEDIA_ROOT = tmp_path
    with django_capture_on_commit_callbacks() as callbacks:
        call_command("seed_demo", stdout=io.StringIO())
    # No link preview is fetched for the demo's fictitious site, and the history the demo
    # writes emails nobody: its notifications are in the app, the worker's queue stays free
    # for what a newcomer does first (an invitation waited behind 169 demo emails).
    assert "notifications.tasks.send_notification_email" not in queued_tasks(callbacks)
    assert "content.tasks.fetch_link_preview" not in queued_tasks(callbacks)
    assert Notification.objects.filter(organization__slug="demo").exists()

    organization = Organization.objects.get(slug="demo")
    contents = list(Content.objects.filter(organization=organization))
    assert len(contents) >= 50

    lifecycles = Counter(content.lifecycle for content in contents)
    for lifecycle in ("draft", "in_review", "scheduled", "published", "expired", "withdrawn"):
        assert lifecycles[lifecycle] >= 1, lifecycle
    assert lifecycles["published"] >= 30
    assert {content.language for content in contents} == {"fr", "en"}
    kinds = Counter(content.kind for content in contents)
    assert set(kinds) == {ContentKind.LINK, ContentKind.IMAGE, ContentKind.TEXT}

    # Images have their file and every rendition, on disk.
    for content in contents:
        if content.kind != ContentKind.IMAGE:
            continue
        assert content.image and (tmp_path / content.image.name).is_file()
        renditions = {r.name: r for r in content.renditions.all()}
        assert set(renditions) == {"linkedin", "x", "facebook", "thumb"}
        assert all((tmp_path / r.file.name).is_file() for r in renditions.values())

    # Link previews are ready, never pending.
    links = [content for content in contents if content.kind == ContentKind.LINK]
    assert links
    assert {content.preview_status for content in links} == {PreviewStatus.READY}
    assert all(
        content.preview_title and content.link_url.startswith("https://") for content in links
    )
    assert not Content.objects.filter(preview_status=PreviewStatus.PENDING).exists()

    # Published posts have captions, some several on LinkedIn for the rotation.
    published = [content for content in contents if content.lifecycle == "published"]
    assert all(content.captions.filter(network="linkedin").exists() for content in published)
    assert any(content.captions.filter(network="linkedin").count() >= 3 for content in published)
    assert sum(content.pinned for content in published) in (1, 2)
    assert any(content.evergreen for content in published)
    assert any(content.caption_locked for content in contents)
    assert any(content.audience_teams.exists() for content in published)
    assert any(content.topics.exists() for content in published)
    # The feed looks alive: publications spread over the past three months.
    days = {content.publish_at.date() for content in published}
    assert len(days) >= 25
    oldest = min(content.publish_at for content in published)
    assert timezone.now() - oldest >= timedelta(days=85)

    # The workflow really ran: versions, reviews, audit entries, a withdrawal reason.
    assert all(content.versions.exists() for content in contents)
    approved = [c for c in contents if c.lifecycle in ("published", "scheduled", "expired")]
    assert all(
        content.reviews.filter(decision="approve", version=content.version).exists()
        for content in approved
    )
    assert all(c.withdrawn_reason for c in contents if c.lifecycle == "withdrawn")
    assert Review.objects.filter(content__organization=organization, decision="reject").exists()
    assert any(content.version > 1 for content in contents)
    assert AuditLogEntry.objects.filter(
        organization=organization, action="content.approved"
    ).count() == len([c for c in contents if c.reviews.filter(decision="approve").exists()])

    # Policy, rules, topics, guidelines.
    policy = policy_for(organization)
    assert policy.disclosure == "#employee"
    default = chain_default_for(organization)
    assert [s.required_approvals for s in default.steps.all()] == [1]  # one step, as before
    medical_legal = ApprovalChain.objects.get(organization=organization, name=MEDICAL_LEGAL)
    assert [s.name for s in medical_legal.steps.order_by("position")] == ["Médical", "Juridique"]
    assert medical_legal.rules.get().topic.name == "Produits"
    assert ComplianceRule.objects.filter(organization=organization, value="guérison").exists()
    assert Topic.objects.filter(organization=organization).count() >= 6
    charter = Guideline.objects.get(organization=organization, kind=GuidelineKind.CHARTER)
    assert charter.body.startswith("#") and "\n- " in charter.body
    assert Guideline.objects.filter(organization=organization).count() == 4

    # Suggestions, one from the demo employee; an accepted one credited its author.
    employee = User.objects.get(email="employee@demo.portevoix.test")
    pending = Suggestion.objects.filter(organization=organization, status=SuggestionStatus.PENDING)
    assert pending.count() >= 3
    assert pending.filter(author=employee).exists()
    accepted = Suggestion.objects.get(organization=organization, status=SuggestionStatus.ACCEPTED)
    assert accepted.content.suggested_by == accepted.author

    # What the demo employee (Sales, reads English) sees.
    feed = list(selectors.feed_list(employee))
    assert feed and feed[0].pinned
    assert {content.lifecycle for content in feed} == {"published"}
    audiences = {team.name for content in feed for team in content.audience_teams.all()}
    assert "Sales" in audiences and "Medical Affairs" not in audiences
    unpinned = [content for content in feed if not content.pinned]
    languages = [content.language for content in unpinned]
    assert languages == sorted(languages, key=lambda language: language != "en")
    assert selectors.charter_pending(employee) == charter
    assert CharterAcceptance.objects.filter(guideline=charter).count() >= 20

    # Reviewers are told only about what still waits for them.
    reviewer = User.objects.get(email="reviewer@demo.portevoix.test")
    asked = Notification.objects.filter(recipient=reviewer, kind="content.review_requested")
    waiting = Content.objects.filter(organization=organization, status="in_review").count()
    assert asked.count() == waiting

    before = counts()
    with django_capture_on_commit_callbacks() as callbacks:
        call_command("seed_demo", stdout=io.StringIO())
    assert counts() == before
    assert callbacks == []


def test_demo_content_needs_the_demo_people(db):
    organization = OrganizationFactory(slug="demo")
    seed_demo_content(sender=None, organization=organization)
    assert not Content.objects.exists()
    assert not Guideline.objects.exists()
