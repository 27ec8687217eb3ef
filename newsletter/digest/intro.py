"""The editor's intro: Markdown to HTML, sanitised by nh3, links to our hosts tracked."""

from __future__ import annotations

from collections.abc import Callable

import nh3
from markdown_it import MarkdownIt

# Raw HTML in the Markdown is shown as text, and nh3 still cleans what Markdown itself makes.
_MARKDOWN = MarkdownIt("commonmark", {"html": False, "typographer": True}).enable("replacements")
_TAGS = {"p", "br", "a", "strong", "em", "ul", "ol", "li", "blockquote", "h2", "h3", "code"}
_ATTRIBUTES = {"a": {"href", "title"}}


def to_html(source: str, track: Callable[[str], str] = lambda url: url) -> str:
    rendered = _MARKDOWN.render(source)

    def _filter(tag: str, attribute: str, value: str) -> str | None:
        if tag == "a" and attribute == "href":
            return track(value)
        return value

    return nh3.clean(
        rendered,
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener",
        attribute_filter=_filter,
    )
