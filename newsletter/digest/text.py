"""Plain-text helpers for the digest: short teasers, 78-column wrapping, readable dates."""

from __future__ import annotations

import re
import textwrap
from datetime import datetime
from zoneinfo import ZoneInfo

WIDTH = 78
_SPACE = re.compile(r"\s+")


def squash(text: str) -> str:
    """One line: runs of whitespace (newlines too) become one space."""
    return _SPACE.sub(" ", text).strip()


def shorten(text: str, limit: int) -> str:
    """At most about `limit` characters, cut between words and ended with "…".

    A word is never cut, however long: the first word is always kept whole.
    """
    text = squash(text)
    if len(text) <= limit:
        return text
    kept: list[str] = []
    length = 0
    for word in text.split(" "):
        if kept and length + 1 + len(word) > limit:
            break
        kept.append(word)
        length += len(word) + (1 if len(kept) > 1 else 0)
    cut = " ".join(kept)
    if len(kept) == len(text.split(" ")):
        return cut
    return cut.rstrip(".,;:–—-… ") + "…"


def wrap(text: str, width: int = WIDTH, indent: str = "") -> str:
    """Paragraphs wrapped at `width` columns; long words and URLs stay whole on their own line."""
    paragraphs = [squash(part) for part in re.split(r"\n\s*\n", text)]
    return "\n\n".join(
        textwrap.fill(
            paragraph,
            width=width,
            initial_indent=indent,
            subsequent_indent=indent,
            break_long_words=False,
            break_on_hyphens=False,
        )
        for paragraph in paragraphs
        if paragraph
    )


def long_date(moment: datetime, zone: ZoneInfo) -> str:
    """ "May 2, 2023", in the site's zone (no locale-dependent strftime)."""
    local = moment.astimezone(zone)
    return f"{local:%B} {local.day}, {local.year}"


def rule(char: str = "-") -> str:
    return char * WIDTH
