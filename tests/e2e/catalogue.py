"""The French catalogue as two sets of strings that must never be seen on a page in the
other language: the English source strings on a French page, the French translations on an
English page.

A small reader of `locale/fr/LC_MESSAGES/django.po` (polib is not a dependency): it only
needs msgid, msgid_plural, msgstr, msgstr[n], the fuzzy flag and obsolete entries."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FRENCH_PO = ROOT / "locale" / "fr" / "LC_MESSAGES" / "django.po"

# Shorter strings ("OK", "No", "X", "Yes") are too often a word of the page's own language,
# an abbreviation or user data to prove anything.
MIN_LENGTH = 4

# Names that read the same in both languages whatever the catalogue says.
PROPER_NAMES = frozenset(
    {
        "Portevoix",
        "LinkedIn",
        "Facebook",
        "Instagram",
        "Mastodon",
        "Bluesky",
        "Slack",
        "Microsoft Teams",
        "Google",
        "Microsoft",
        "OpenID Connect",
        "Français",
        "English",
    }
)

# Placeholders are filled at render time, so such strings never appear verbatim.
_PLACEHOLDER = re.compile(r"%\(\w+\)[sdif]|%[sdif]|\{[^}]*\}")
_WHITESPACE = re.compile(r"\s+")


def normalise(text: str) -> str:
    return _WHITESPACE.sub(" ", text).strip()


@dataclass
class Entry:
    msgid: str = ""
    msgid_plural: str = ""
    msgstr: dict[int, str] = field(default_factory=dict)
    fuzzy: bool = False
    obsolete: bool = False


def _unquote(literal: str) -> str:
    # A .po string is a C-like double-quoted literal; Python's parser reads the same escapes.
    return ast.literal_eval(literal)


def parse_po(text: str) -> list[Entry]:
    entries: list[Entry] = []
    entry = Entry()
    target: tuple[str, int] | None = None

    def flush() -> None:
        nonlocal entry, target
        if entry.msgid or entry.msgstr:
            entries.append(entry)
        entry, target = Entry(), None

    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            flush()
            continue
        if line.startswith("#"):
            if entry.msgstr:  # a comment after a msgstr opens the next entry
                flush()
            if line.startswith("#~"):
                entry.obsolete = True
            elif line.startswith("#,") and "fuzzy" in line:
                entry.fuzzy = True
            continue
        if line.startswith('"'):
            value = _unquote(line)
        else:
            keyword, _, rest = line.partition(" ")
            if keyword in ("msgctxt", "msgid") and entry.msgstr:
                flush()
            value = _unquote(rest)
            if keyword.startswith("msgstr"):
                index = int(keyword[7:-1]) if keyword.startswith("msgstr[") else 0
                target = ("msgstr", index)
                entry.msgstr[index] = ""
            else:
                target = (keyword, 0)
        if target is None:
            continue
        name, index = target
        if name == "msgid":
            entry.msgid += value
        elif name == "msgid_plural":
            entry.msgid_plural += value
        elif name == "msgstr":
            entry.msgstr[index] += value
    flush()
    return entries


def _usable(text: str) -> bool:
    return (
        len(text) >= MIN_LENGTH
        and text not in PROPER_NAMES
        and not _PLACEHOLDER.search(text)
        # Markup-bearing strings ({% blocktranslate %} with tags) never equal one text node.
        and "<" not in text
    )


def _sources(entry: Entry) -> list[str]:
    return [entry.msgid] + ([entry.msgid_plural] if entry.msgid_plural else [])


_WORD = re.compile(r"[^\W\d_]+")


def _words(texts: Iterable[str]) -> set[str]:
    return {word.lower() for text in texts for word in _WORD.findall(_PLACEHOLDER.sub(" ", text))}


@dataclass(frozen=True)
class Catalogue:
    # English source string -> the French the page should have shown instead.
    english: dict[str, str]
    # French translation -> the English source it translates.
    french: dict[str, str]


@cache
def french_catalogue(path: Path = FRENCH_PO) -> Catalogue:
    english: dict[str, str] = {}
    french: dict[str, str] = {}
    entries = [
        entry
        for entry in parse_po(path.read_text(encoding="utf-8"))
        if entry.msgid and not entry.obsolete
    ]
    for entry in entries:
        sources = _sources(entry)
        translations = [entry.msgstr.get(i, "") for i in range(len(sources))]
        for source, translation in zip(sources, translations, strict=True):
            source, translation = normalise(source), normalise(translation)
            if source == translation:
                continue  # the same word in both languages ("Notifications", "Badge")
            if _usable(source):
                # An empty or fuzzy translation shows the English source on a French page:
                # that is exactly what this set is for.
                english.setdefault(source, translation)
            if translation and not entry.fuzzy and _usable(translation):
                french.setdefault(translation, source)
    # "Date", "Message", "Publication", "Notifications": words of both languages. A string
    # made only of words the other language's side of the catalogue uses too proves
    # nothing, so each side is cleared of them.
    english_words = _words(source for entry in entries for source in _sources(entry))
    french_words = _words(text for entry in entries for text in entry.msgstr.values())
    return Catalogue(
        english={k: v for k, v in english.items() if not _words([k]) <= french_words},
        french={k: v for k, v in french.items() if not _words([k]) <= english_words},
    )
