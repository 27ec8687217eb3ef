"""JSON Feed 1.1 bytes from the same Channel the XML feeds are built from."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from newsletter.publish.model import Channel, Entry

VERSION = "https://jsonfeed.org/version/1.1"


def _date(value: datetime) -> str:
    return value.isoformat(timespec="seconds")


def _item(entry: Entry) -> dict[str, Any]:
    item: dict[str, Any] = {"id": entry.id, "url": entry.link, "title": entry.title}
    # One of content_html and content_text is required; the teaser stands in when no body.
    if entry.content_html:
        item["content_html"] = entry.content_html
    else:
        item["content_text"] = entry.summary
    if entry.summary:
        item["summary"] = entry.summary
    if entry.image_url:
        item["image"] = entry.image_url
    item["date_published"] = _date(entry.published)
    item["date_modified"] = _date(max(entry.updated, entry.published))
    if entry.author:
        item["authors"] = [{"name": entry.author}]
    if entry.categories:
        item["tags"] = [category.label for category in entry.categories]
    return item


def render_json(channel: Channel) -> bytes:
    feed: dict[str, Any] = {
        "version": VERSION,
        "title": channel.title,
        "home_page_url": channel.link,
        "feed_url": channel.url("json"),
        "description": channel.description or channel.title,
        "language": channel.language,
        "authors": [{"name": channel.publisher}],
    }
    if channel.logo_url:
        feed["icon"] = channel.logo_url
    if channel.hub_url:
        feed["hubs"] = [{"type": "WebSub", "url": channel.hub_url}]
    feed["items"] = [_item(entry) for entry in channel.entries]
    return (json.dumps(feed, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
