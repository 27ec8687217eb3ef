"""Make stored text fit for feeds: no XML-forbidden characters, one-line text, safe HTML."""

from __future__ import annotations

import re

import nh3

# XML 1.0 allows tab, newline and carriage return below U+0020, nothing in the surrogate
# range, and neither U+FFFE nor U+FFFF; lxml refuses them and JSON readers choke on some.
_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")
_SPACE = re.compile(r"\s+")
SUMMARY_LIMIT = 1000


def xml_safe(text: str) -> str:
    """The text without characters XML 1.0 cannot carry (DEL too: validators warn on it)."""
    return _FORBIDDEN.sub("", text)


def line(text: str) -> str:
    """Configured plain text (a site or topic name) made XML-safe, on one line."""
    return _SPACE.sub(" ", xml_safe(text)).strip()


def summary(text: str, limit: int = SUMMARY_LIMIT) -> str:
    """A summary of plain text (a stored teaser), no longer than `limit`, cut at a word.

    Teasers are stored as the text a reader sees: "<b>" and "AT&T;" in one are words, not
    markup, so nothing here strips or decodes them.
    """
    flat = line(text)
    if len(flat) <= limit:
        return flat
    cut = flat[: limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:.-–—") + "…"


def safe_html(fragment: str) -> str:
    """Sanitised HTML: nh3's allow-list, links opened without referrer leaks."""
    return xml_safe(nh3.clean(xml_safe(fragment), link_rel="noopener noreferrer")).strip()
