"""The connection pool: one thread per connection of each relay, all taking jobs from one queue.

Only the thread that owns the pool puts jobs and takes outcomes, so `outstanding` (jobs handed
in whose outcome has not been taken yet) needs no lock.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable

from newsletter.deliver.relays import Relay
from newsletter.deliver.store import Job, Outcome
from newsletter.errors import DeliveryError, TemporaryFailure


class ConnectionPool:
    """Sends jobs over every relay's connections; outcomes come back through `take()`."""

    def __init__(self, relays: list[Relay], stop: threading.Event) -> None:
        self.relays = relays
        self.stop = stop
        total = sum(relay.connections for relay in relays)
        self.jobs: queue.Queue[Job | None] = queue.Queue(maxsize=total * 2)
        self.results: queue.Queue[Outcome] = queue.Queue()
        self.threads: list[threading.Thread] = []
        self.outstanding = 0

    def start(self) -> None:
        for relay in self.relays:
            for _ in range(relay.connections):
                thread = threading.Thread(target=self._work, args=(relay,), daemon=True)
                thread.start()
                self.threads.append(thread)

    def put(self, job: Job, timeout: float) -> bool:
        """Hand a job to the connections; False if the queue stayed full for `timeout`."""
        try:
            self.jobs.put(job, timeout=timeout)
        except queue.Full:
            return False
        self.outstanding += 1
        return True

    def take(self, timeout: float) -> list[Outcome]:
        """The outcomes that arrived, waiting up to `timeout` for the first (0: no wait)."""
        taken: list[Outcome] = []
        try:
            taken.append(
                self.results.get(timeout=timeout) if timeout else self.results.get_nowait()
            )
            while True:
                taken.append(self.results.get_nowait())
        except queue.Empty:
            pass
        self.outstanding -= len(taken)
        return taken

    def close(self, collect: Callable[[float], None]) -> None:
        """Drop the jobs no connection took, let the others finish, `collect`ing as they do."""
        while True:
            try:
                job = self.jobs.get_nowait()
            except queue.Empty:
                break
            if job is not None:
                # Nothing was sent for it: it stays pending.
                self.outstanding -= 1
        for _ in self.threads:
            self.jobs.put(None)
        while any(thread.is_alive() for thread in self.threads):
            collect(0.05)
        collect(0)

    def _work(self, relay: Relay) -> None:
        transport = relay.connect()
        try:
            while True:
                job = self.jobs.get()
                if job is None:
                    return
                job.relay = relay.name
                if not relay.limiter.acquire(self.stop):
                    self.results.put(Outcome(job, None, sent=False))
                    continue
                error: DeliveryError | None = None
                try:
                    transport.send(job.rendered.sender, [job.recipient], job.rendered.data)
                except DeliveryError as exc:
                    error = exc
                except Exception as exc:  # a bug or an odd library error must not lose the job
                    error = TemporaryFailure(f"unexpected error: {exc!r}")
                self.results.put(Outcome(job, error, sent=True))
        finally:
            transport.close()
