"""The unit of work, one code path for both ways of running it: claim → build → send → record.

    store.claim (claim_size rows) ─▶ render ─▶ pool: each relay's connections ─▶ outcomes
                                                                                  │
         store.record ◀── every batch_size outcomes ◀── tally ◀── breaker ◀───────┘

`digest send` without a broker keeps one Sender open and runs batches until none is left; a
Celery task (newsletter.deliver.tasks) opens one, runs one batch and closes it. The Sender talks
to two narrow interfaces: a DeliveryStore (newsletter.deliver.store; SQL or in memory) and the
relays' transports through a ConnectionPool (newsletter.deliver.pool); the Breaker
(newsletter.deliver.breaker) pauses the issue when the relay refuses everything, and the Tally
(newsletter.deliver.tally) reports progress.

Only the thread that calls run_batch() touches the store, but for the heartbeat's renewals
(newsletter.deliver.heartbeat). An outcome is recorded at most
`batch_size` outcomes (or a quarter of a second) after it arrives, so a SIGKILL can send again
at most batch_size + connections messages per sending process: those sent but not yet recorded.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from datetime import timedelta
from types import TracebackType

from sqlalchemy import select

from newsletter.clock import Clock
from newsletter.config import DeliverySettings
from newsletter.deliver.breaker import Breaker
from newsletter.deliver.heartbeat import Heartbeat
from newsletter.deliver.message import IssueMessage, Person
from newsletter.deliver.plan import Counts
from newsletter.deliver.pool import ConnectionPool
from newsletter.deliver.relays import Relay
from newsletter.deliver.setup import mail_setup
from newsletter.deliver.sql_store import SqlDeliveryStore
from newsletter.deliver.store import DeliveryStore, Job, Outcome, Retry, Row
from newsletter.deliver.tally import Progress, Tally
from newsletter.errors import MessageError
from newsletter.models import DeliveryStatus, Issue, IssueVariant
from newsletter.runtime import Runtime

__all__ = ["Progress", "Sender", "open_sender"]

FLUSH_SECONDS = 0.25
# A batch starts no message after this long: its Celery task is acknowledged well within the
# broker's visibility timeout (newsletter.deliver.tasks), and the rest is the next batch's.
BATCH_SECONDS = 120.0


class Sender:
    """Sends an issue's claimed deliveries over every relay's connections; a context manager."""

    def __init__(
        self,
        store: DeliveryStore,
        messages: Mapping[int, IssueMessage],
        relays: list[Relay],
        holder: str,
        settings: DeliverySettings,
        clock: Clock,
        *,
        issue_id: int,
        on_progress: Callable[[Progress], None] | None = None,
        stop: threading.Event | None = None,
    ) -> None:
        self.store = store
        self.messages = messages
        self.holder = holder
        self.settings = settings
        self.clock = clock
        self.issue_id = issue_id
        self.stop = stop or threading.Event()
        self.pool = ConnectionPool(relays, self.stop)
        self.tally = Tally(on_progress)
        self.breaker = Breaker(settings.pause_after_failures, issue_id)
        self.buffer: list[Outcome] = []
        self.buffer_since = 0.0

    # -- opening and closing ----------------------------------------------------------------

    def __enter__(self) -> Sender:
        if self.tally.wanted:
            self.tally.reset(self.store.counts())
        # A list smaller than pause_after_failures pauses once all of it failed alike.
        limit = self.settings.pause_after_failures
        self.breaker.limit = max(1, min(limit, self.store.open_count(limit)))
        self.pool.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.pool.close(self._collect)
        self.buffer.extend(self.breaker.settle())
        self._flush()

    @property
    def pause_reason(self) -> str | None:
        """Set once the breaker tripped: the relay refuses everything, the issue pauses."""
        return self.breaker.reason

    @property
    def halted(self) -> bool:
        return self.stop.is_set() or self.pause_reason is not None

    # -- one batch ---------------------------------------------------------------------------

    def run_batch(self) -> int:
        """Claim up to claim_size due deliveries and send them; return how many were claimed.

        The heartbeat renews the claim while the batch runs; nothing new is started once it
        could not be renewed in time (another sender may then take the rows) or after
        BATCH_SECONDS, and rows not sent are given back at the end.
        """
        if self.halted or not self.still_sending():
            return 0
        now = self.clock.now()
        claim_seconds = self.settings.claim_seconds
        rows = self.store.claim(
            self.holder, now, now + timedelta(seconds=claim_seconds), self.settings.claim_size
        )
        ends = time.monotonic() + BATCH_SECONDS
        try:
            with Heartbeat(self.store, self.holder, claim_seconds, self.clock) as heartbeat:
                for row in rows:
                    if self.halted or not heartbeat.may_start() or time.monotonic() > ends:
                        break
                    self._offer(row)
                # Wait only for outcomes still out; those already buffered are recorded at once
                # (waiting for the flush interval here cost a quarter second every batch).
                while self.pool.outstanding > 0 and not self.stop.is_set():
                    self._collect(timeout=0.1)
                self.buffer.extend(self.breaker.settle())
                self._flush()
        finally:
            self.store.release(self.holder, [row.id for row in rows])
        self.tally.report()
        return len(rows)

    def still_sending(self) -> bool:
        """An editor's pause (or a cancel) from elsewhere stops this sender at the next batch."""
        return self.store.sending()

    def _offer(self, row: Row) -> None:
        # Eligibility was checked again as the row was claimed: an unsubscribe since planning wins.
        if not row.eligible:
            self._settle(row, DeliveryStatus.SKIPPED, f"not sent: subscriber is {row.status.value}")
            return
        message = self.messages.get(row.variant_id or 0)
        if message is None:
            self._settle(row, DeliveryStatus.SKIPPED, "not sent: its rendered version was deleted")
            return
        try:
            rendered = message.render(Person(row.subscriber_id, row.email, row.name))
        except MessageError as exc:
            self._settle(row, DeliveryStatus.FAILED, str(exc))
            return
        job = Job(row.id, row.subscriber_id, row.attempts, rendered, row.email, row.delivery_status)
        # Outcomes are taken in between offers, so that they are recorded as they arrive.
        self._collect(timeout=0)
        while not self.pool.put(job, timeout=0.05):
            if self.stop.is_set():
                return
            self._collect(timeout=0)

    # -- recording ----------------------------------------------------------------------------

    def _collect(self, timeout: float) -> None:
        for outcome in self.pool.take(timeout):
            if outcome.sent:
                # Held back while the relay may be at fault; what is released is recorded.
                self._buffer(self.breaker.take(outcome))
        if self.buffer and (
            len(self.buffer) >= self.settings.batch_size
            or time.monotonic() - self.buffer_since >= FLUSH_SECONDS
        ):
            self._flush()
        self.tally.report()

    def _buffer(self, outcomes: list[Outcome]) -> None:
        if outcomes and not self.buffer:
            self.buffer_since = time.monotonic()
        self.buffer.extend(outcomes)

    def _flush(self) -> None:
        if not self.buffer:
            return
        outcomes, self.buffer = self.buffer, []
        self.tally.moves(self.store.record(outcomes, self.clock.now()))

    def _settle(self, row: Row, status: DeliveryStatus, reason: str) -> None:
        self.store.settle(row.id, status, reason)
        self.tally.move(row.delivery_status, status)

    # -- progress -----------------------------------------------------------------------------

    def refresh_tally(self, counts: Counts) -> None:
        self.tally.reset(counts)

    def report(self) -> None:
        self.tally.report(force=True)


def open_sender(
    runtime: Runtime,
    issue_id: int,
    relays: list[Relay],
    holder: str,
    *,
    on_progress: Callable[[Progress], None] | None = None,
    stop: threading.Event | None = None,
) -> Sender:
    """A Sender over the database: the issue's messages compiled, its retry deadline set."""
    settings = runtime.settings.delivery
    with runtime.sessions() as session:
        issue = session.get(Issue, issue_id)
        assert issue is not None
        started = issue.sending_started_at or runtime.clock.now()
        setup = mail_setup(runtime.settings, runtime.signing_key)
        variants = session.scalars(select(IssueVariant).where(IssueVariant.issue_id == issue_id))
        messages = {
            variant.id: IssueMessage(
                setup, issue_id, variant.subject, variant.html, variant.text, started
            )
            for variant in variants
        }
    retry = Retry(settings, started + timedelta(hours=settings.retry_deadline_hours))
    store = SqlDeliveryStore(runtime.sessions, issue_id, retry)
    return Sender(
        store,
        messages,
        relays,
        holder,
        settings,
        runtime.clock,
        issue_id=issue_id,
        on_progress=on_progress,
        stop=stop,
    )
