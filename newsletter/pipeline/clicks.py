"""Following a mailed link: token → stored link → redirect, the click judged and queued.

The join of the digest's stored links with the analytics stage. Nothing here waits on the
database except the first look-up of a link, and that falls back to the site's home page.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from newsletter.analytics.behaviour import Behaviour, Hit
from newsletter.analytics.machines import request_verdict
from newsletter.analytics.queue import ClickQueue, Flusher
from newsletter.analytics.store import fold_events, write_hits
from newsletter.clicktokens import Click, read_click_token, read_reader_mark
from newsletter.digest.clicklinks import TRAP
from newsletter.errors import first_line
from newsletter.models import IssueLink
from newsletter.runtime import Runtime

log = logging.getLogger(__name__)

LINKS_KEPT = 20_000
# Read tokens kept: without per-subscriber marks every reader of a link sends the same token,
# so a burst after a send verifies a few dozen tokens thousands of times each.
TOKENS_KEPT = 20_000


@dataclass(frozen=True)
class Target:
    kind: str
    url: str


class ClickDesk:
    """Everything /r/ needs for one process: keys, a link cache, the judge and the queue."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        settings = runtime.settings.analytics
        self.home = runtime.settings.site.base_url + "/"
        self.keys = runtime.verification_keys
        self.per_subscriber = settings.per_subscriber
        window = timedelta(seconds=settings.burst_seconds)
        self.behaviour = Behaviour(settings.burst_links, window)
        self.queue = ClickQueue(settings.queue_size)
        self.flusher = Flusher(
            self.queue, self._write, runtime.clock.now, window, settings.flush_seconds
        )
        self._links: OrderedDict[tuple[int, int], Target] = OrderedDict()
        self._links_lock = threading.Lock()
        self._tokens: dict[str, Click] = {}

    def read(self, token: str) -> Click | None:
        """The link's click; with per-subscriber figures on, and a good mark, who made it."""
        link, _, mark = token.partition(".")
        click = self._tokens.get(link)
        if click is None:
            click = read_click_token(self.keys, link)
            if click is not None:  # only signed tokens: forgeries cannot fill the memory
                if len(self._tokens) >= TOKENS_KEPT:
                    self._tokens.clear()
                self._tokens[link] = click
        if click is None or not (mark and self.per_subscriber):
            return click
        reader = read_reader_mark(self.keys, click.issue_id, mark)
        return Click(click.issue_id, click.position, click.variant_id, reader)

    def cached(self, click: Click) -> Target | None:
        key = (click.issue_id, click.position)
        with self._links_lock:  # load() fills the cache from the thread pool
            target = self._links.get(key)
            if target is not None:
                self._links.move_to_end(key)
        return target

    def load(self, click: Click) -> Target | None:
        """The stored link (then cached); None for none, or when the database cannot say."""
        try:
            with self.runtime.sessions() as session:
                row = session.scalar(
                    select(IssueLink).where(
                        IssueLink.issue_id == click.issue_id,
                        IssueLink.position == click.position,
                    )
                )
        except SQLAlchemyError as exc:
            log.warning("link look-up failed, sent the reader home: %s", first_line(exc))
            return None
        if row is None:
            return None
        target = Target(row.kind, row.url if _web_url(row.url) else self.home)
        with self._links_lock:
            self._links[(click.issue_id, click.position)] = target
            while len(self._links) > LINKS_KEPT:
                self._links.popitem(last=False)
        return target

    def record(
        self,
        click: Click,
        target: Target | None,
        method: str,
        headers: Mapping[str, str],
        address: str,
    ) -> None:
        """Judge the request and queue it: never raises, never waits."""
        hit = Hit(
            issue_id=click.issue_id,
            position=click.position,
            variant_id=click.variant_id,
            at=self.runtime.clock.now(),
            verdict=request_verdict(method, headers),
            subscriber_id=click.subscriber_id if self.per_subscriber else None,
        )
        client = self.behaviour.client(address, headers.get("user-agent", ""))
        self.behaviour.judge(client, hit, trap=target is not None and target.kind == TRAP)
        self.queue.put(hit)

    def _write(self, hits: list[Hit]) -> None:
        with self.runtime.sessions.begin() as session:
            write_hits(session, hits)


def _web_url(url: str) -> bool:
    """Only http(s) targets: a stored link is ours, but a javascript: URL is never followed."""
    return urlsplit(url).scheme in ("http", "https")


def fold_old_clicks(runtime: Runtime) -> int:
    """Raw events past the retention period folded into the hourly counts and deleted."""
    days = runtime.settings.analytics.retention_days
    with runtime.sessions.begin() as session:
        return fold_events(session, runtime.clock.now() - timedelta(days=days))
