"""RSS 2.0 and Atom 1.0 bytes from a Channel, with feedgen."""

from __future__ import annotations

import html
from typing import Any

from feedgen.ext.base import BaseExtension
from feedgen.feed import FeedGenerator
from feedgen.util import xml_elem

from newsletter import __version__
from newsletter.publish.model import Channel, Entry, Format, bare_media_type

ATOM_NS = "http://www.w3.org/2005/Atom"


class _RssHub(BaseExtension):  # type: ignore[misc]
    """feedgen writes only rel="self" into RSS; WebSub subscribers also look for rel="hub"."""

    def __init__(self) -> None:
        self.hub: str | None = None

    def extend_ns(self) -> dict[str, str]:
        return {"atom": ATOM_NS}

    def extend_rss(self, feed: Any) -> Any:
        if self.hub:
            channel = feed[0]
            xml_elem(f"{{{ATOM_NS}}}link", channel, href=self.hub, rel="hub")
        return feed


class _NoEntryExtension(BaseExtension):  # type: ignore[misc]
    pass


def _generator(channel: Channel, fmt: Format) -> FeedGenerator:
    fg = FeedGenerator()
    fg.load_extension("dc", atom=False, rss=True)
    fg.load_extension("media", atom=True, rss=True)
    fg.register_extension("websub", _RssHub, _NoEntryExtension, atom=False, rss=True)
    fg.id(channel.id)
    fg.title(channel.title)
    fg.description(channel.description or channel.title)
    fg.language(channel.language)
    fg.author({"name": channel.publisher})
    fg.generator("newsletter", version=__version__)
    fg.updated(channel.updated)
    if channel.hub_url:
        fg.link(href=channel.hub_url, rel="hub")
        fg.websub.hub = channel.hub_url
    fg.link(href=channel.url(fmt), rel="self", type=bare_media_type(fmt))
    # feedgen takes RSS's <link> from the last non-self link, so the page goes last.
    fg.link(href=channel.link, rel="alternate", type="text/html")
    if channel.logo_url:
        fg.logo(channel.logo_url)
        fg.image(url=channel.logo_url, title=channel.title, link=channel.link)
    for entry in channel.entries:
        _add_entry(fg, entry, channel, fmt)
    return fg


def _add_entry(fg: FeedGenerator, entry: Entry, channel: Channel, fmt: Format) -> None:
    fe = fg.add_entry(order="append")
    fe.id(entry.id)
    fe.title(entry.title)
    fe.link(href=entry.link, rel="alternate", type="text/html")
    fe.published(entry.published)
    fe.updated(max(entry.updated, entry.published))
    if entry.summary:
        # RSS readers take <description> as HTML: escaped, the plain teaser shows as written
        # ("AT&T;", "<b>"). Atom says its summary is text, so it carries the text itself.
        fe.summary(html.escape(entry.summary) if fmt == "rss" else entry.summary)
    if entry.content_html:
        fe.content(entry.content_html, type="html")
    if entry.author:
        fe.author({"name": entry.author})
        fe.dc.dc_creator(entry.author)
    for category in entry.categories:
        fe.category(term=category.term, label=category.label, scheme=f"{channel.site_url}/topics/")
    if entry.image_url:
        fe.media.content(url=entry.image_url, medium="image", group=None)


def render_rss(channel: Channel) -> bytes:
    fg = _generator(channel, "rss")
    body: bytes = fg.rss_str(pretty=True, encoding="UTF-8", xml_declaration=True)
    return body


def render_atom(channel: Channel) -> bytes:
    fg = _generator(channel, "atom")
    body: bytes = fg.atom_str(pretty=True, encoding="UTF-8", xml_declaration=True)
    return body
