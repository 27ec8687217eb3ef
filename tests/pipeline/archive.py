"""What the archive feed lists, as a reader's feed reader would see it."""

from __future__ import annotations

import feedparser

from newsletter.publish import store
from newsletter.runtime import Runtime

ARCHIVE = "/archive/feed.xml"


def archive_links(runtime: Runtime) -> list[str]:
    """The issue links in the stored archive feed; none when it was never built."""
    with runtime.sessions() as session:
        document = store.load(session, ARCHIVE)
    if document is None:
        return []
    return [entry.link for entry in feedparser.parse(document.body).entries]
