"""The comms desk pages in HTML: the library's filter bar, its table, the review queue and
the content page's grouped actions."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from content.chains import chain_default_for
from content.models import ContentKind, ContentStatus, Review, ReviewDecision
from organizations.models import Role
from tests.conftest import client_for
from tests.content.factories import ContentFactory, TopicFactory
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def editor(personas):
    return UserFactory(organization=personas.organization, role=Role.EDITOR, language="en")


def test_library_filters_by_kind_state_topic_and_language(personas, editor):
    topic = TopicFactory(organization=personas.organization, name="Careers", slug="careers")
    ContentFactory(
        organization=personas.organization,
        title="Image careers",
        kind=ContentKind.IMAGE,
        topics=[topic],
        language="en",
    )
    ContentFactory(organization=personas.organization, title="Text post", kind=ContentKind.TEXT)
    ContentFactory(
        organization=personas.organization, title="Draft post", status=ContentStatus.DRAFT
    )
    client = client_for(editor)
    html = client.get("/library/?kind=image").content.decode()
    assert "Image careers" in html and "Text post" not in html
    html = client.get("/library/?topic=careers&language=en").content.decode()
    assert "Image careers" in html and "Text post" not in html
    html = client.get("/library/?status=draft").content.decode()
    assert "Draft post" in html and "Text post" not in html
    assert '<option value="image" selected>' in client.get("/library/?kind=image").content.decode()


def test_a_bad_filter_value_is_named_and_the_others_still_apply(personas, editor):
    ContentFactory(organization=personas.organization, title="Image post", kind=ContentKind.IMAGE)
    ContentFactory(organization=personas.organization, title="Text post", kind=ContentKind.TEXT)
    response = client_for(editor).get("/library/?status=nonsense&kind=image&author=abc")
    assert response.status_code == 200
    html = response.content.decode()
    assert "could not be read" in html
    assert "Image post" in html and "Text post" not in html


def test_library_rows_show_state_in_words_and_an_empty_state_when_nothing_matches(personas, editor):
    ContentFactory(
        organization=personas.organization, title="Waiting", status=ContentStatus.IN_REVIEW
    )
    client = client_for(editor)
    html = client.get("/library/").content.decode()
    assert 'data-lifecycle="in_review">In review</span>' in html
    empty = client.get("/library/?q=nothing-like-this").content.decode()
    assert "Nothing matches these filters" in empty
    assert 'href="/library/"' in empty  # clear the filters


def test_another_organisations_authors_are_not_offered(personas, editor):
    UserFactory(organization=personas.other_organization, role=Role.EDITOR, first_name="Zorglub")
    html = client_for(editor).get("/library/").content.decode()
    assert "Zorglub" not in html


def test_review_queue_counts_approvals_and_says_what_is_left(personas):
    reviewer = UserFactory(organization=personas.organization, role=Role.REVIEWER, language="en")
    other = UserFactory(organization=personas.organization, role=Role.REVIEWER)
    # In review at the default chain's one step (as submitting or the migration leaves it).
    step = chain_default_for(personas.organization).steps.get()
    waiting = ContentFactory(
        organization=personas.organization,
        title="Needs me",
        status=ContentStatus.IN_REVIEW,
        approval_chain=step.chain,
        approval_step=step,
    )
    Review.objects.create(
        content=waiting,
        version=waiting.version,
        reviewer=other,
        decision=ReviewDecision.APPROVE,
        step=step,
    )
    ContentFactory(
        organization=personas.other_organization, title="Theirs", status=ContentStatus.IN_REVIEW
    )
    html = client_for(reviewer).get("/review/").content.decode()
    assert "Needs me" in html and "Theirs" not in html
    assert "1 of 1" in html
    assert "Waiting for you" in html
    assert f'href="/content/{waiting.pk}/#decision"' in html


def test_review_queue_runs_a_bounded_number_of_queries(personas):
    reviewer = UserFactory(organization=personas.organization, role=Role.REVIEWER)
    client = client_for(reviewer)

    def count() -> int:
        client.get("/review/")
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/review/").status_code == 200
        return len(queries)

    ContentFactory(organization=personas.organization, status=ContentStatus.IN_REVIEW)
    few = count()
    for _ in range(6):
        ContentFactory(organization=personas.organization, status=ContentStatus.IN_REVIEW)
    assert count() == few


def test_content_page_offers_the_next_step_first(personas, editor):
    draft = ContentFactory(
        organization=personas.organization,
        title="My draft",
        status=ContentStatus.DRAFT,
        publish_at=datetime(2030, 5, 6, 23, 30, tzinfo=ZoneInfo("UTC")),  # 7 May in Paris
    )
    html = client_for(editor).get(f"/content/{draft.pk}/").content.decode()
    bar = html.split('<div class="desk-actionbar">', 1)[1].split("</div>", 1)[0]
    assert bar.index("Submit for review") < bar.index("Edit")
    assert "?view=week&amp;date=2030-05-07" in bar
