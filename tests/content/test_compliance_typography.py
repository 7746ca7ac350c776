"""Blocked terms match their typographic variants: French spaces before punctuation
(often non-breaking), typographic apostrophes and dashes, whatever way the rule or the
caption was typed."""

from __future__ import annotations

import pytest

from content.compliance import ComplianceRules, caption_check


def spans(text: str, *terms: str) -> list[str]:
    rules = ComplianceRules(blocked_terms=terms)
    return [
        text[v.start : v.end]
        for v in caption_check(text=text, network="linkedin", rules=rules)
        if v.code == "blocked_term"
    ]


@pytest.mark.parametrize(
    "text",
    [
        "Un traitement 100% efficace",
        "Un traitement 100 % efficace",
        "Un traitement 100\u00a0% efficace",  # no-break space
        "Un traitement 100\u202f% efficace",  # narrow no-break space, as French typesets it
    ],
)
def test_a_rule_without_the_space_catches_the_spaced_caption(text):
    assert len(spans(text, "100% efficace")) == 1


def test_a_rule_with_the_space_catches_the_unspaced_caption():
    assert spans("Un traitement 100% efficace", "100\u202f% efficace") == ["100% efficace"]


@pytest.mark.parametrize("text", ["C’est « sans risque » !", "C'est «sans risque»!"])
def test_apostrophes_quotes_and_exclamation_vary_freely(text):
    assert spans(text, "c'est « sans risque » !")


def test_numbers_do_not_run_into_the_next_word():
    assert spans("Il reste 1000 % de marge", "100 %") == []


def test_the_violation_names_the_term_as_configured():
    rules = ComplianceRules(blocked_terms=("100% efficace",))
    [violation] = [
        v
        for v in caption_check(text="100\u202f% efficace", network="linkedin", rules=rules)
        if v.code == "blocked_term"
    ]
    assert violation.term == "100% efficace"


def test_the_preview_counts_what_the_verdict_counts():
    """On X the content's link weighs 23 when the caption does not show it: the preview's
    length is the one the "too long" message gives."""
    from content.compliance import caption_preview

    rules = ComplianceRules()
    preview = caption_preview(
        text="a" * 270, network="x", rules=rules, link_url="https://example.org/news"
    )
    assert preview.length == 270 + 23
    [too_long] = [v for v in preview.violations if v.code == "too_long"]
    assert str(preview.length) in str(too_long.message)
