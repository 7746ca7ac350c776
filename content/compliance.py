"""Compliance checks for the captions employees share: blocked terms, allowed link domains,
per-network length and the mandatory disclosure.

Pure Python (no database, no models) so it can run on submit, on approve, live in the
editor (htmx) and on every caption an employee edits. Every violation carries its position
in the text as written, so the editor can highlight it.

Blocked terms match case- and accent-insensitively on word boundaries: the text is folded
(NFKD, combining marks dropped, casefolded, typographic apostrophes and dashes unified, a few
letters without decomposition such as "œ" spelled out) into a second string that keeps, for
each of its characters, the index of the original character it came from. Inside a term,
any run of whitespace or hyphens matches any run of whitespace or hyphens in the text
("sans risque" matches "sans   risque", "sans\\nrisque" and "sans-risque"). When two
configured terms overlap, the longest is reported.

X lengths follow twitter-text v3: text NFC-normalised, every URL weighs 23, code points in
the light ranges weigh 1, others 2, an emoji sequence 2 in total. URLs are recognised as
twitter-text does in the common cases (with a scheme; "www.example.com"; "example.com/path";
a bare "example.com" for common generic TLDs; a bare "name.fr" without a path is not a link).
"""

from __future__ import annotations

import bisect
import contextlib
import functools
import re
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from urllib.parse import unquote, urlsplit

from django.utils.translation import gettext as _

NETWORKS: tuple[str, ...] = ("linkedin", "x", "facebook")
NETWORK_LIMITS: Mapping[str, int] = MappingProxyType(
    {"linkedin": 3000, "x": 280, "facebook": 63206}
)
X_URL_WEIGHT = 23

NETWORK_NAMES: Mapping[str, str] = MappingProxyType(
    {"linkedin": "LinkedIn", "x": "X", "facebook": "Facebook"}
)


@dataclass(frozen=True)
class ComplianceRules:
    """An organisation's rules. Lists are accepted and stored as tuples; ``max_lengths`` may
    name only some networks (the others keep the network's own limit) and can only lower a
    network's limit, never raise it."""

    blocked_terms: tuple[str, ...] = ()
    disclosure: str = ""
    allowed_domains: tuple[str, ...] = ()
    max_lengths: Mapping[str, int] = field(default_factory=lambda: NETWORK_LIMITS, hash=False)

    def __post_init__(self) -> None:
        for name in ("blocked_terms", "allowed_domains"):
            value = getattr(self, name)
            object.__setattr__(self, name, (value,) if isinstance(value, str) else tuple(value))
        object.__setattr__(
            self,
            "max_lengths",
            MappingProxyType({str(key): int(value) for key, value in self.max_lengths.items()}),
        )

    def max_length(self, *, network: str) -> int:
        _check_network(network)
        limit = NETWORK_LIMITS[network]
        return min(limit, self.max_lengths.get(network, limit))


@dataclass(frozen=True)
class Violation:
    code: str  # "blocked_term" | "domain_not_allowed" | "too_long" | "empty"
    message: str
    start: int  # index in the checked (original) text
    end: int
    term: str = ""  # the blocked term as configured, or the domain


def _check_network(network: str) -> None:
    if network not in NETWORK_LIMITS:
        raise ValueError(f"Unknown network {network!r}; expected one of {', '.join(NETWORKS)}")


# --- Folding (case, accents, typography) with an index map back to the original -----------

# Applied to the original character, before decomposition.
_FOLD_BEFORE = {
    "\u2019": "'",  # right single quotation mark (the French typographic apostrophe)
    "\u2018": "'",
    "\u02bc": "'",  # modifier letter apostrophe
    "\u00b4": "'",  # acute accent used as an apostrophe (NFKD would make it a space)
    "\u00ad": "",  # soft hyphen, invisible: "gué\u00adrison" is "guérison"
    "\u200b": "",  # zero width space
    "\u200c": "",
    "\u200d": "",
    "\u2060": "",  # word joiner
    "\ufeff": "",
}
# Applied to each character of the decomposed, casefolded result.
_FOLD_AFTER = {
    "\u2010": "-",
    "\u2012": "-",
    "\u2013": "-",
    "\u2014": "-",
    "\u2015": "-",
    "\u2212": "-",
    "\u2019": "'",
    "\u02bc": "'",
    "œ": "oe",
    "æ": "ae",
    "ø": "o",
    "ł": "l",
    "đ": "d",
    "\u0131": "i",  # dotless i
}


def _fold_char(char: str) -> str:
    if char in _FOLD_BEFORE:
        return _FOLD_BEFORE[char]
    decomposed = unicodedata.normalize("NFKD", unicodedata.normalize("NFKD", char).casefold())
    return "".join(
        _FOLD_AFTER.get(piece, piece) for piece in decomposed if unicodedata.category(piece) != "Mn"
    )


class _FoldTable(dict[int, str]):
    """``str.translate`` table computing (and remembering) each code point's folding."""

    def __missing__(self, key: int) -> str:
        value = _fold_char(chr(key))
        if len(self) < 50_000:
            self[key] = value
        return value


_FOLD_TABLE = _FoldTable()


def _fold(text: str) -> str:
    # ASCII folds to lower case and nothing else: the common case, in C.
    return text.lower() if text.isascii() else text.translate(_FOLD_TABLE)


_SEPARATORS = re.compile(r"[\s\-]+")


_SPACED_PUNCTUATION = re.compile(r" ?([^\w ]) ?")


def _key(folded: str) -> str:
    """Separators made one space, and no space next to punctuation ("100 %" is "100%")."""
    return _SPACED_PUNCTUATION.sub(r"\1", _SEPARATORS.sub(" ", folded).strip())


def normalise(text: str) -> str:
    """The form blocked terms are compared in: folded, every run of whitespace or hyphens
    made one space, none next to punctuation. ``normalise(text[v.start:v.end]) ==
    normalise(v.term)`` holds for every blocked-term violation."""
    return _key(_fold(text))


class _Folded:
    """The folded form of a text, and the way back from a folded index to the original
    character it comes from ("ß" folds to two characters, "é" written as e + U+0301 to one, a
    soft hyphen to none).

    The index map is kept per chunk of the original (the folded length of each chunk, built
    only when a match needs it, in C through ``str.translate``); a position is then found
    by walking one chunk, so a long caption with a match costs little more than without."""

    _CHUNK = 256

    def __init__(self, original: str) -> None:
        self.original = original
        self.text = _fold(original)
        self._identity = original.isascii()
        self._chunk_starts: list[int] | None = None

    def _starts(self) -> list[int]:
        if self._chunk_starts is None:
            starts, total = [0], 0
            for offset in range(0, len(self.original), self._CHUNK):
                total += len(_fold(self.original[offset : offset + self._CHUNK]))
                starts.append(total)
            self._chunk_starts = starts
        return self._chunk_starts

    def _origin(self, index: int) -> tuple[int, bool]:
        """The original character folded index ``index`` (< len(text)) comes from, and
        whether it is the first character of that character's folding."""
        if self._identity:
            return index, True
        starts = self._starts()
        chunk = bisect.bisect_right(starts, index) - 1
        position = starts[chunk]
        first = chunk * self._CHUNK
        for original_index in range(first, min(first + self._CHUNK, len(self.original))):
            size = len(_FOLD_TABLE[ord(self.original[original_index])])
            if position + size > index:
                return original_index, position == index
            position += size
        raise AssertionError("folded index out of range")  # pragma: no cover

    def span(self, start: int, end: int) -> tuple[int, int] | None:
        """The original span of folded ``[start, end)`` (end > start), or None when the match
        cuts an original character in two (e.g. "1" inside "½", which folds to three
        characters). Characters folding to nothing right after the match (combining marks)
        belong to it."""
        original_start, aligned = self._origin(start)
        if not aligned:
            return None
        if end == len(self.text):
            return original_start, len(self.original)
        original_end, aligned = self._origin(end)
        if not aligned:
            return None
        return original_start, original_end


@dataclass(frozen=True)
class _TermMatcher:
    pattern: re.Pattern[str]
    configured: Mapping[str, str]  # normalised term -> the term as configured


_Trie = dict[str, "_Trie"]
_END = "$"  # trie key marking the end of a term; an escaped atom never starts with "$"


def _term_atoms(term: str) -> list[str]:
    """The regex pieces of one term: its folded characters, separators matching any run of
    whitespace or hyphens, word boundaries where the term starts or ends with a letter or
    digit. The start boundary is checked after the first character, "(?<!\\w.)", so that
    every alternative of the whole pattern starts with a literal (the engine then skips
    quickly over positions where no term can start)."""
    tokens = [token for token in _SEPARATORS.split(_fold(term)) if token]
    atoms: list[str] = []
    for number, token in enumerate(tokens):
        if number:
            # Next to punctuation the space is optional, as typography varies; between
            # two words it is what separates them.
            words = re.match(r"\w", token[0]) and re.match(r"\w", tokens[number - 1][-1])
            atoms.append(r"[\s\-]+" if words else r"[\s\-]*")
        for index, char in enumerate(token):
            # French typography spaces punctuation ("100 %", "« mot »", "efficace !"),
            # often with a non-breaking space: a term written without the space matches
            # the text with one, and the other way round.
            if index and bool(re.match(r"\w", char)) != bool(re.match(r"\w", token[index - 1])):
                atoms.append(r"\s*")
            atoms.append(re.escape(char))
    if re.match(r"\w", tokens[0]):
        atoms.insert(1, r"(?<!\w.)")
    atoms.append(_END + (r"(?!\w)" if re.search(r"\w$", tokens[-1]) else ""))
    return atoms


def _trie_regex(node: _Trie) -> str:
    """One regex for a trie of atoms; where a term ends and a longer one goes on, the longer
    one is tried first."""
    alternatives = []
    for key in sorted(node, key=lambda key: key.startswith(_END)):
        if key.startswith(_END):
            alternatives.append(key[len(_END) :])
            continue
        parts, child = [key], node[key]
        while len(child) == 1 and not next(iter(child)).startswith(_END):
            atom = next(iter(child))
            parts.append(atom)
            child = child[atom]
        alternatives.append("".join(parts) + _trie_regex(child))
    if len(alternatives) == 1:
        return alternatives[0]
    return "(?:" + "|".join(alternatives) + ")"


@functools.lru_cache(maxsize=256)
def _term_matcher(terms: tuple[str, ...]) -> _TermMatcher | None:
    configured: dict[str, str] = {}
    for term in terms:
        key = normalise(term)
        if key and key not in configured:
            configured[key] = term.strip()
    if not configured:
        return None
    trie: _Trie = {}
    for term in configured.values():
        node = trie
        for atom in _term_atoms(term):
            node = node.setdefault(atom, {})
    return _TermMatcher(pattern=re.compile(_trie_regex(trie)), configured=configured)


def _blocked_term_violations(*, text: str, terms: tuple[str, ...]) -> Iterator[Violation]:
    matcher = _term_matcher(terms)
    if matcher is None or not text:
        return
    folded = _Folded(text)
    template = _("Blocked term “%(term)s”")  # translated once: a text may hold many
    position = 0
    while True:
        match = matcher.pattern.search(folded.text, position)
        if match is None:
            return
        span = folded.span(match.start(), match.end())
        if span is None:
            position = match.start() + 1
            continue
        position = match.end()
        # The match is already folded: only its separators need collapsing to find the term.
        key = _key(match.group())
        term = matcher.configured.get(key, key)
        yield Violation(
            code="blocked_term",
            message=template % {"term": term},
            start=span[0],
            end=span[1],
            term=term,
        )


# --- URLs ---------------------------------------------------------------------------------

# Generic TLDs recognised without a scheme (twitter-text knows them all; these are the ones
# met in practice, leaving out those that look like file names: .zip, .mov).
_GENERIC_TLDS = [
    "com",
    "net",
    "org",
    "edu",
    "gov",
    "mil",
    "int",
    "info",
    "biz",
    "name",
    "pro",
    "mobi",
    "asia",
    "tel",
    "travel",
    "jobs",
    "coop",
    "aero",
    "museum",
    "io",
    "ai",
    "app",
    "dev",
    "page",
    "tech",
    "online",
    "site",
    "website",
    "web",
    "store",
    "shop",
    "blog",
    "news",
    "media",
    "live",
    "life",
    "world",
    "today",
    "email",
    "cloud",
    "digital",
    "network",
    "solutions",
    "services",
    "group",
    "company",
    "agency",
    "consulting",
    "global",
    "health",
    "care",
    "clinic",
    "doctor",
    "hospital",
    "pharmacy",
    "bio",
    "eco",
    "green",
    "science",
    "academy",
    "education",
    "school",
    "university",
    "club",
    "xyz",
    "top",
    "link",
    "click",
    "one",
    "paris",
    "bzh",
    "alsace",
    "corsica",
    "eus",
    "cat",
    "brussels",
    "berlin",
    "london",
    "swiss",
]
# Country-code TLDs (ISO 3166 two-letter codes in use as TLDs, plus .eu).
_COUNTRY_TLDS = [
    "ac",
    "ad",
    "ae",
    "af",
    "ag",
    "ai",
    "al",
    "am",
    "ao",
    "aq",
    "ar",
    "as",
    "at",
    "au",
    "aw",
    "ax",
    "az",
    "ba",
    "bb",
    "bd",
    "be",
    "bf",
    "bg",
    "bh",
    "bi",
    "bj",
    "bm",
    "bn",
    "bo",
    "br",
    "bs",
    "bt",
    "bw",
    "by",
    "bz",
    "ca",
    "cc",
    "cd",
    "cf",
    "cg",
    "ch",
    "ci",
    "ck",
    "cl",
    "cm",
    "cn",
    "co",
    "cr",
    "cu",
    "cv",
    "cw",
    "cx",
    "cy",
    "cz",
    "de",
    "dj",
    "dk",
    "dm",
    "do",
    "dz",
    "ec",
    "ee",
    "eg",
    "er",
    "es",
    "et",
    "eu",
    "fi",
    "fj",
    "fk",
    "fm",
    "fo",
    "fr",
    "ga",
    "gb",
    "gd",
    "ge",
    "gf",
    "gg",
    "gh",
    "gi",
    "gl",
    "gm",
    "gn",
    "gp",
    "gq",
    "gr",
    "gs",
    "gt",
    "gu",
    "gw",
    "gy",
    "hk",
    "hm",
    "hn",
    "hr",
    "ht",
    "hu",
    "id",
    "ie",
    "il",
    "im",
    "in",
    "io",
    "iq",
    "ir",
    "is",
    "it",
    "je",
    "jm",
    "jo",
    "jp",
    "ke",
    "kg",
    "kh",
    "ki",
    "km",
    "kn",
    "kp",
    "kr",
    "kw",
    "ky",
    "kz",
    "la",
    "lb",
    "lc",
    "li",
    "lk",
    "lr",
    "ls",
    "lt",
    "lu",
    "lv",
    "ly",
    "ma",
    "mc",
    "md",
    "me",
    "mg",
    "mh",
    "mk",
    "ml",
    "mm",
    "mn",
    "mo",
    "mp",
    "mq",
    "mr",
    "ms",
    "mt",
    "mu",
    "mv",
    "mw",
    "mx",
    "my",
    "mz",
    "na",
    "nc",
    "ne",
    "nf",
    "ng",
    "ni",
    "nl",
    "no",
    "np",
    "nr",
    "nu",
    "nz",
    "om",
    "pa",
    "pe",
    "pf",
    "pg",
    "ph",
    "pk",
    "pl",
    "pm",
    "pn",
    "pr",
    "ps",
    "pt",
    "pw",
    "py",
    "qa",
    "re",
    "ro",
    "rs",
    "ru",
    "rw",
    "sa",
    "sb",
    "sc",
    "sd",
    "se",
    "sg",
    "sh",
    "si",
    "sk",
    "sl",
    "sm",
    "sn",
    "so",
    "sr",
    "ss",
    "st",
    "sv",
    "sx",
    "sy",
    "sz",
    "tc",
    "td",
    "tf",
    "tg",
    "th",
    "tj",
    "tk",
    "tl",
    "tm",
    "tn",
    "to",
    "tr",
    "tt",
    "tv",
    "tw",
    "tz",
    "ua",
    "ug",
    "uk",
    "us",
    "uy",
    "uz",
    "va",
    "vc",
    "ve",
    "vg",
    "vi",
    "vn",
    "vu",
    "wf",
    "ws",
    "ye",
    "yt",
    "za",
    "zm",
    "zw",
]
# twitter-text links "name.co" and "name.tv" without a path, unlike other country codes.
_SPECIAL_COUNTRY_TLDS = frozenset({"co", "tv"})
_COUNTRY_TLD_SET = frozenset(_COUNTRY_TLDS)

_TLD = "|".join(sorted(set(_GENERIC_TLDS) | set(_COUNTRY_TLDS), key=len, reverse=True))
# A URL stops at whitespace, angle brackets and quotes.
_URL_CHAR = '[^\\s<>"«»“”\u2018\u2019]'
_URLS = re.compile(
    r"(?<![A-Za-z0-9@\uff20$#\uff03])https?://" + _URL_CHAR + "+"
    "|(?<![A-Za-z0-9@\uff20$#\uff03_.\\-/])"
    # At most 126 labels (a host name has at most 253 characters): bounds the backtracking.
    r"(?P<domain>(?:[a-z0-9](?:[a-z0-9\-]{0,61}[a-z0-9])?\.){1,126}(?P<tld>" + _TLD + r"))"
    r"(?![a-z0-9@+\-_])"
    r"(?::[0-9]{1,5})?"
    r"(?P<path>[/?#]" + _URL_CHAR + "*)?",
    re.IGNORECASE,
)
_TRAILING_PUNCTUATION = ".,;:!?'\"*…"
_BRACKETS = {")": "(", "]": "[", "}": "{"}


def _trim_url(url: str) -> str:
    """Drops the sentence punctuation after a URL and closing brackets it does not open."""
    while url:
        last = url[-1]
        if last in _TRAILING_PUNCTUATION or (
            last in _BRACKETS and url.count(last) > url.count(_BRACKETS[last])
        ):
            url = url[:-1]
        else:
            break
    return url


# Every URL has one of these, and no URL spans whitespace: only the words holding one are
# searched, which keeps a long caption fast.
_URL_ANCHOR = re.compile(r"://|\.[a-z0-9]", re.IGNORECASE)
_SPACE = re.compile(r"\s")


def _url_matches(text: str) -> Iterator[re.Match[str]]:
    searched_to = 0
    for anchor in _URL_ANCHOR.finditer(text):
        if anchor.start() < searched_to:
            continue
        start = anchor.start()
        while start > searched_to and not text[start - 1].isspace():
            start -= 1
        space = _SPACE.search(text, anchor.end())
        searched_to = space.start() if space else len(text)
        # pos/endpos keep the look-behind on the real text; endpos is a space (or the end).
        yield from _URLS.finditer(text, start, searched_to)


def find_urls(text: str) -> list[tuple[int, int, str]]:
    """Every URL in the text as (start, end, url), in order."""
    urls: list[tuple[int, int, str]] = []
    for match in _url_matches(text):
        url = _trim_url(match.group())
        domain = match.group("domain")
        if domain is not None:
            tld = match.group("tld").lower()
            if (
                tld in _COUNTRY_TLD_SET
                and tld not in _SPECIAL_COUNTRY_TLDS
                and domain.count(".") == 1
                and len(url) == len(domain)
            ):
                continue  # "name.fr" alone (no "www.", no path) is not a link for twitter-text
        elif len(url) <= url.index("//") + 2:
            continue  # "https://" alone
        urls.append((match.start(), match.start() + len(url), url))
    return urls


def _normalise_host(host: str) -> str:
    host = unquote(host).strip().strip(".").lower()
    if host and not host.isascii():
        with contextlib.suppress(UnicodeError):
            host = host.encode("idna").decode("ascii")
    return host


def url_host(url: str) -> str:
    """The host a browser would go to, lower-cased: "https://example.com@evil.net/" is
    evil.net. Empty when the URL cannot be parsed."""
    candidate = url.strip().replace("\\", "/")  # browsers read "\" as "/" in http(s) URLs
    if "://" not in candidate[:12]:
        candidate = "http://" + candidate
    try:
        host = urlsplit(candidate).hostname or ""
    except ValueError:
        return ""
    return _normalise_host(host)


def _allowed_domain(domain: str) -> str:
    domain = domain.strip()
    if "://" in domain or "/" in domain:
        domain = url_host(domain)
    domain = domain.removeprefix("*.")
    return _normalise_host(domain)


@functools.lru_cache(maxsize=256)
def _allowed_hosts(allowed_domains: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(domain for domain in map(_allowed_domain, allowed_domains) if domain)


def domain_allowed(*, host: str, allowed_domains: tuple[str, ...]) -> bool:
    """True when no domain is configured, or the host is one of them or a subdomain of
    one ("example.com" allows "news.example.com", not "example.com.evil.net")."""
    allowed = _allowed_hosts(tuple(allowed_domains))
    if not allowed:
        return True
    return bool(host) and any(host == domain or host.endswith("." + domain) for domain in allowed)


# --- Length -------------------------------------------------------------------------------

_EMOJI_BMP = (
    "\u00a9\u00ae\u203c\u2049\u2122\u2139\u2194-\u2199\u21a9\u21aa\u231a\u231b\u2328\u23cf"
    "\u23e9-\u23f3\u23f8-\u23fa\u24c2\u25aa\u25ab\u25b6\u25c0\u25fb-\u25fe\u2600-\u27bf"
    "\u2934\u2935\u2b05-\u2b07\u2b1b\u2b1c\u2b50\u2b55\u3030\u303d\u3297\u3299"
)
_EMOJI_WIDE = "\U0001f000-\U0001faff"
_SKIN_TONE = "[\U0001f3fb-\U0001f3ff]"
_EMOJI_PART = "[" + _EMOJI_BMP + _EMOJI_WIDE + "]\ufe0f?" + _SKIN_TONE + "?"
_EMOJI = re.compile(
    "[\U0001f1e6-\U0001f1ff]{2}"  # flag: a pair of regional indicators
    "|\U0001f3f4[\U000e0020-\U000e007e]+\U000e007f"  # subdivision flag (tag sequence)
    "|[0-9#*]\ufe0f?\u20e3"  # keycap
    "|" + _EMOJI_PART + "(?:\u200d" + _EMOJI_PART + ")+"  # ZWJ sequence
    "|[" + _EMOJI_WIDE + "]\ufe0f?" + _SKIN_TONE + "?"
    "|[" + _EMOJI_BMP + "](?:\ufe0f" + _SKIN_TONE + "?|" + _SKIN_TONE + ")"
)
# Code points weighing 2 on X (outside twitter-text v3's weight-1 ranges).
_HEAVY = re.compile("[^\u0000-\u10ff\u2000-\u200d\u2010-\u201f\u2032-\u2037]")
_EMOJI_WEIGHT = 2


def _plain_weight(text: str) -> int:
    text = unicodedata.normalize("NFC", text)
    return len(text) + len(_HEAVY.findall(text))


def _x_units(text: str) -> list[tuple[int, int, int, bool]]:
    """(start, end, weight, atomic) pieces of a text on X, in order: URLs and emoji
    sequences are atomic, the plain runs between them are not."""
    units: list[tuple[int, int, int, bool]] = []
    position = 0
    atoms: list[tuple[int, int, int]] = []
    for start, end, _url in find_urls(text):
        for emoji in _EMOJI.finditer(text, position, start):
            atoms.append((emoji.start(), emoji.end(), _EMOJI_WEIGHT))
        atoms.append((start, end, X_URL_WEIGHT))
        position = end
    for emoji in _EMOJI.finditer(text, position):
        atoms.append((emoji.start(), emoji.end(), _EMOJI_WEIGHT))
    position = 0
    for start, end, weight in atoms:
        if start > position:
            units.append((position, start, _plain_weight(text[position:start]), False))
        units.append((start, end, weight, True))
        position = end
    if position < len(text):
        units.append((position, len(text), _plain_weight(text[position:]), False))
    return units


def weighted_length(*, text: str, network: str) -> int:
    """The length the network counts: on X, twitter-text v3's weighted length; elsewhere the
    number of code points."""
    _check_network(network)
    if network != "x":
        return len(text)
    if text.isascii() and "." not in text and ":" not in text:
        return len(text)
    return sum(weight for _start, _end, weight, _atomic in _x_units(text))


def _x_overflow_index(*, text: str, units: list[tuple[int, int, int, bool]], limit: int) -> int:
    """Index of the first character (URL, emoji sequence) that takes the text over
    ``limit`` on X; ``len(text)`` when the whole text fits."""
    total = 0
    for start, end, weight, atomic in units:
        if total + weight <= limit:
            total += weight
            continue
        if atomic:
            return start
        # Smallest prefix of the run that no longer fits (weights only grow with the prefix).
        low, high = start + 1, end
        while low < high:
            middle = (low + high) // 2
            if total + _plain_weight(text[start:middle]) > limit:
                high = middle
            else:
                low = middle + 1
        return low - 1
    return len(text)


# --- Disclosure and the whole check -------------------------------------------------------


@functools.lru_cache(maxsize=64)
def _disclosure_pattern(disclosure: str) -> re.Pattern[str]:
    before = r"(?<!\w)" if re.match(r"\w", disclosure) else ""
    after = r"(?!\w)" if re.search(r"\w$", disclosure) else ""
    return re.compile(before + re.escape(disclosure) + after, re.IGNORECASE)


def caption_with_disclosure(*, text: str, disclosure: str) -> str:
    """The caption as shared: the disclosure appended (after a space, or on its own line
    when the caption has several lines) unless the caption already contains it, in any case.
    Applying it twice changes nothing."""
    disclosure = disclosure.strip()
    if not disclosure or _disclosure_pattern(disclosure).search(text):
        return text
    body = text.rstrip()
    if not body:
        return disclosure
    separator = "\n\n" if "\n" in body else " "
    return f"{body}{separator}{disclosure}"


_SCHEME = re.compile(r"^https?://", re.IGNORECASE)


def _link_in_text(*, link_url: str, urls: list[tuple[int, int, str]]) -> bool:
    """Whether one of the caption's URLs is the content's link (so the share adds nothing,
    and its domain is checked with the caption's URLs). A URL that merely starts like the
    link ("https://example.com.evil.net" for "https://example.com") is not it."""
    wanted = _SCHEME.sub("", link_url).rstrip("/").lower()
    return any(_SCHEME.sub("", url).rstrip("/").lower() == wanted for _s, _e, url in urls)


def caption_check(
    *, text: str, network: str, rules: ComplianceRules, link_url: str = ""
) -> list[Violation]:
    """Every rule the caption breaks on this network, sorted by position in ``text``."""
    _check_network(network)
    violations: list[Violation] = []
    if not text.strip():
        violations.append(
            Violation(code="empty", message=_("The caption is empty."), start=0, end=len(text))
        )

    violations.extend(_blocked_term_violations(text=text, terms=rules.blocked_terms))

    urls = find_urls(text)
    link_url = link_url.strip()
    link_shown = bool(link_url) and _link_in_text(link_url=link_url, urls=urls)
    if rules.allowed_domains:
        for start, end, url in urls:
            host = url_host(url)
            if not domain_allowed(host=host, allowed_domains=rules.allowed_domains):
                violations.append(_domain_violation(host=host or url, start=start, end=end))
        if link_url and not link_shown:
            host = url_host(link_url)
            if not domain_allowed(host=host, allowed_domains=rules.allowed_domains):
                violations.append(
                    Violation(
                        code="domain_not_allowed",
                        message=_(
                            "The content's link goes to a domain that is not allowed: %(domain)s"
                        )
                        % {"domain": host or link_url},
                        start=0,
                        end=0,
                        term=host or link_url,
                    )
                )

    shared, length, units = _measure(text=text, network=network, rules=rules, link_url=link_url)
    limit = rules.max_length(network=network)
    if length > limit:
        if units is None:
            overflow = min(max(limit, 0), len(shared))
        else:
            overflow = _x_overflow_index(text=shared, units=units, limit=limit)
        # Past the caption's own text (in the appended disclosure or link): its end.
        kept = len(text) if shared == text else len(text.rstrip())
        start = overflow if overflow < kept else len(text)
        violations.append(
            Violation(
                code="too_long",
                message=_("Too long for %(network)s: %(length)s characters, at most %(limit)s")
                % {"network": NETWORK_NAMES[network], "length": length, "limit": limit},
                start=start,
                end=len(text),
            )
        )
    violations.sort(key=lambda violation: (violation.start, violation.end))
    return violations


def _measure(
    *, text: str, network: str, rules: ComplianceRules, link_url: str
) -> tuple[str, int, list[tuple[int, int, int, bool]] | None]:
    """The share as it goes out (the caption with the disclosure and, on X, the content's
    link after it when the caption does not show it) and its length on the network."""
    shared = caption_with_disclosure(text=text, disclosure=rules.disclosure)
    units = _x_units(shared) if network == "x" else None
    if units is None:
        return shared, len(shared), None
    link_url = link_url.strip()
    link_shown = bool(link_url) and _link_in_text(link_url=link_url, urls=find_urls(text))
    link_weight = X_URL_WEIGHT if link_url and not link_shown else 0
    return shared, sum(weight for _s, _e, weight, _a in units) + link_weight, units


@dataclass(frozen=True)
class CaptionPreview:
    """What the editor and the share sheet show of a caption: the text as shared, the
    length the verdict counts and the limit, and the violations."""

    network: str
    text: str
    length: int
    limit: int
    violations: list[Violation]


def caption_preview(
    *, text: str, network: str, rules: ComplianceRules, link_url: str = ""
) -> CaptionPreview:
    """One preview row, from the same measure as the verdict of `caption_check`."""
    shared, length, _units = _measure(text=text, network=network, rules=rules, link_url=link_url)
    return CaptionPreview(
        network=network,
        text=shared,
        length=length,
        limit=rules.max_length(network=network),
        violations=caption_check(text=text, network=network, rules=rules, link_url=link_url),
    )


def _domain_violation(*, host: str, start: int, end: int) -> Violation:
    return Violation(
        code="domain_not_allowed",
        message=_("Link to a domain that is not allowed: %(domain)s") % {"domain": host},
        start=start,
        end=end,
        term=host,
    )
