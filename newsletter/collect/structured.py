"""Items a page declares itself: schema.org JSON-LD, then h-entry, then OpenGraph."""

from __future__ import annotations

import json
from typing import Any

from newsletter.collect.byline import join_names
from newsletter.collect.item import RawItem
from newsletter.collect.text import as_html, shown

ARTICLE_TYPES = frozenset(
    {
        "Article",
        "NewsArticle",
        "BlogPosting",
        "Report",
        "AnalysisNewsArticle",
        "ReportageNewsArticle",
    }
)


def items(doc: Any) -> list[RawItem]:
    return json_ld(doc) or h_entries(doc) or open_graph(doc)


def json_ld(doc: Any) -> list[RawItem]:
    found: list[RawItem] = []
    for script in doc.cssselect('script[type="application/ld+json"]'):
        try:
            data = json.loads(script.text_content())
            nodes = _walk(data)
        except (ValueError, RecursionError):
            continue  # one broken (or absurdly nested) block should not hide the others
        found.extend(_ld_item(node) for node in nodes)
    return found


def _walk(data: Any) -> list[dict[str, Any]]:
    """Articles anywhere in a JSON-LD block: top level, @graph, ItemList elements."""
    if isinstance(data, list):
        return [node for part in data for node in _walk(part)]
    if not isinstance(data, dict):
        return []
    kinds = data.get("@type")
    kinds = set(kinds) if isinstance(kinds, list) else {kinds}
    if kinds & ARTICLE_TYPES:
        return [data]
    nested: list[dict[str, Any]] = []
    for key in ("@graph", "itemListElement", "item", "mainEntity", "hasPart"):
        if key in data:
            nested.extend(_walk(data[key]))
    return nested


def _ld_item(node: dict[str, Any]) -> RawItem:
    image = node.get("image")
    if isinstance(image, list):
        image = image[0] if image else None
    image_url = image.get("url") if isinstance(image, dict) else image
    about = node.get("articleSection") or node.get("keywords") or []
    if isinstance(about, str):
        about = [part.strip() for part in about.split(",")]
    elif not isinstance(about, list):
        about = []
    # schema.org's Text values are plain text.
    return RawItem(
        title=as_html(_text(node.get("headline") or node.get("name"))),
        link=_text(node.get("url") or node.get("@id")),
        guid=_text(node.get("@id")),
        excerpt_html=as_html(_text(node.get("description"))),
        content_html=as_html(_text(node.get("articleBody"))),
        author=as_html(_name(node.get("author"))),
        published=_text(node.get("datePublished")),
        updated=_text(node.get("dateModified")),
        categories=[as_html(text) or "" for part in about if (text := _text(part))],
        image_url=_text(image_url),
    )


def _name(author: Any) -> str | None:
    if isinstance(author, list):
        return join_names([name for one in author if (name := _name(one))])
    if isinstance(author, dict):
        return _text(author.get("name"))
    return _text(author)


def _text(value: Any) -> str | None:
    return str(value) if isinstance(value, str | int | float) and str(value) else None


def h_entries(doc: Any) -> list[RawItem]:
    found: list[RawItem] = []
    for entry in doc.cssselect(".h-entry"):
        name = _first(entry, ".p-name")
        url = _first(entry, "a.u-url, .u-url[href], .p-name a[href]")
        summary = _first(entry, ".p-summary") or _first(entry, ".e-content")
        published = _first(entry, ".dt-published")
        author = _first(entry, ".p-author")
        photo = _first(entry, "img.u-photo, .u-featured")
        found.append(
            RawItem(
                title=shown(name),
                link=url.get("href") if url is not None else None,
                excerpt_html=shown(summary),
                author=shown(author),
                published=(published.get("datetime") or published.text_content())
                if published is not None
                else None,
                categories=[shown(node) or "" for node in entry.cssselect(".p-category")],
                image_url=photo.get("src") if photo is not None else None,
                image_alt=photo.get("alt") if photo is not None else None,
            )
        )
    return found


def open_graph(doc: Any) -> list[RawItem]:
    """A page that is itself one article says so in its og: and article: meta tags."""
    meta = {
        str(node.get("property") or node.get("name")): str(node.get("content") or "")
        for node in doc.cssselect("meta[property], meta[name]")
    }
    if meta.get("og:type") != "article" or not meta.get("og:title"):
        return []
    section = as_html(meta.get("article:section"))
    return [
        RawItem(
            title=as_html(meta.get("og:title")),
            link=meta.get("og:url"),
            excerpt_html=as_html(meta.get("og:description") or meta.get("description")),
            author=as_html(meta.get("article:author") or meta.get("author")),
            published=meta.get("article:published_time"),
            updated=meta.get("article:modified_time"),
            categories=[section] if section else [],
            image_url=meta.get("og:image"),
            image_alt=meta.get("og:image:alt"),
        )
    ]


def _first(node: Any, selector: str) -> Any:
    found = node.cssselect(selector)
    return found[0] if found else None
