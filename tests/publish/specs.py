"""The feed specs' rules, checked the way a validator would, beside feedparser's reading."""

from __future__ import annotations

import json
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any

import feedparser
from lxml import etree

ATOM = "{http://www.w3.org/2005/Atom}"


def _rfc3339(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    assert parsed.tzinfo is not None, f"{value} has no offset"
    return parsed


def _xml_parse(body: bytes, version: str) -> Any:
    parsed = feedparser.parse(body)
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    assert parsed.version == version
    return parsed


def check_rss(body: bytes, self_url: str) -> Any:
    """RSS 2.0 with the RSS Advisory Board's profile: what the W3C validator warns about."""
    parsed = _xml_parse(body, "rss20")
    root = etree.fromstring(body)
    assert root.tag == "rss"
    assert root.get("version") == "2.0"
    channel = root.find("channel")
    for required in ("title", "link", "description", "language", "lastBuildDate"):
        assert (channel.findtext(required) or "").strip(), f"channel lacks {required}"
    parsedate_to_datetime(channel.findtext("lastBuildDate"))
    selfs = [e for e in channel.findall(f"{ATOM}link") if e.get("rel") == "self"]
    assert [e.get("href") for e in selfs] == [self_url]
    image = channel.find("image")
    if image is not None:
        assert image.findtext("title") == channel.findtext("title")
        assert image.findtext("link") == channel.findtext("link")
    guids = []
    for item in channel.findall("item"):
        assert item.findtext("title") or item.findtext("description")
        guid = item.find("guid")
        assert guid is not None
        assert guid.text
        guids.append(guid.text)
        # RSS's <author> must be an email address; names go in dc:creator.
        assert item.find("author") is None
        pub = item.findtext("pubDate")
        assert pub
        assert parsedate_to_datetime(pub).tzinfo is not None
    assert len(guids) == len(set(guids)), "guids repeat"
    return parsed


def check_atom(body: bytes, self_url: str) -> Any:
    """RFC 4287: ids, updated, authors (feed or entry), a self link, an alternate per entry."""
    parsed = _xml_parse(body, "atom10")
    root = etree.fromstring(body)
    assert root.tag == f"{ATOM}feed"
    for required in ("id", "title", "updated"):
        assert (root.findtext(f"{ATOM}{required}") or "").strip(), f"feed lacks {required}"
    _rfc3339(root.findtext(f"{ATOM}updated"))
    feed_has_author = root.find(f"{ATOM}author/{ATOM}name") is not None
    selfs = [e.get("href") for e in root.findall(f"{ATOM}link") if e.get("rel") == "self"]
    assert selfs == [self_url]
    ids = []
    for entry in root.findall(f"{ATOM}entry"):
        ids.append(entry.findtext(f"{ATOM}id"))
        assert (entry.findtext(f"{ATOM}title") or "").strip()
        updated = _rfc3339(entry.findtext(f"{ATOM}updated"))
        published = entry.findtext(f"{ATOM}published")
        if published:
            assert _rfc3339(published) <= updated
        assert feed_has_author or entry.find(f"{ATOM}author/{ATOM}name") is not None
        # RFC 4287 4.2.7.2: a link without rel is an alternate.
        links = entry.findall(f"{ATOM}link")
        alternates = [e for e in links if e.get("rel", "alternate") == "alternate"]
        assert len(alternates) == 1
        for text_construct in ("summary", "content", "title"):
            node = entry.find(f"{ATOM}{text_construct}")
            if node is not None:
                assert node.get("type", "text") in ("text", "html")
    assert all(i and ":" in i for i in ids)
    assert len(ids) == len(set(ids))
    return parsed


JSON_FEED_KEYS = {
    "version", "title", "home_page_url", "feed_url", "description", "user_comment",
    "next_url", "icon", "favicon", "authors", "language", "expired", "hubs", "items",
}  # fmt: skip
JSON_ITEM_KEYS = {
    "id", "url", "external_url", "title", "content_html", "content_text", "summary", "image",
    "banner_image", "date_published", "date_modified", "authors", "tags", "language",
    "attachments",
}  # fmt: skip


def check_json(body: bytes, self_url: str) -> dict[str, Any]:
    """JSON Feed 1.1: required fields and their types, RFC 3339 dates, unique ids."""
    feed = json.loads(body.decode("utf-8"))
    assert feed["version"] == "https://jsonfeed.org/version/1.1"
    assert isinstance(feed["title"], str)
    assert feed["title"]
    assert feed["feed_url"] == self_url
    assert set(feed) <= JSON_FEED_KEYS, set(feed) - JSON_FEED_KEYS
    for author in feed.get("authors", []):
        assert isinstance(author["name"], str)
        assert author["name"]
    for hub in feed.get("hubs", []):
        assert isinstance(hub["type"], str)
        assert isinstance(hub["url"], str)
    ids = []
    for item in feed["items"]:
        assert set(item) <= JSON_ITEM_KEYS, set(item) - JSON_ITEM_KEYS
        assert isinstance(item["id"], str)
        assert item["id"]
        ids.append(item["id"])
        assert "content_html" in item or "content_text" in item
        for key in ("date_published", "date_modified"):
            if key in item:
                _rfc3339(item[key])
        assert all(isinstance(tag, str) for tag in item.get("tags", []))
    assert len(ids) == len(set(ids))
    return feed


CHECKS = {"rss": check_rss, "atom": check_atom, "json": check_json}
