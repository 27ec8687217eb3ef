"""The plain data every feed format is rendered from: one channel and its entries."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

Format = Literal["rss", "atom", "json"]

# File name and media type of each format; a feed's path is its folder plus the file name.
FILES: dict[Format, str] = {"rss": "feed.xml", "atom": "atom.xml", "json": "feed.json"}
MEDIA_TYPES: dict[Format, str] = {
    "rss": "application/rss+xml; charset=utf-8",
    "atom": "application/atom+xml; charset=utf-8",
    "json": "application/feed+json; charset=utf-8",
}


def feed_path(folder: str, fmt: Format) -> str:
    return f"{folder}/{FILES[fmt]}"


def bare_media_type(fmt: Format) -> str:
    """The media type without its charset, as a link's type attribute names it."""
    return MEDIA_TYPES[fmt].split(";")[0]


@dataclass(frozen=True)
class Category:
    term: str  # the topic slug
    label: str  # the topic name


@dataclass(frozen=True)
class Entry:
    id: str  # permanent: a tag URI that survives edits to title, text and URL
    title: str  # plain text
    link: str
    summary: str  # plain text
    published: datetime
    updated: datetime
    content_html: str | None = None  # sanitised
    author: str | None = None
    categories: tuple[Category, ...] = ()
    image_url: str | None = None
    image_alt: str | None = None


@dataclass(frozen=True)
class Channel:
    """One feed's identity; `folder` is "" for the site, "/topics/SLUG" or "/archive"."""

    folder: str
    title: str
    link: str  # the HTML page the feed mirrors
    description: str
    language: str
    site_url: str  # no trailing slash
    publisher: str  # the feed-level author, so every Atom entry has one
    updated: datetime
    id: str
    logo_url: str | None = None
    hub_url: str | None = None
    formats: tuple[Format, ...] = ("rss", "atom", "json")
    entries: tuple[Entry, ...] = field(default_factory=tuple)

    def path(self, fmt: Format) -> str:
        return feed_path(self.folder, fmt)

    def url(self, fmt: Format) -> str:
        return self.site_url + self.path(fmt)
