"""Forms that help: an error summary at the top linking to each field, errors next to
their field (aria-invalid, aria-describedby), values kept, and a refused caption shown
with its offending words marked."""

from __future__ import annotations

import re

import pytest

from content.compliance import Violation
from content.forms import Segment, highlight_segments
from content.models import ComplianceRule, Content, RuleKind
from organizations.models import Role
from tests.conftest import client_for
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _post(client, **overrides):
    data = {
        "kind": "text",
        "title": "Our Lyon site",
        "language": "en",
        "publish_at": "2026-12-05T10:00",
        "linkedin_captions": "A quick cure for everyone.\n---\nWe are hiring in Lyon.",
    }
    data.update(overrides)
    return client.post("/library/new/", data)


@pytest.fixture
def editor(personas):
    ComplianceRule.objects.create(
        organization=personas.organization, kind=RuleKind.BLOCKED_TERM, value="cure"
    )
    return UserFactory(organization=personas.organization, role=Role.EDITOR, language="en")


def test_a_blocked_term_is_refused_with_summary_inline_error_and_marks(editor):
    response = _post(client_for(editor))
    assert response.status_code == 200
    assert not Content.objects.exists()
    html = response.content.decode()
    # The summary, at the top of the form, links to the field.
    summary = html[html.index("data-error-summary") :]
    assert (
        'role="alert"' in html[html.index("error-summary") - 200 : html.index("data-error-summary")]
    )
    assert 'href="#id_linkedin_captions"' in summary
    assert "LinkedIn captions: Blocked term “cure”" in summary
    # The field says it is invalid and points at its message.
    textarea = re.search(r"<textarea[^>]*id=\"id_linkedin_captions\"[^>]*>", html).group(0)
    assert 'aria-invalid="true"' in textarea
    assert "id_linkedin_captions_error" in textarea
    assert 'id="id_linkedin_captions_error"' in html
    # Values kept, and the refused caption shown with the word marked.
    assert "A quick cure for everyone." in html and "We are hiring in Lyon." in html
    assert "<mark>cure</mark>" in html
    assert 'data-fix-field="id_linkedin_captions" data-fix-text="cure"' in html
    # Only the offending caption is marked.
    assert html.count("<mark>") == 1


def test_the_fixed_caption_saves(editor):
    response = _post(client_for(editor), linkedin_captions="A quick answer for everyone.")
    assert response.status_code == 302
    assert Content.objects.get().captions.get().text == "A quick answer for everyone."


def test_short_forms_get_the_summary_too(personas):
    owner = client_for(personas.owner)
    response = owner.post("/admin/teams/", {"name": "", "kind": "team"})
    html = response.content.decode()
    assert "data-error-summary" in html and 'href="#id_name"' in html


def test_highlight_segments_merge_overlaps_and_keep_the_text():
    text = "cure now and cure later"
    violations = [
        Violation(code="blocked_term", message="Blocked term “cure”", start=0, end=4),
        Violation(code="too_long", message="Too long", start=2, end=8),
        Violation(code="blocked_term", message="Blocked term “cure”", start=13, end=17),
        Violation(code="domain_not_allowed", message="link", start=0, end=0),
    ]
    segments = highlight_segments(text, violations)
    assert "".join(s.text for s in segments) == text
    assert segments[0] == Segment("cure now", "Blocked term “cure”; Too long")
    assert segments[2] == Segment("cure", "Blocked term “cure”")
    assert [s.problem for s in segments].count("") == 2
