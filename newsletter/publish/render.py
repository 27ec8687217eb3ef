"""One Channel to the bytes of each of its formats: the pure core of publishing."""

from __future__ import annotations

from collections.abc import Callable

from newsletter.publish.jsonfeed import render_json
from newsletter.publish.model import Channel, Format
from newsletter.publish.xmlfeeds import render_atom, render_rss

RENDERERS: dict[Format, Callable[[Channel], bytes]] = {
    "rss": render_rss,
    "atom": render_atom,
    "json": render_json,
}


def render(channel: Channel) -> dict[Format, bytes]:
    """The bytes of every format the channel offers."""
    return {fmt: RENDERERS[fmt](channel) for fmt in channel.formats}
