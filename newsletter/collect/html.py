"""HTML listing pages: per-source CSS selectors, else the page's own structured data."""

from __future__ import annotations

from typing import Any
from urllib.parse import urljoin

import httpx
import lxml.html
from cssselect import SelectorError
from lxml import etree

from newsletter.collect import structured
from newsletter.collect.fetch import Fetched, Fetcher
from newsletter.collect.guard import origin
from newsletter.collect.item import Harvest, RawItem
from newsletter.collect.text import as_html, shown
from newsletter.config import CollectSettings, SelectorSettings
from newsletter.errors import CollectError, SourceFormatError

HTML_TYPES = ("text/html", "application/xhtml+xml")
ACCEPT = "text/html, application/xhtml+xml;q=0.9, */*;q=0.1"


def read(
    fetcher: Fetcher,
    url: str,
    etag: str | None,
    last_modified: str | None,
    selectors: SelectorSettings | None,
    max_pages: int,
) -> Harvest:
    """Page 1 (conditionally), then its "next" links up to max_pages."""
    first, harvest = fetcher.conditional(url, etag, last_modified, ACCEPT)
    if harvest.not_modified:
        return harvest
    items, next_url = parse(first, selectors)
    harvest.items.extend(items)
    seen = {first.url}
    # Pagination stays on the source: its configured host, or where page 1 was found.
    hosts = {_host(url), _host(first.url)}
    pages = 1
    while next_url and next_url not in seen and pages < max_pages:
        here: str = next_url
        if _host(here) not in hosts:
            harvest.problems.append((here, f"{here}: next page on another host, not followed"))
            break
        seen.add(here)
        pages += 1
        try:
            page = fetcher.get(here, accept=ACCEPT)
            items, next_url = parse(page, selectors)
        except CollectError as exc:
            # Page 1 is already in hand: keep it, and say what went wrong further on.
            harvest.problems.append((here, str(exc)))
            break
        harvest.items.extend(items)
    return harvest


def read_typed(
    settings: CollectSettings,
    url: str,
    selectors: SelectorSettings | None,
    fetcher: Fetcher | None = None,
) -> tuple[str, list[RawItem]]:
    """Page 1 of an address an editor typed: its host not trusted (unless the operator lists it
    in [collect] trusted_hosts), the collector's limits. Returns where it was found, its items."""
    own = fetcher is None
    fetcher = fetcher or Fetcher(settings)
    try:
        with fetcher.source(url, trusted=False):
            fetched = fetcher.get(url, accept=ACCEPT)
            items, _next = parse(fetched, selectors)
    finally:
        if own:
            fetcher.close()
    return fetched.url, items


def parse(fetched: Fetched, selectors: SelectorSettings | None) -> tuple[list[RawItem], str | None]:
    """The items on one page and the address of the next page, if it links one."""
    doc = document(fetched)
    if selectors is not None and selectors.item:
        items = _by_selectors(doc, selectors, fetched.url)
    else:
        items = structured.items(doc)
    for found in items:
        if found.link:
            found.link = urljoin(fetched.url, found.link)
        if found.image_url:
            found.image_url = urljoin(fetched.url, found.image_url)
    return items, _next_page(doc, fetched.url)


def document(fetched: Fetched) -> Any:
    """The parsed page; SourceFormatError when the answer is not an HTML page."""
    content = fetched.content
    sniff = content[:1024].lstrip().lower()
    looks_html = sniff.startswith((b"<!doctype html", b"<html", b"<?xml")) or b"<html" in sniff
    if fetched.content_type not in HTML_TYPES and not (fetched.content_type == "" and looks_html):
        kind = fetched.content_type or "no content type"
        raise SourceFormatError(f"{fetched.url}: not an HTML page ({kind})")
    if b"\x00" in content[:4096] or not content.strip():
        raise SourceFormatError(f"{fetched.url}: not an HTML page (binary or empty)")
    try:
        if fetched.charset:
            # A wrong or unknown declared charset costs a few replaced characters, not the page.
            try:
                text = content.decode(fetched.charset, errors="replace")
            except LookupError:
                text = content.decode("utf-8", errors="replace")
            return lxml.html.document_fromstring(text.encode("utf-8"), parser=_UTF8_PARSER)
        return lxml.html.document_fromstring(content)
    except (etree.ParserError, ValueError) as exc:
        raise SourceFormatError(f"{fetched.url}: unreadable HTML ({exc})") from None


_UTF8_PARSER = lxml.html.HTMLParser(encoding="utf-8")


def _by_selectors(doc: Any, selectors: SelectorSettings, url: str) -> list[RawItem]:
    try:
        nodes = doc.cssselect(selectors.item)
        return [_item(node, selectors) for node in nodes]
    except SelectorError as exc:
        raise SourceFormatError(
            f"{url}: bad CSS selector in the source's settings ({exc})"
        ) from None


def _item(node: Any, selectors: SelectorSettings) -> RawItem:
    title = _first(node, selectors.title)
    link_node = _first(node, selectors.link or selectors.title)
    teaser = _first(node, selectors.teaser)
    date = _first(node, selectors.date)
    author = _first(node, selectors.author)
    image = _first(node, selectors.image)
    return RawItem(
        title=shown(title),
        link=_href(link_node),
        excerpt_html=_inner_html(teaser) if teaser is not None else None,
        author=shown(author),
        published=_date_value(date),
        categories=[shown(topic) or "" for topic in _all(node, selectors.topic)],
        image_url=_image_src(image),
        image_alt=image.get("alt") if image is not None else None,
    )


def _first(node: Any, selector: str | None) -> Any:
    found = _all(node, selector)
    return found[0] if found else None


def _all(node: Any, selector: str | None) -> list[Any]:
    return list(node.cssselect(selector)) if selector else []


def _href(node: Any) -> str | None:
    if node is None:
        return None
    if node.get("href"):
        return str(node.get("href"))
    anchors = node.cssselect("a[href]")
    return str(anchors[0].get("href")) if anchors else None


def _image_src(node: Any) -> str | None:
    if node is None:
        return None
    if node.tag != "img":
        images = node.cssselect("img")
        node = images[0] if images else node
    src = node.get("src") or node.get("data-src")
    return str(src) if src else None


def _date_value(node: Any) -> str | None:
    if node is None:
        return None
    return str(node.get("datetime") or node.get("content") or node.text_content())


def _inner_html(node: Any) -> str:
    # node.text is already decoded: escaped again, as tostring() escapes the children's text.
    # As HTML: XML serialisation writes a control character as &#xFFFD;, a "�" for readers.
    parts = [as_html(node.text) or ""]
    parts.extend(etree.tostring(child, encoding="unicode", method="html") for child in node)
    return "".join(parts)


def _host(url: str) -> str | None:
    try:
        return origin(url)[0]
    except (httpx.InvalidURL, ValueError, UnicodeError):
        return None


def _next_page(doc: Any, url: str) -> str | None:
    for node in doc.cssselect("link[rel~=next], a[rel~=next]"):
        if node.get("href"):
            return urljoin(url, str(node.get("href"))).split("#")[0]
    return None
