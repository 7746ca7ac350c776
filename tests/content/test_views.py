"""The content pages in HTML: scoping, the link-preview card, the caption preview, and
bounded queries on the feed and library pages."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from content.models import ContentStatus, Network, PreviewStatus
from content.services import link_preview_refresh
from organizations.models import Role
from tests.conftest import client_for
from tests.content.factories import CaptionFactory, ContentFactory
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_another_organisations_content_is_404_and_absent(personas):
    mine = ContentFactory(organization=personas.organization, title="Ours")
    theirs = ContentFactory(organization=personas.other_organization, title="Theirs")
    owner = client_for(personas.owner)
    assert owner.get(f"/content/{theirs.pk}/").status_code == 404
    assert owner.get(f"/content/{theirs.pk}/edit/").status_code == 404
    assert owner.post(f"/content/{theirs.pk}/withdraw/", {"reason": "x"}).status_code == 404
    for page in ("/feed/", "/library/"):
        html = owner.get(page).content.decode()
        assert "Ours" in html and "Theirs" not in html
    assert mine.status == ContentStatus.APPROVED


def test_employee_cannot_open_a_draft(personas):
    draft = ContentFactory(organization=personas.organization, status=ContentStatus.DRAFT)
    assert client_for(personas.teammate).get(f"/content/{draft.pk}/").status_code == 404


def test_pending_link_preview_polls_then_shows_the_refusal(personas):
    content = ContentFactory(
        organization=personas.organization,
        link_url="http://127.0.0.1/admin",
        preview_status=PreviewStatus.PENDING,
    )
    owner = client_for(personas.owner)
    html = owner.get(f"/content/{content.pk}/").content.decode()
    assert f'hx-get="/content/{content.pk}/link-preview/"' in html
    assert link_preview_refresh(content_id=content.pk) == PreviewStatus.REFUSED
    partial = owner.get(f"/content/{content.pk}/link-preview/").content.decode()
    assert "hx-get" not in partial  # polling stops
    content.refresh_from_db()
    assert content.preview_error and content.preview_error in partial


def test_caption_preview_names_violations(personas):
    from content.models import ComplianceRule, RuleKind

    ComplianceRule.objects.create(
        organization=personas.organization, kind=RuleKind.BLOCKED_TERM, value="guérison"
    )
    response = client_for(personas.owner).post(
        "/library/preview/", {"linkedin_captions": "Une GUERISON rapide", "x_captions": ""}
    )
    assert response.status_code == 200
    assert "guérison" in response.content.decode()


@pytest.mark.parametrize("page", ["/feed/", "/library/"])
def test_list_pages_run_a_bounded_number_of_queries(personas, page):
    editor = UserFactory(organization=personas.organization, role=Role.EDITOR)
    client = client_for(editor)

    def count() -> int:
        client.get(page)  # warm caches (session, policy row)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(page).status_code == 200
        return len(queries)

    for _ in range(3):
        content = ContentFactory(organization=personas.organization)
        CaptionFactory(content=content, network=Network.LINKEDIN)
    few = count()
    for _ in range(9):
        content = ContentFactory(organization=personas.organization)
        CaptionFactory(content=content, network=Network.LINKEDIN)
    assert count() == few
