"""What every public page's layout shows: the site, its organisation, its topics, its links."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from newsletter.catalog import topic_names
from newsletter.runtime import Runtime
from subscribers.cadence_sentence import offered_phrase
from subscribers.models import Cadence

log = logging.getLogger(__name__)

# Editors add and rename topics in the admin; the footer follows within this many seconds.
TOPICS_TTL = 30.0


class NavTopics:
    """The topics the footer lists, by name, read from the database at most every `ttl` s."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        ttl: float = TOPICS_TTL,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.sessions = sessions
        self.ttl = ttl
        self.monotonic = monotonic
        self._topics: list[tuple[str, str]] = []
        self._read_at: float | None = None
        self._lock = threading.Lock()

    def __call__(self) -> list[tuple[str, str]]:
        now = self.monotonic()
        if self._read_at is None or now - self._read_at >= self.ttl:
            try:
                with self.sessions() as session:
                    topics = list(topic_names(session).items())
            except OperationalError:
                # The footer is not worth a page: with the database down or locked, the page
                # (an error page too) shows the topics last read, and asks again next time.
                log.warning("topics for the footer unavailable; showing the last ones read")
                return self._topics
            with self._lock:
                self._topics, self._read_at = topics, now
        return self._topics


def layout_globals(runtime: Runtime) -> dict[str, Any]:
    """Template globals for web/base.html; a page's own context may still override them."""
    site = runtime.settings.site
    return {
        "site": site,
        "organization": runtime.settings.organization,
        "nav_topics": NavTopics(runtime.sessions),
        "privacy_href": str(site.privacy_url) if site.privacy_url else "/privacy",
        "nav": "",  # which main navigation item is this page (aria-current), if any
        # How often a reader may hear about a topic (offered, with labels); every one, for the
        # admin's counts of readers who chose one while it was offered.
        "cadences": runtime.cadences,
        "every_cadence": tuple(Cadence),
        # The signup text's promise: "once a week" unless more is offered.
        "how_often_offered": offered_phrase(runtime.cadences),
    }
