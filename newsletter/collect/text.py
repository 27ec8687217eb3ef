"""Plain text from what sources give: entities decoded exactly once, control characters out."""

from __future__ import annotations

import html
import re
from typing import Any

import nh3

# Control characters (C0 but tab, newline, carriage return; DEL; C1) and what XML 1.0 forbids:
# a reader shows them as U+FFFD and the feed validator warns, so stored text never holds them.
# The line-breaking ones among them (VT, FF, NEL) become spaces, not nothing, so that the words
# either side stay apart.
_WHITESPACE_CONTROLS = re.compile("[\x0b\x0c\x85]")
_CONTROLS = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x84\x86-\x9f\ud800-\udfff\ufffe\uffff]")
_BLOCK_TAG = re.compile(
    r"<\s*/?\s*(?:p|div|br|li|ul|ol|h[1-6]|blockquote|tr|td|figcaption)\b[^>]*>", re.I
)
_SPACE = re.compile(r"\s+")


def without_controls(text: str) -> str:
    """Control characters dropped (the whitespace ones made spaces); tab and newline stay."""
    return _CONTROLS.sub("", _WHITESPACE_CONTROLS.sub(" ", text))


def clean_text(text: str) -> str:
    """One line of plain text: control characters out, whitespace folded."""
    return _SPACE.sub(" ", without_controls(text)).strip()


def html_to_text(fragment: str) -> str:
    """What a browser shows of an HTML fragment: tags (and script/style content) out, one line.

    Entities are decoded once, here: `&lt;b&gt;` is the text "<b>", `&amp;amp;` is "&amp;".
    """
    if "<" not in fragment and "&" not in fragment:
        return clean_text(fragment)
    spaced = _BLOCK_TAG.sub(" ", without_controls(fragment))
    # nh3 parses the fragment (decoding it) and escapes the text again: one unescape decodes it.
    stripped = nh3.clean(spaced, tags=set(), attributes={})
    return clean_text(html.unescape(stripped))


def as_html(text: str | None) -> str | None:
    """A plain-text value as the HTML fragment a RawItem's text fields hold (see item.py)."""
    return None if text is None else html.escape(text, quote=False)


def shown(element: Any) -> str | None:
    """What a browser shows of a parsed HTML element, as the HTML a RawItem's fields hold."""
    return as_html(element.text_content()) if element is not None else None
