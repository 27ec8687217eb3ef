"""Built feeds held in memory by a web process, checked against the database once a second."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from newsletter.publish import store
from newsletter.publish.store import Document

# Another process may rebuild a feed at any time; a second is as stale as a reader can see.
REVALIDATE_AFTER = 1.0


@dataclass
class _Held:
    document: Document
    checked: float


class FeedCache:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        revalidate_after: float = REVALIDATE_AFTER,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.sessions = sessions
        self.revalidate_after = revalidate_after
        self.monotonic = monotonic
        self._held: dict[str, _Held] = {}
        self._lock = threading.Lock()

    def fresh(self, path: str) -> Document | None:
        """The held document when it was checked recently; never touches the database."""
        held = self._held.get(path)
        if held is not None and self.monotonic() - held.checked < self.revalidate_after:
            return held.document
        return None

    def get(self, path: str) -> Document | None:
        """The current document: the held one if the database's ETag still matches it."""
        document = self.fresh(path)
        if document is not None:
            return document
        now = self.monotonic()
        held = self._held.get(path)
        with self.sessions() as session:
            if held is not None and store.current_etag(session, path) == held.document.etag:
                document = held.document
            else:
                document = store.load(session, path)
        with self._lock:
            if document is None:
                self._held.pop(path, None)
            else:
                self._held[path] = _Held(document, now)
        return document
