"""The compliance service: blocked terms, link domains, per-network length, disclosure.
Pure functions: no database."""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from content.compliance import (
    NETWORK_LIMITS,
    NETWORKS,
    X_URL_WEIGHT,
    ComplianceRules,
    Violation,
    _term_matcher,
    caption_check,
    caption_with_disclosure,
    find_urls,
    normalise,
    weighted_length,
)


def blocked(text: str, *terms: str, network: str = "linkedin") -> list[Violation]:
    rules = ComplianceRules(blocked_terms=terms)
    violations = caption_check(text=text, network=network, rules=rules)
    return [v for v in violations if v.code == "blocked_term"]


def spans(text: str, *terms: str) -> list[str]:
    return [text[v.start : v.end] for v in blocked(text, *terms)]


def codes(violations: list[Violation]) -> list[str]:
    return [v.code for v in violations]


# --- Blocked terms ------------------------------------------------------------------------


def test_accents_are_ignored_both_ways():
    assert spans("Une guérison rapide", "Guerison") == ["guérison"]
    assert spans("Une Guerison rapide", "guérison") == ["Guerison"]
    assert spans("Votre ÉPARGNE", "epargne") == ["ÉPARGNE"]
    assert spans("Votre epargne", "ÉPARGNE") == ["epargne"]


def test_decomposed_accents_are_matched_and_kept_in_the_span():
    text = "une gue\u0301rison"  # e + combining acute accent
    [violation] = blocked(text, "guérison")
    assert text[violation.start : violation.end] == "gue\u0301rison"
    assert violation.end == len(text)


def test_case_is_ignored():
    assert spans("DOLIPRANE, doliprane et Doliprane", "Doliprane") == [
        "DOLIPRANE",
        "doliprane",
        "Doliprane",
    ]


def test_terms_match_on_word_boundaries_only():
    assert spans("un accès secure, une cure, un patient cured, une curette", "cure") == ["cure"]
    assert spans("procure", "cure") == []
    assert spans("cures", "cure") == []
    assert spans("cure2", "cure") == []


def test_surrounding_punctuation_does_not_prevent_a_match():
    text = "cure! (cure) «cure» “cure” l'cure anti-cure cure."
    assert spans(text, "cure") == ["cure"] * 7


def test_phrases_match_across_any_whitespace():
    for text in (
        "C'est sans risque.",
        "C'est sans   risque.",
        "C'est sans\nrisque.",
        "C'est sans\t\n  risque.",
        "C'est sans\u00a0risque.",  # no-break space
        "C'est SANS-RISQUE.",  # a hyphen is a separator too
    ):
        matched = spans(text, "sans risque")
        assert len(matched) == 1, text
        assert matched[0].lower().startswith("sans") and matched[0].lower().endswith("risque")
    assert spans("C'est sansrisque.", "sans risque") == []
    assert spans("sans risques", "sans risque") == []


def test_a_term_written_with_extra_spaces_still_matches():
    assert spans("sans risque", "  sans    risque ") == ["sans risque"]


def test_typographic_apostrophe_is_a_straight_one():
    assert spans("Ouvrez l’épargne salariale", "l'épargne") == ["l’épargne"]
    assert spans("Ouvrez l'épargne salariale", "l’épargne") == ["l'épargne"]
    # An apostrophe is not a letter: the word after it is still a word.
    assert spans("Ouvrez l’épargne salariale", "épargne") == ["épargne"]


def test_soft_hyphen_does_not_hide_a_term():
    text = "une gué\u00adrison"
    assert spans(text, "guérison") == ["gué\u00adrison"]


def test_every_occurrence_is_a_violation_with_its_own_position():
    text = "Cure ici, CURE là. Et encore une cure."
    violations = blocked(text, "cure")
    assert [(v.start, v.end) for v in violations] == [(0, 4), (10, 14), (33, 37)]
    assert [text[v.start : v.end] for v in violations] == ["Cure", "CURE", "cure"]
    assert all(v.term == "cure" for v in violations)


def test_positions_stay_right_after_characters_that_fold_longer():
    # "ß" folds to "ss" and "ﬁ" to "fi": the folded text is longer than the original.
    text = "Große ﬁerté, cure"
    [violation] = blocked(text, "cure")
    assert (violation.start, violation.end) == (13, 17)
    assert text[violation.start : violation.end] == "cure"


def test_sharp_s_and_ligatures():
    assert spans("Die Straße ist gesperrt", "strasse") == ["Straße"]
    assert spans("DIE STRASSE", "Straße") == ["STRASSE"]
    assert spans("Un client ﬁdèle", "fidele") == ["ﬁdèle"]
    assert spans("Un client fidèle", "ﬁdèle") == ["fidèle"]
    assert spans("Avec tout notre cœur", "coeur") == ["cœur"]
    assert spans("Avec tout notre COEUR", "cœur") == ["COEUR"]


def test_a_match_never_cuts_an_original_character():
    # "½" folds to "1⁄2": the term "1" is not in the text as written.
    assert spans("½ dose", "1") == []
    assert spans("1 dose, ½ dose", "1") == ["1"]


def test_the_violation_names_the_term_as_configured():
    [violation] = blocked("C'est sans RISQUE", "Sans Risque")
    assert violation.term == "Sans Risque"
    assert violation.message == "Blocked term “Sans Risque”"


def test_the_longest_term_wins_when_terms_overlap():
    assert [v.term for v in blocked("sans risque", "sans", "sans risque")] == ["sans risque"]
    assert [v.term for v in blocked("sans doute", "sans", "sans risque")] == ["sans"]


def test_terms_that_fold_to_nothing_are_ignored():
    assert blocked("anything at all", "", "   ", "\u0301") == []


def test_one_compiled_pattern_per_set_of_terms():
    first = ComplianceRules(blocked_terms=("cure", "Guérison"))
    second = ComplianceRules(blocked_terms=["cure", "Guérison"])  # lists become tuples
    assert second.blocked_terms == ("cure", "Guérison")
    assert _term_matcher(first.blocked_terms) is _term_matcher(second.blocked_terms)


def test_blocked_terms_in_a_long_caption_are_fast():
    terms = (*(f"terme{n} interdit" for n in range(200)), "guérison")
    text = ("Un texte ordinaire, avec des accents : épargne, ça va. " * 1200)[:63206]
    text = text[:-20] + " GUERISON finale..."
    rules = ComplianceRules(blocked_terms=terms)
    caption_check(text=text, network="facebook", rules=rules)  # warm the caches
    started = time.perf_counter()
    for network in NETWORKS:
        violations = caption_check(text=text, network=network, rules=rules)
        assert "blocked_term" in codes(violations)
    assert time.perf_counter() - started < 1.0


# --- URLs and domains ---------------------------------------------------------------------


def test_find_urls():
    text = (
        "Voir https://example.com/a?b=1, (https://news.example.com/x) et www.example.fr. "
        "Aussi example.com/path! Écrire à contact@evil.net, p. ex. ceci, e.g. cela, "
        "le fichier rapport.pdf, le site santé.fr et evil.fr/offre."
    )
    assert [url for _start, _end, url in find_urls(text)] == [
        "https://example.com/a?b=1",
        "https://news.example.com/x",
        "www.example.fr",
        "example.com/path",
        "evil.fr/offre",
    ]
    for start, end, url in find_urls(text):
        assert text[start:end] == url


def test_find_urls_like_twitter_text_for_bare_country_domains():
    assert find_urls("Rendez-vous sur ameli.fr") == []  # one label + ccTLD, no path
    assert [u for _s, _e, u in find_urls("Rendez-vous sur ameli.fr/droits")] == ["ameli.fr/droits"]
    assert [u for _s, _e, u in find_urls("Rendez-vous sur www.ameli.fr")] == ["www.ameli.fr"]
    assert [u for _s, _e, u in find_urls("Rendez-vous sur example.com")] == ["example.com"]


def domain_violations(text: str, *allowed: str, link_url: str = "") -> list[Violation]:
    rules = ComplianceRules(allowed_domains=allowed)
    violations = caption_check(text=text, network="linkedin", rules=rules, link_url=link_url)
    return [v for v in violations if v.code == "domain_not_allowed"]


def test_allowed_domains_include_subdomains():
    text = (
        "https://example.com https://EXAMPLE.com/a https://news.example.com/b "
        "www.example.com/c http://deep.sub.example.com:8080/d"
    )
    assert domain_violations(text, "example.com") == []


def test_lookalike_domains_are_refused():
    text = (
        "https://example.com.evil.net/x et https://evilexample.com et "
        "https://example.com@evil.net/login et example.com.evil.net/y"
    )
    violations = domain_violations(text, "example.com")
    assert [(v.term, text[v.start : v.end]) for v in violations] == [
        ("example.com.evil.net", "https://example.com.evil.net/x"),
        ("evilexample.com", "https://evilexample.com"),
        ("evil.net", "https://example.com@evil.net/login"),
        ("example.com.evil.net", "example.com.evil.net/y"),
    ]
    assert violations[0].message == "Link to a domain that is not allowed: example.com.evil.net"


def test_a_backslash_does_not_smuggle_another_host():
    # Browsers read "\" as "/": this goes to evil.net, whatever urlsplit thinks.
    assert [
        v.term for v in domain_violations(r"https://evil.net\@example.com/", "example.com")
    ] == ["evil.net"]


def test_allowed_domains_can_be_written_loosely():
    text = "https://news.example.com/a https://other.org/b"
    for configured in ("EXAMPLE.com", "https://example.com/", "*.example.com", "example.com."):
        assert [v.term for v in domain_violations(text, configured)] == ["other.org"]


def test_no_allowed_domains_means_any_domain():
    assert domain_violations("https://anything.evil.net/x") == []


def test_the_content_link_is_checked_too():
    [violation] = domain_violations("Lisez ceci", "example.com", link_url="https://evil.net/a")
    assert (violation.start, violation.end, violation.term) == (0, 0, "evil.net")
    assert "evil.net" in violation.message
    assert (
        domain_violations("Lisez ceci", "example.com", link_url="https://www.example.com/a") == []
    )


def test_a_content_link_already_in_the_caption_is_reported_once():
    text = "Lisez https://evil.net/a"
    violations = domain_violations(text, "example.com", link_url="https://evil.net/a")
    assert [(v.start, v.end) for v in violations] == [(6, len(text))]


def test_a_caption_url_that_only_starts_like_the_link_does_not_hide_the_link():
    text = "Lisez https://evil.net.example.com/x"
    violations = domain_violations(text, "example.com", link_url="https://evil.net")
    assert [(v.start, v.end, v.term) for v in violations] == [(0, 0, "evil.net")]


# --- Length -------------------------------------------------------------------------------


def test_a_long_url_weighs_23_on_x_but_counts_fully_elsewhere():
    url = "https://example.com/" + "a" * 280
    text = f"Lisez ceci {url}"
    assert len(url) == 300
    assert weighted_length(text=text, network="x") == len("Lisez ceci ") + X_URL_WEIGHT
    assert weighted_length(text=text, network="linkedin") == len(text)
    assert weighted_length(text=text, network="facebook") == len(text)
    assert caption_check(text=text, network="x", rules=ComplianceRules()) == []
    lowered = ComplianceRules(max_lengths={"linkedin": 280})
    [violation] = caption_check(text=text, network="linkedin", rules=lowered)
    assert violation.code == "too_long"
    assert (violation.start, violation.end) == (280, len(text))
    assert violation.message == f"Too long for LinkedIn: {len(text)} characters, at most 280"


def test_bare_urls_weigh_23_on_x():
    assert weighted_length(text="www.example.com", network="x") == X_URL_WEIGHT
    assert weighted_length(text="voir example.com/path", network="x") == 5 + X_URL_WEIGHT
    assert weighted_length(text="voir ameli.fr", network="x") == len("voir ameli.fr")


@pytest.mark.parametrize(
    ("text", "weight"),
    [
        ("abc", 3),
        ("é", 1),
        ("e\u0301", 1),  # NFC-normalised first, like twitter-text
        ("©", 1),
        ("—", 1),  # U+2014, in the weight-1 ranges
        ("…", 2),  # U+2026, outside them
        ("日本", 4),
        ("😀", 2),
        ("👍🏽", 2),  # skin-tone modifier
        ("❤️", 2),  # variation selector
        ("©️", 2),
        ("👨‍👩‍👧‍👦", 2),  # ZWJ family
        ("🏳️‍🌈", 2),
        ("🇫🇷", 2),  # flag
        ("🇫🇷🇩🇪", 4),
        ("1️⃣", 2),  # keycap
        ("🏴󠁧󠁢󠁳󠁣󠁴󠁿", 2),  # Scotland: tag sequence
        ("Bravo 🎉🎉 l'équipe", 19),
    ],
)
def test_x_weights(text: str, weight: int):
    assert weighted_length(text=text, network="x") == weight


def test_linkedin_and_facebook_count_code_points():
    assert weighted_length(text="👨‍👩‍👧‍👦 é", network="linkedin") == len("👨‍👩‍👧‍👦 é") == 9
    assert weighted_length(text="日本", network="facebook") == 2


def test_the_too_long_position_is_where_the_limit_is_passed():
    rules = ComplianceRules(max_lengths={"x": 10})
    text = "abcdefgh😀😀xyz"
    [violation] = caption_check(text=text, network="x", rules=rules)
    # 8 + 2 = 10 fits; the second emoji (one code point, at 9) passes the limit.
    assert violation.start == text.index("😀") + 1 == 9
    assert violation.end == len(text)
    rules = ComplianceRules(max_lengths={"x": 5})
    text = "abc https://example.com/long"
    [violation] = caption_check(text=text, network="x", rules=rules)
    assert violation.start == 4  # the URL as a whole


def test_organisations_can_lower_limits_but_not_raise_them():
    rules = ComplianceRules(max_lengths={"x": 100, "linkedin": 10_000})
    assert rules.max_length(network="x") == 100
    assert rules.max_length(network="linkedin") == NETWORK_LIMITS["linkedin"]
    assert rules.max_length(network="facebook") == NETWORK_LIMITS["facebook"]


# --- Disclosure ---------------------------------------------------------------------------


def test_the_disclosure_is_appended_once():
    shared = caption_with_disclosure(text="Fiers de notre équipe !", disclosure="#employee")
    assert shared == "Fiers de notre équipe ! #employee"
    assert caption_with_disclosure(text=shared, disclosure="#employee") == shared
    already = "Fiers de notre équipe #Employee !"
    assert caption_with_disclosure(text=already, disclosure="#employee") == already


def test_the_disclosure_goes_on_its_own_line_after_a_multiline_caption():
    shared = caption_with_disclosure(text="Ligne 1\nLigne 2\n\n", disclosure=" #employee ")
    assert shared == "Ligne 1\nLigne 2\n\n#employee"


def test_a_longer_hashtag_is_not_the_disclosure():
    shared = caption_with_disclosure(text="Nos #employees", disclosure="#employee")
    assert shared == "Nos #employees #employee"


def test_no_disclosure_leaves_the_caption_alone():
    assert caption_with_disclosure(text="  Bonjour  ", disclosure="") == "  Bonjour  "
    assert caption_with_disclosure(text="", disclosure="#employee") == "#employee"


def test_the_disclosure_counts_in_the_length():
    rules = ComplianceRules(disclosure="#employee")
    room = 280 - len(" #employee")
    at_limit = "a" * room
    assert (
        weighted_length(
            text=caption_with_disclosure(text=at_limit, disclosure="#employee"), network="x"
        )
        == 280
    )
    assert caption_check(text=at_limit, network="x", rules=rules) == []
    one_over = "a" * (room + 1)
    [violation] = caption_check(text=one_over, network="x", rules=rules)
    assert violation.code == "too_long"
    assert violation.message == "Too long for X: 281 characters, at most 280"
    # The overflow is in the appended disclosure: it points at the end of the caption.
    assert (violation.start, violation.end) == (len(one_over), len(one_over))
    # A caption that already carries the disclosure is not charged for it twice.
    carrying = "a" * (280 - len(" #EMPLOYEE")) + " #EMPLOYEE"
    assert caption_check(text=carrying, network="x", rules=rules) == []


def test_the_too_long_position_with_a_disclosure():
    rules = ComplianceRules(disclosure="#employee")
    # The limit is passed inside the caption: there.
    [violation] = caption_check(text="a" * 300, network="x", rules=rules)
    assert (violation.start, violation.end) == (280, 300)
    # Trailing spaces are dropped before the disclosure: an overflow in the disclosure
    # points at the end of the caption, not into its trailing spaces.
    text = "a" * 271 + "   "
    [violation] = caption_check(text=text, network="x", rules=rules)
    assert violation.message == "Too long for X: 281 characters, at most 280"
    assert (violation.start, violation.end) == (len(text), len(text))
    assert caption_check(text="a" * 270 + "   ", network="x", rules=rules) == []


def test_the_content_link_counts_23_on_x():
    rules = ComplianceRules()
    at_limit = "a" * (280 - X_URL_WEIGHT)
    link = "https://example.com/" + "x" * 100
    assert caption_check(text=at_limit, network="x", rules=rules, link_url=link) == []
    one_over = at_limit + "a"
    [violation] = caption_check(text=one_over, network="x", rules=rules, link_url=link)
    assert violation.message == "Too long for X: 281 characters, at most 280"
    assert caption_check(text=one_over, network="x", rules=rules) == []
    # Already in the caption: counted once, as a URL of the caption.
    with_link = "a" * (280 - X_URL_WEIGHT - 1) + " " + link
    assert caption_check(text=with_link, network="x", rules=rules, link_url=link) == []
    # LinkedIn shares the link apart from the caption.
    assert caption_check(text="a" * 3000, network="linkedin", rules=rules, link_url=link) == []


# --- Empty, networks, ordering ------------------------------------------------------------


@pytest.mark.parametrize("text", ["", "   ", "\n\t "])
def test_an_empty_caption(text: str):
    [violation] = caption_check(text=text, network="x", rules=ComplianceRules())
    assert violation.code == "empty"
    assert violation.message == "The caption is empty."
    assert (violation.start, violation.end) == (0, len(text))


def test_an_unknown_network_is_an_error():
    with pytest.raises(ValueError, match="mastodon"):
        caption_check(text="Bonjour", network="mastodon", rules=ComplianceRules())
    with pytest.raises(ValueError):
        weighted_length(text="Bonjour", network="twitter")


def test_violations_are_sorted_by_position_and_messages_are_human():
    rules = ComplianceRules(
        blocked_terms=("sans risque", "Doliprane"),
        allowed_domains=("example.com",),
        max_lengths={"x": 60},
        disclosure="#employee",
    )
    text = "Le Doliprane, sans risque : https://evil.net/promo et encore du doliprane !"
    violations = caption_check(text=text, network="x", rules=rules)
    assert codes(violations) == [
        "blocked_term",
        "blocked_term",
        "domain_not_allowed",
        "too_long",
        "blocked_term",
    ]
    assert [v.start for v in violations] == sorted(v.start for v in violations)
    assert [v.message for v in violations] == [
        "Blocked term “Doliprane”",
        "Blocked term “sans risque”",
        "Link to a domain that is not allowed: evil.net",
        "Too long for X: 86 characters, at most 60",  # URL as 23, plus " #employee"
        "Blocked term “Doliprane”",
    ]
    for violation in violations:
        assert "%(" not in violation.message


def test_rules_are_hashable_and_frozen():
    rules = ComplianceRules(blocked_terms=["cure"], max_lengths={"x": 100})
    assert hash(rules) == hash(ComplianceRules(blocked_terms=("cure",), max_lengths={"x": 100}))
    with pytest.raises(AttributeError):
        rules.disclosure = "#ad"  # type: ignore[misc]
    with pytest.raises(TypeError):
        rules.max_lengths["x"] = 1000  # type: ignore[index]


# --- Property -----------------------------------------------------------------------------

FRAGMENTS = [
    "cure",
    "CURE",
    "secure",
    "sans",
    "risque",
    "Guérison",
    "gue\u0301rison",
    "GUERISON",
    "Straße",
    "STRASSE",
    "ﬁdèle",
    "cœur",
    "l’épargne",
    "½",
    "1",
    "İ",
    "ǅ",
    "\u00ad",
    " ",
    "   ",
    "\n",
    "\u00a0",
    "-",
    "—",
    "'",
    "!",
    ".",
    "😀",
    "👍🏽",
    "🇫🇷",
    "https://example.com/x",
    "evil.net/y",
    "www.example.fr",
    "#employee",
    "日本",
]
TERMS = ["cure", "sans risque", "guérison", "strasse", "fidele", "coeur", "l'épargne", "1", "i"]


@settings(max_examples=300, deadline=None)
@given(
    text=st.one_of(
        st.lists(st.sampled_from(FRAGMENTS), max_size=30).map("".join),
        st.text(max_size=80),
        st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=4)), max_size=20).map(
            "".join
        ),
    ),
    terms=st.lists(st.one_of(st.sampled_from(TERMS), st.text(min_size=1, max_size=6)), max_size=5),
    network=st.sampled_from(NETWORKS),
    max_length=st.integers(min_value=0, max_value=300),
)
def test_violations_point_into_the_text(text: str, terms: list[str], network: str, max_length: int):
    rules = ComplianceRules(
        blocked_terms=tuple(terms),
        disclosure="#employee",
        allowed_domains=("example.com",),
        max_lengths={network: max_length},
    )
    violations = caption_check(text=text, network=network, rules=rules)
    assert [v.start for v in violations] == sorted(v.start for v in violations)
    for violation in violations:
        assert 0 <= violation.start <= violation.end <= len(text)
        if violation.code == "blocked_term":
            assert violation.start < violation.end
            assert violation.term in [term.strip() for term in terms]
            assert normalise(text[violation.start : violation.end]) == normalise(violation.term)
