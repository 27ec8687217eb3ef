"""A sender's heartbeat: its claims renewed while it works, so a dead sender's run out soon.

Every third of delivery.claim_seconds a thread extends the holder's open claims to a full
claim_seconds from now. While the database answers, a live sender's rows stay its own however
long its batch takes; a sender that dies (SIGKILL, a lost machine) stops renewing, and its rows
are free again within claim_seconds. A sender that cannot reach the database to renew stops
starting messages a third of a claim before its last renewal runs out (`may_start`), so that
another sender taking those rows later does not send them twice.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import timedelta
from types import TracebackType

from newsletter.clock import Clock
from newsletter.deliver.store import DeliveryStore
from newsletter.errors import first_line

log = logging.getLogger(__name__)


class Heartbeat:
    def __init__(
        self, store: DeliveryStore, holder: str, claim_seconds: float, clock: Clock
    ) -> None:
        self.store = store
        self.holder = holder
        self.claim_seconds = claim_seconds
        self.clock = clock
        self.interval = claim_seconds / 3
        # Until when (monotonic) the claims surely hold: set by the claim, moved by renewals.
        self.held_until = time.monotonic() + claim_seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"heartbeat {holder}", daemon=True)

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join()

    def may_start(self) -> bool:
        """Whether a message may still be started under the claims held."""
        return time.monotonic() < self.held_until - self.interval

    def _beat(self) -> None:
        while not self._stop.wait(self.interval):
            started = time.monotonic()
            try:
                until = self.clock.now() + timedelta(seconds=self.claim_seconds)
                self.store.renew(self.holder, until)
            except Exception as exc:  # the database away: keep working, stop in time
                log.warning("could not renew the claims of %s: %s", self.holder, first_line(exc))
                continue
            self.held_until = started + self.claim_seconds
