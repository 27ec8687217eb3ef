"""Tell a WebSub hub that feeds changed (hub.mode=publish), with retries, off the caller's path."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import Protocol

import httpx

from newsletter.collect.guard import guarded_client, origin
from newsletter.publish.cache import REVALIDATE_AFTER

log = logging.getLogger(__name__)

ATTEMPTS = 4
BACKOFF = 1.0  # seconds before the second attempt; doubled after each failure
TIMEOUT = 10.0
# For a whole round of pings, retries included: TIMEOUT is per read, and a hub answering a
# byte at a time would otherwise keep its thread, and the command waiting on it, forever.
DEADLINE = 60.0
# A hub fetches the feed as soon as it is pinged; every web process must be serving the new
# bytes by then. Each one holds a feed for REVALIDATE_AFTER at most after the commit.
SETTLE = REVALIDATE_AFTER + 0.5


class Notifier(Protocol):
    def publish(self, urls: Sequence[str]) -> None:
        """Announce that these feed URLs changed; never raises, never waits for the hub."""
        ...


def notify_hub(
    client: httpx.Client,
    hub: str,
    url: str,
    attempts: int = ATTEMPTS,
    backoff: float = BACKOFF,
    sleep: Callable[[float], None] = time.sleep,
) -> bool:
    """POST one publish ping, retrying on network errors, 5xx and 429; True once accepted."""
    delay = backoff
    for attempt in range(1, attempts + 1):
        try:
            response = client.post(hub, data={"hub.mode": "publish", "hub.url": url})
        except httpx.HTTPError as exc:
            problem = f"{type(exc).__name__}: {exc}"
        else:
            if response.is_success:
                return True
            problem = f"HTTP {response.status_code}"
            if response.status_code < 500 and response.status_code != 429:
                log.warning("WebSub hub %s refused %s: %s", hub, url, problem)
                return False
        if attempt < attempts:
            log.info("WebSub hub %s: %s for %s; retrying in %.1fs", hub, problem, url, delay)
            sleep(delay)
            delay *= 2
    log.warning(
        "WebSub hub %s unreachable for %s after %d attempts: %s", hub, url, attempts, problem
    )
    return False


def hub_client(hub: str, deadline: float = DEADLINE) -> httpx.Client:
    """A client for the operator's hub: its host trusted as configured, all waits by deadline."""
    return guarded_client(deadline, TIMEOUT, home=origin(hub))


class BackgroundNotifier:
    """Pings the hub on a thread, so a slow or dead hub never holds up collection.

    `publish` is called once the new bytes are committed; the thread first waits `settle`
    seconds, until no web process can still serve the old ones from memory.
    The threads are not daemons: a short-lived command finishes its pings before exiting.
    """

    def __init__(
        self,
        hub: str,
        client_factory: Callable[[], httpx.Client] | None = None,
        attempts: int = ATTEMPTS,
        backoff: float = BACKOFF,
        settle: float = SETTLE,
    ) -> None:
        self.hub = hub
        self.client_factory = client_factory or (lambda: hub_client(hub))
        self.attempts = attempts
        self.backoff = backoff
        self.settle = settle
        self._threads: list[threading.Thread] = []

    def publish(self, urls: Sequence[str]) -> None:
        if not urls:
            return
        thread = threading.Thread(target=self._run, args=(list(urls),), name="websub")
        self._threads = [t for t in self._threads if t.is_alive()] + [thread]
        thread.start()

    def _run(self, urls: list[str]) -> None:
        time.sleep(self.settle)
        try:
            with self.client_factory() as client:
                for url in urls:
                    notify_hub(client, self.hub, url, self.attempts, self.backoff)
        except Exception:  # a notifier must never take its process down
            log.exception("WebSub notification to %s failed", self.hub)

    def join(self, timeout: float | None = None) -> None:
        """Wait for pending pings (tests and commands that want to report them)."""
        for thread in self._threads:
            thread.join(timeout)


class NoNotifier:
    """No hub configured: nothing to tell."""

    def publish(self, urls: Sequence[str]) -> None:
        return None
