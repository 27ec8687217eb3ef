"""Bylines: "BY NAME, ROLE" from any source read as a properly cased name and a role."""

from __future__ import annotations

import re

from nameparser import HumanName
from nameparser.config import CONSTANTS

from newsletter.collect.text import clean_text

_BY = re.compile(r"^by\b[\s:]*", re.I)
# Between the name and the role: a comma, or a spaced dash or bar ("Jane Doe | Staff Writer").
_NAME_END = re.compile(r"\s*,\s*|\s+[|–—-]\s+")
# "A, B and C": more names, not a name and a role. Roles nearly always hold one of these words.
_ROLE_WORDS = re.compile(r"\b(?:of|at|for|the|in|on|to)\b", re.I)
_LIST_END = re.compile(r"\s(?:and|&)\s")
# An all-capitals opening of a text: BY, the name, optionally a role, then the text's first words.
_OPENING = re.compile(
    r"^BY\s+(?P<byline>[A-Z][A-Z.'’\- ]*?[A-Z.]"
    r"(?:\s*,\s*[A-Z0-9][A-Z0-9.,'’&/\- ]*?[A-Z0-9.])?)\s*[:—–-]?\s+(?=[A-Z\"“‘][a-z])"
)
_SMALL_WORDS = frozenset({"a", "an", "and", "at", "for", "in", "of", "on", "or", "the", "to"})
_SUFFIXES = CONSTANTS.suffix_acronyms | CONSTANTS.suffix_not_acronyms
NAME_LENGTH = ROLE_LENGTH = 300  # the columns' sizes


def parse_byline(text: str) -> tuple[str | None, str | None]:
    """(name, role) of a byline such as "BY GREG CHEN, DIRECTOR OF ADVOCACY, AILA".

    The name loses a leading "By" and, when it is all capitals, is cased as a name is
    ("McDonald", "O'Brien", "de la Cruz"); the role is what follows the first comma (or spaced
    dash or bar), title-cased when all capitals. A list of names ("A, B and C") stays one name.
    """
    text = _BY.sub("", clean_text(text))
    name, role = text, None
    parts = _NAME_END.split(text, maxsplit=1)
    if len(parts) == 2 and parts[1] and not _more_names(parts[1]):
        first, rest = parts
        if rest.strip(" .").lower() not in _SUFFIXES:
            name, role = first, rest.strip(" ,")
    name = proper_name(name.strip(" ,"))[:NAME_LENGTH]
    if not name:
        return None, None
    if role and role.isupper():
        role = _title_case(role)
    return name, role[:ROLE_LENGTH] if role else None


def split_byline(text: str) -> tuple[str | None, str | None, str]:
    """An upper-case "BY NAME, ROLE" opening split off a text: (name, role, rest)."""
    match = _OPENING.match(text)
    if not match:
        return None, None, text
    name, role = parse_byline(match["byline"])
    return name, role, text[match.end() :].strip()


def proper_name(name: str) -> str:
    """An all-capitals name cased as names are; any other casing is the author's own.

    One word in capitals stays so: more often an agency ("AP", "AFP") than a person.
    """
    if not name.isupper() or len(name.split()) < 2:
        return name
    parsed = HumanName(name)
    parsed.capitalize(force=True)
    cased = str(parsed)
    # nameparser may reorder parts it recognises (a nickname, "Last, First"): keep the order.
    if cased.lower().split() != name.lower().split():
        return _title_case(name)
    return cased


def join_names(names: list[str]) -> str | None:
    """Several authors as one byline that parse_byline reads as names: "A, B and C"."""
    names = [name for name in names if name]
    if len(names) < 2:
        return names[0] if names else None
    return ", ".join(names[:-1]) + " and " + names[-1]


def _more_names(rest: str) -> bool:
    return bool(_LIST_END.search(rest)) and not _ROLE_WORDS.search(rest)


def _title_case(text: str) -> str:
    words = text.lower().split()
    return " ".join(
        word if index and word in _SMALL_WORDS else word[:1].upper() + word[1:]
        for index, word in enumerate(words)
    )
