"""Public pages built from the database once per change, then served from memory like feeds.

A page is held with the ETags of the feeds it shows (the home page the site feed, a topic page
its topic's feed): while those are unchanged the page is, so a story shared widely costs one
build, then a dictionary lookup per reader, with ETag, 304 and gzip made once per version.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from newsletter.publish.cache import FeedCache
from newsletter.publish.store import Document

MAX_PAGES = 1000  # topic pages and the home page: a bound, not an expectation


@dataclass(frozen=True)
class _Held:
    sources: tuple[str | None, ...]  # the source feeds' ETags when the page was built
    document: Document


class PageCache:
    def __init__(self) -> None:
        self._held: dict[str, _Held] = {}
        self._lock = threading.Lock()

    def fresh(self, path: str, feeds: FeedCache, sources: tuple[str, ...]) -> Document | None:
        """The held page while every source feed is fresh in memory and unchanged; no I/O."""
        held = self._held.get(path)
        if held is None:
            return None
        now = []
        for source in sources:
            document = feeds.fresh(source)
            if document is None:
                return None  # the feed must be revalidated first: the route does it
            now.append(document.etag)
        return held.document if tuple(now) == held.sources else None

    def get(self, path: str, etags: tuple[str | None, ...]) -> Document | None:
        held = self._held.get(path)
        return held.document if held is not None and held.sources == etags else None

    def put(self, path: str, etags: tuple[str | None, ...], document: Document) -> None:
        with self._lock:
            if len(self._held) >= MAX_PAGES and path not in self._held:
                self._held.clear()
            self._held[path] = _Held(etags, document)
