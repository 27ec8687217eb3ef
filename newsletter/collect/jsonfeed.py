"""JSON Feed 1.0 and 1.1 items (feedparser 6 reads only XML feeds)."""

from __future__ import annotations

from typing import Any

from newsletter.collect import jsondoc
from newsletter.collect.byline import join_names
from newsletter.collect.item import RawItem
from newsletter.collect.text import as_html
from newsletter.errors import SourceFormatError


def looks_like(content: bytes) -> bool:
    return content.lstrip()[:1] == b"{"


def parse(content: bytes, url: str) -> list[RawItem]:
    data = jsondoc.load(content, f"{url}: not a readable feed")
    version = data.get("version", "") if isinstance(data, dict) else ""
    if not str(version).startswith("https://jsonfeed.org/version/"):
        raise SourceFormatError(f"{url}: not a readable feed: JSON, but not a JSON Feed")
    items = data.get("items")
    if not isinstance(items, list):
        raise SourceFormatError(f"{url}: not a readable feed: JSON Feed without items")
    return [_item(item) for item in items if isinstance(item, dict)]


def _item(item: dict[str, Any]) -> RawItem:
    authors = item.get("authors") if isinstance(item.get("authors"), list) else []
    authors = authors or [item.get("author")]
    names = [str(a.get("name")) for a in authors if isinstance(a, dict) and a.get("name")]
    # Every field but content_html is plain text, and must not be read as HTML.
    content = _str(item.get("content_html")) or as_html(_str(item.get("content_text")))
    return RawItem(
        title=as_html(_str(item.get("title"))),
        link=_str(item.get("url")) or _str(item.get("external_url")),
        guid=_str(item.get("id")),
        excerpt_html=as_html(_str(item.get("summary"))),
        content_html=content,
        author=as_html(join_names(names)),
        published=_str(item.get("date_published")),
        updated=_str(item.get("date_modified")),
        categories=[as_html(tag) or "" for tag in _list(item.get("tags")) if isinstance(tag, str)],
        image_url=_str(item.get("image")) or _str(item.get("banner_image")),
    )


def _str(value: Any) -> str | None:
    return str(value) if isinstance(value, str | int) and str(value) else None


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []
