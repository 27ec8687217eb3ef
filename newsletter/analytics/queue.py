"""The clicks on their way to the database: a bounded queue, emptied in batches by one thread.

A redirect only appends here, so a slow or absent database never delays a reader. When the
queue is full the newest clicks are dropped (the oldest are closest to being written) and
the writer logs how many; when a write fails the batch goes back, as much as fits.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from datetime import datetime, timedelta

from newsletter.analytics.behaviour import Hit
from newsletter.errors import first_line

log = logging.getLogger(__name__)


class ClickQueue:
    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._hits: deque[Hit] = deque()
        self._lock = threading.Lock()
        self.dropped = 0

    def put(self, hit: Hit) -> bool:
        with self._lock:
            if len(self._hits) >= self.capacity:
                self.dropped += 1
                return False
            self._hits.append(hit)
            return True

    def take(self, settled_before: datetime | None, limit: int) -> list[Hit]:
        """Up to `limit` of the oldest hits made before `settled_before` (None: any)."""
        taken: list[Hit] = []
        with self._lock:
            while self._hits and len(taken) < limit:
                if settled_before is not None and self._hits[0].at >= settled_before:
                    break
                taken.append(self._hits.popleft())
        return taken

    def give_back(self, hits: list[Hit]) -> None:
        """A batch the database refused, back at the front; what no longer fits is dropped."""
        with self._lock:
            room = max(0, self.capacity - len(self._hits))
            kept = hits[:room]
            self.dropped += len(hits) - len(kept)
            self._hits.extendleft(reversed(kept))

    def take_dropped(self) -> int:
        with self._lock:
            dropped, self.dropped = self.dropped, 0
            return dropped

    def __len__(self) -> int:
        return len(self._hits)


Write = Callable[[list[Hit]], None]


class Flusher:
    """Writes settled hits every `interval`; `flush(everything=True)` on shutdown and in tests."""

    BATCH = 5_000

    def __init__(
        self,
        queue: ClickQueue,
        write: Write,
        now: Callable[[], datetime],
        settle: timedelta,
        interval: float,
    ) -> None:
        self.queue = queue
        self.write = write
        self.now = now
        self.settle = settle
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._failing = False
        self._flush_lock = threading.Lock()

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="click-writer", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        self.flush(everything=True)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.flush()

    def flush(self, everything: bool = False) -> int:
        """Write what has settled (or everything); the number of hits written."""
        written = 0
        with self._flush_lock:
            settled = None if everything else self.now() - self.settle
            while batch := self.queue.take(settled, self.BATCH):
                try:
                    self.write(batch)
                except Exception as exc:  # any database trouble: keep the clicks for a retry
                    self.queue.give_back(batch)
                    if not self._failing:
                        log.warning("click counts not written, kept: %s", first_line(exc))
                    self._failing = True
                    break
                if self._failing:
                    log.info("click counts written again")
                self._failing = False
                written += len(batch)
        dropped = self.queue.take_dropped()
        if dropped:
            log.warning("dropped %d clicks: the click queue was full", dropped)
        return written
