"""Shared pacing for every connection: messages per second, and a cap in any rolling hour."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from typing import Protocol

HOUR = 3600.0
SLICE = 0.5  # longest single sleep while waiting for a limit, so that a stop is noticed soon


class Limiter(Protocol):
    """acquire() blocks until one more message may go; False when `stopped` says give up."""

    def acquire(self, stopped: threading.Event | None = None) -> bool: ...


def wait_slice(wait: float, stopped: threading.Event | None) -> bool:
    """Sleep `wait` seconds but at most one SLICE; True when `stopped` was set meanwhile.

    Callers loop on it, so that SIGTERM (or a stop) ends a wait for an hourly quota soon.
    """
    if stopped is not None:
        return stopped.wait(min(wait, SLICE))
    time.sleep(min(wait, SLICE))
    return False


class Throttle:
    """acquire() blocks until one more message may go; False when `stopped` says give up."""

    def __init__(
        self,
        rate_per_second: float = 0.0,
        per_hour: int = 0,
        sent_recently: Iterable[float] = (),
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.interval = 1.0 / rate_per_second if rate_per_second > 0 else 0.0
        self.per_hour = per_hour
        self.monotonic = monotonic
        self._next = 0.0
        # Monotonic instants of the sends in the last hour (this run's, and earlier runs').
        self._window: deque[float] = deque(sorted(sent_recently))
        self._lock = threading.Lock()

    def _wait_needed(self, now: float) -> float:
        wait = max(0.0, self._next - now)
        if self.per_hour:
            while self._window and self._window[0] <= now - HOUR:
                self._window.popleft()
            if len(self._window) >= self.per_hour:
                wait = max(wait, self._window[0] + HOUR - now)
        return wait

    def acquire(self, stopped: threading.Event | None = None) -> bool:
        if not self.interval and not self.per_hour:
            return True
        while True:
            with self._lock:
                now = self.monotonic()
                wait = self._wait_needed(now)
                if wait <= 0:
                    self._next = max(self._next, now) + self.interval
                    if self.per_hour:
                        self._window.append(now)
                    return True
            if wait_slice(wait, stopped):
                return False
