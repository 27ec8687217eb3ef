"""Feed sources: RSS 0.9x/1.0/2.0, Atom and JSON Feed, read with feedparser."""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple

import feedparser

from newsletter.collect import bozo, jsonfeed, rss
from newsletter.collect.dates import from_struct
from newsletter.collect.fetch import Fetcher
from newsletter.collect.item import Harvest, RawItem
from newsletter.collect.text import as_html
from newsletter.errors import SourceFormatError

ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, application/json;q=0.9, "
    "application/xml;q=0.8, text/xml;q=0.8, */*;q=0.1"
)


def read(fetcher: Fetcher, url: str, etag: str | None, last_modified: str | None) -> Harvest:
    fetched, harvest = fetcher.conditional(url, etag, last_modified, ACCEPT)
    if harvest.not_modified:
        return harvest
    parsed = parse(fetched.content, fetched.url, dict(fetched.headers))
    harvest.items = parsed.items
    if parsed.error:
        harvest.problems.append((fetched.url, parsed.error))
    if parsed.warning:
        harvest.warnings.append(parsed.warning)
    return harvest


class Parsed(NamedTuple):
    """A feed's entries; error when some may be missing, warning when it was only untidy."""

    items: list[RawItem]
    error: str | None = None
    warning: str | None = None


def parse(content: bytes, url: str, headers: dict[str, str] | None = None) -> Parsed:
    """The entries of a feed document, and what was wrong with it if it was malformed.

    SourceFormatError when it is not a feed at all.
    """
    if jsonfeed.looks_like(content):
        return Parsed(jsonfeed.parse(content, url))
    # feedparser looks headers up by their lower-case names.
    given = {key.lower(): value for key, value in (headers or {}).items()}
    response_headers = {"content-location": url, **given}
    fast = rss.parse(content, url, response_headers)
    if fast is not None:
        return Parsed(fast)
    # nh3 sanitises later, once, the same way for every kind of source.
    parsed = feedparser.parse(
        content,
        response_headers=response_headers,
        sanitize_html=False,
        resolve_relative_uris=True,
    )
    if not parsed.entries and (parsed.bozo or not parsed.version):
        problem = parsed.get("bozo_exception") or "no RSS, Atom or JSON Feed document found"
        raise SourceFormatError(f"{url}: not a readable feed: {_one_line(problem)}")
    items = [_item(entry) for entry in parsed.entries]
    exception = parsed.get("bozo_exception") if parsed.bozo else None
    match bozo.severity(exception, content, response_headers):
        case "error":
            why = _one_line(exception)
            return Parsed(items, error=f"{url}: malformed feed, read what could be read: {why}")
        case "warning":
            return Parsed(items, warning=f"{url}: read in full, but {bozo.describe(exception)}")
    return Parsed(items)


_HTML_TYPES = ("text/html", "application/xhtml+xml")


def _item(entry: Any) -> RawItem:
    content = entry.get("content") or []
    image_url, image_alt = _image(entry)
    return RawItem(
        title=_html(entry.get("title"), entry.get("title_detail")),
        link=entry.get("link"),
        guid=entry.get("id"),
        excerpt_html=_html(entry.get("summary"), entry.get("summary_detail")),
        content_html=_html(content[0].get("value"), content[0]) if content else None,
        # feedparser gives names and terms as plain text.
        author=as_html(entry.get("author")),
        published=_when(entry, "published") or _when(entry, "created"),
        updated=_when(entry, "updated"),
        categories=[as_html(tag.get("term")) or "" for tag in entry.get("tags") or []],
        image_url=image_url,
        image_alt=image_alt,
    )


def _html(value: str | None, detail: Any) -> str | None:
    """A text construct as HTML: escaped when feedparser says it is plain text."""
    kind = detail.get("type") if isinstance(detail, dict) else None
    return value if kind in (None, *_HTML_TYPES) else as_html(value)


def _when(entry: Any, key: str) -> datetime | str | None:
    # dict.get: feedparser's own get() maps updated to published, with a warning.
    struct = dict.get(entry, f"{key}_parsed")
    if struct is not None:
        return from_struct(struct)  # feedparser hands back UTC as a struct_time
    text = dict.get(entry, key)
    return str(text) if text else None


def _image(entry: Any) -> tuple[str | None, str | None]:
    for media in (*(entry.get("media_content") or []), *(entry.get("media_thumbnail") or [])):
        if media.get("url") and media.get("medium", "image") == "image":
            return str(media["url"]), None
    for link in entry.get("links") or []:
        if link.get("rel") == "enclosure" and str(link.get("type", "")).startswith("image/"):
            return str(link.get("href")), None
    image = entry.get("image")
    if isinstance(image, dict) and image.get("href"):
        return str(image["href"]), None
    return None, None


def _one_line(problem: object) -> str:
    return " ".join(str(problem).split())[:300]
