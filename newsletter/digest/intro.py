"""The editor's intro: Markdown to HTML, sanitised by nh3, links to our hosts tracked."""

from __future__ import annotations

from collections.abc import Callable

import nh3
from markdown_it import MarkdownIt
from markdown_it.token import Token

from newsletter.digest.words import breakable

# Raw HTML in the Markdown is shown as text, and nh3 still cleans what Markdown itself makes.
MARKDOWN = MarkdownIt("commonmark", {"html": False, "typographer": True}).enable("replacements")
SCHEMES = frozenset({"http", "https", "mailto"})
_TAGS = {"p", "br", "a", "strong", "em", "ul", "ol", "li", "blockquote", "h2", "h3", "code"}
_ATTRIBUTES = {"a": {"href", "title"}}


def _break_long_words(tokens: list[Token]) -> None:
    """Break opportunities in the visible text only; link targets stay as written."""
    for token in tokens:
        if token.type in {"code_block", "fence"}:
            token.content = breakable(token.content)
        for child in token.children or ():
            if child.type in {"text", "code_inline"}:
                child.content = breakable(child.content)


def to_html(source: str, track: Callable[[str], str] = lambda url: url) -> str:
    tokens = MARKDOWN.parse(source)
    _break_long_words(tokens)
    rendered = MARKDOWN.renderer.render(tokens, MARKDOWN.options, {})

    def _filter(tag: str, attribute: str, value: str) -> str | None:
        if tag == "a" and attribute == "href":
            return track(value)
        return value

    return nh3.clean(
        rendered,
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        url_schemes=set(SCHEMES),
        link_rel="noopener",
        attribute_filter=_filter,
    )
