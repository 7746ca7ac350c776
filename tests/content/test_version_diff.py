"""The version comparison: field names in words, a word diff with <del>/<ins> and hidden
labels, captions compared one by one, unchanged fields collapsed."""

from __future__ import annotations

import pytest

from content.models import ContentVersion
from content.views import _word_diff
from organizations.models import Role
from tests.conftest import client_for
from tests.content.factories import ContentFactory
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

BEFORE = {
    "kind": "text",
    "title": "Our new site in Lyon",
    "pinned": False,
    "hashtags": ["#lyon"],
    "captions": {"linkedin": ["We are hiring in Lyon today."], "x": ["Hiring!"]},
}
AFTER = {
    **BEFORE,
    "title": "Our new site in Lyon",
    "pinned": True,
    "captions": {"linkedin": ["We are hiring in Lyon and Paris today."], "x": ["Hiring!"]},
}


def test_word_diff_keeps_the_text_and_marks_words():
    pieces = _word_diff("We are hiring in Lyon today.", "We are hiring in Lyon and Paris today.")
    assert "".join(t for tag, t in pieces if tag != "delete") == (
        "We are hiring in Lyon and Paris today."
    )
    assert ("insert", "and Paris ") in pieces or ("insert", " and Paris") in pieces
    assert not [p for p in pieces if p[0] == "delete"]


def test_version_page_shows_a_readable_diff(personas):
    editor = UserFactory(organization=personas.organization, role=Role.EDITOR, language="en")
    content = ContentFactory(organization=personas.organization)
    ContentVersion.objects.create(content=content, number=1, snapshot=BEFORE)
    ContentVersion.objects.create(content=content, number=2, snapshot=AFTER)
    html = client_for(editor).get(f"/content/{content.pk}/versions/2/").content.decode()
    assert "<h2>LinkedIn caption 1</h2>" in html
    assert '<ins><span class="visually-hidden">added: </span>and Paris </ins>' in html
    assert "<h2>Pinned at the top of the feed</h2>" in html
    assert '<del><span class="visually-hidden">removed: </span>No</del>' in html
    # Unchanged fields are collapsed, with their names in words.
    unchanged = html[html.index('class="version-unchanged"') :]
    assert "<dt>Title</dt><dd>Our new site in Lyon</dd>" in unchanged
    assert "<dt>X caption 1</dt>" in unchanged
    main = html[html.index('id="main"') :]
    assert "captions" not in main and '{"' not in main  # no field keys, no JSON
    assert client_for(editor).get(f"/content/{content.pk}/versions/9/").status_code == 404
