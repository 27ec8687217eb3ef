"""A fast path for plain RSS 2.0: lxml reads it, feedparser's own rules shape each value.

feedparser spends most of a collect run in its SAX callbacks. For the common case, a well-formed
UTF-8 RSS 2.0 document whose items use only the usual elements, this module builds the same
RawItem values from an lxml tree, applying each rule feedparser applies: the few small ones are
written here (feedparser keeps them private), HTML goes through its public resolve_relative_uris
and dates through newsletter.collect.dates. Anything else returns None and feedparser reads the
document: other versions and formats, DOCTYPEs, xml:base, other encodings, unusual elements or
orderings. tests/collect/test_rss_fast_path.py holds both parsers to the same output.
"""

from __future__ import annotations

import contextlib
import html.entities
import re
import urllib.parse
from datetime import datetime

from feedparser.urls import resolve_relative_uris
from lxml import etree

from newsletter.collect.dates import parse_date
from newsletter.collect.item import RawItem
from newsletter.collect.text import as_html

_CONTENT = "{http://purl.org/rss/1.0/modules/content/}encoded"
_CREATOR = "{http://purl.org/dc/elements/1.1/}creator"
# Item elements feedparser keeps nothing of that a RawItem carries.
_IGNORED = frozenset(
    {
        "comments",
        "{http://wellformedweb.org/CommentAPI/}commentRss",
        "{http://purl.org/rss/1.0/modules/slash/}comments",
    }
)
_READ = frozenset({"title", "link", "guid", "description", "pubDate", _CONTENT, _CREATOR})
_XML_TYPES = ("application/rss+xml", "application/xml", "text/xml", "application/x-rss+xml")
_DECLARED = re.compile(rb"^<\?xml[^>]*encoding=[\"']([^\"']+)[\"']")
_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, recover=False, remove_comments=True
)
_ENTITY = re.compile("&([A-Za-z0-9_]+);")
# What feedparser maps C1 controls to (text that was cp1252 read as Latin-1): cp1252 itself.
_CP1252 = {
    code: bytes([code]).decode("cp1252")
    for code in range(0x80, 0xA0)
    if code not in (0x81, 0x8D, 0x8F, 0x90, 0x9D)  # undefined in cp1252: left alone
}
_URI_SLASHES = re.compile("^([A-Za-z][A-Za-z0-9+-.]*://)(/*)(.*?)")
# The tags feedparser lets a plain-text title hold and still call it HTML (its sanitiser's list).
_TAG_NAMES = """
    a abbr acronym address area article aside audio b big blockquote br button canvas caption
    center cite code col colgroup command datagrid datalist dd del details dfn dialog dir div dl
    dt em event-source fieldset figcaption figure font footer form h1 h2 h3 h4 h5 h6 header hr i
    img input ins kbd keygen label legend li m map menu meter multicol nav nextid noscript ol
    optgroup option output p pre progress q s samp section select small sound source spacer span
    strike strong sub sup table tbody td textarea tfoot th thead time tr tt u ul var video
"""
_HTML_TAGS = frozenset(_TAG_NAMES.split())


class _Unusual(Exception):
    """Something feedparser handles in ways this path does not copy: let it read the feed."""


def parse(content: bytes, url: str, headers: dict[str, str]) -> list[RawItem] | None:
    """The items of a plain RSS 2.0 document exactly as feedparser gives them, or None."""
    headers = {key.lower(): value for key, value in headers.items()}
    if not _plain_utf8(content, headers):
        return None
    try:
        root = etree.fromstring(content, _PARSER)
    except etree.XMLSyntaxError:
        return None
    if root.tag != "rss" or root.get("version") != "2.0" or root.getroottree().docinfo.doctype:
        return None
    channels = [child for child in root if child.tag == "channel"]
    if len(channels) != 1 or len(root) != 1:
        return None
    base = headers.get("content-location", url)  # feedparser's base for a document it is given
    try:
        if any(
            key.startswith("{http://www.w3.org/XML/1998/namespace}base") for key in _attrs(root)
        ):
            raise _Unusual
        return [_item(element, base) for element in channels[0] if element.tag == "item"]
    except _Unusual:
        return None


def _attrs(root: etree._Element) -> list[str]:
    return [str(key) for element in root.iter() for key in element.attrib]


def _plain_utf8(content: bytes, headers: dict[str, str]) -> bool:
    kind = headers.get("content-type", "")
    if kind:
        media, _, params = kind.partition(";")
        charset = params.partition("charset=")[2].strip().strip("\"'").lower()
        if media.strip().lower() not in _XML_TYPES or charset not in ("", "utf-8", "utf8"):
            return False
    if content.startswith((b"\xef\xbb\xbf", b"\xfe\xff", b"\xff\xfe")) or b"<!DOCTYPE" in content:
        return False
    declared = _DECLARED.match(content)
    if declared and declared.group(1).lower() not in (b"utf-8", b"utf8"):
        return False
    try:
        content.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _item(item: etree._Element, base: str) -> RawItem:
    values: dict[str, str] = {}
    categories: list[str] = []
    guid_is_link = False
    for child in item:
        tag = child.tag
        if not isinstance(tag, str) or len(child) or tag in _IGNORED:
            if isinstance(tag, str) and tag not in _IGNORED:
                raise _Unusual  # markup inside an element, not escaped as text
            continue
        if tag == "category":
            if child.attrib:
                raise _Unusual
            term = _text((child.text or "").strip())
            if not term:
                raise _Unusual
            categories.append(as_html(term) or "")
            continue
        if tag not in _READ or tag in values or (child.attrib and tag != "guid"):
            raise _Unusual
        if tag == _CONTENT and "description" not in values and _has(item, "description"):
            raise _Unusual  # content before description changes what feedparser calls summary
        if tag == "guid":
            if set(child.attrib) - {"isPermaLink"}:
                raise _Unusual
            guid_is_link = child.get("isPermaLink", "true") == "true"
        values[tag] = child.text or ""
    return _build(values, categories, guid_is_link, base)


def _has(item: etree._Element, tag: str) -> bool:
    return any(child.tag == tag for child in item)


def _build(values: dict[str, str], categories: list[str], guid_is_link: bool, base: str) -> RawItem:
    link = _link(values["link"], base) if "link" in values else None
    guid = None
    if "guid" in values:
        guid = values["guid"].strip()
        if guid_is_link and guid:
            guid = _urljoin(base, guid)
        guid = _text(guid)
        if link is None and guid_is_link:
            link = guid
    title = None
    if "title" in values:
        title = values["title"].strip()
        if _looks_like_html(title):
            title = _text(resolve_relative_uris(title, base, "utf-8", "text/html"))
        else:
            title = as_html(_text(title))
    summary = _html(values["description"], base) if "description" in values else None
    content = _html(values[_CONTENT], base) if _CONTENT in values else None
    if summary is None and content is not None:
        summary = content
    author = None
    if _CREATOR in values:
        author = values[_CREATOR].strip()
        if "@" in author or "(" in author:
            raise _Unusual  # feedparser reads an address and a name out of it
        author = as_html(_text(author)) or None
    return RawItem(
        title=title,
        link=link,
        guid=guid,
        excerpt_html=summary,
        content_html=content,
        author=author,
        published=_date(values["pubDate"]) if "pubDate" in values else None,
        categories=categories,
    )


def _link(text: str, base: str) -> str:
    output = text.strip()
    if output:
        output = _urljoin(base, output)
    output = _text(output).replace("&amp;", "&")
    return _ENTITY.sub(r"&\g<1>", output)


def _html(text: str, base: str) -> str:
    output = text.strip()
    return _text(resolve_relative_uris(output, base, "utf-8", "text/html"))


def _text(output: str) -> str:
    """feedparser's last steps for every value: undo UTF-8 read as Latin-1, map cp1252."""
    with contextlib.suppress(UnicodeEncodeError, UnicodeDecodeError):
        output = output.encode("iso-8859-1").decode("utf-8")
    return output.translate(_CP1252)


def _date(text: str) -> datetime | str | None:
    value = _text(text.strip())
    return parse_date(text, value) or value or None


def _urljoin(base: str, uri: str) -> str:
    """feedparser's join: extra slashes after the scheme dropped, an unjoinable URI empty."""
    uri = _URI_SLASHES.sub(r"\1\3", uri)
    try:
        return urllib.parse.urljoin(base, uri)
    except ValueError:
        return ""


def _looks_like_html(text: str) -> bool:
    """feedparser's guess that a plain-text title is HTML after all."""
    if not (re.search(r"</(\w+)>", text) or re.search(r"&#?\w+;", text)):
        return False
    if any(tag.lower() not in _HTML_TAGS for tag in re.findall(r"</?(\w+)", text)):
        return False
    return all(name in html.entities.entitydefs for name in re.findall(r"&(\w+);", text))
