"""The unit of work, one code path for both ways of running it: claim → build → send → record.

    claim (claim_size rows) ─▶ render ─▶ jobs ─▶ each relay's connections (SMTP) ─▶ results
                                                                                     │
              delivery rows ◀── short transactions, every batch_size outcomes ◀──────┘

`digest send` without a broker keeps one Sender open and runs batches until none is left; a
Celery task (newsletter.deliver.tasks) opens one, runs one batch and closes it. Only the thread
that calls run_batch() touches the database. An outcome is committed at most `batch_size`
outcomes (or a quarter of a second) after it arrives, so a SIGKILL can send again at most
batch_size + connections messages per sending process: those sent but not yet recorded.

A relay that refuses everything is told apart from recipients who refuse: failures that are not
about one address (policy refusals such as 554 5.7.1, 421, 451, a relay or outbox that cannot
be reached) are held back while they come in a row. A success or a recipient's own refusal
(5.1.x, 5.2.x) ends the run of them and they are recorded as usual; once `pause_after_failures`
of them (or every open delivery, on a list smaller than that) come in a row, the sender pauses
the issue and leaves them pending, so that a resume sends them.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import TracebackType

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from newsletter.config import DeliverySettings
from newsletter.deliver.claim import OPEN, Row, claim, release
from newsletter.deliver.message import IssueMessage, Person
from newsletter.deliver.plan import delivery_counts
from newsletter.deliver.record import Job, Outcome, record, settle
from newsletter.deliver.relays import Relay
from newsletter.deliver.setup import mail_setup
from newsletter.errors import DeliveryError, MessageError, TemporaryFailure
from newsletter.models import Delivery, DeliveryStatus, Issue, IssueStatus, IssueVariant
from newsletter.runtime import Runtime
from subscribers.models import Status

log = logging.getLogger(__name__)

FLUSH_SECONDS = 0.25


@dataclass
class Progress:
    """What the progress bar and log lines show; counts over the whole issue."""

    total: int
    sent: int
    failed: int
    skipped: int
    retrying: int
    rate: float  # messages per second in this run
    started: float = field(default_factory=time.monotonic)


class Sender:
    """Sends an issue's claimed deliveries over every relay's connections; a context manager."""

    def __init__(
        self,
        runtime: Runtime,
        issue_id: int,
        relays: list[Relay],
        holder: str,
        *,
        on_progress: Callable[[Progress], None] | None = None,
        stop: threading.Event | None = None,
    ) -> None:
        self.runtime = runtime
        self.settings: DeliverySettings = runtime.settings.delivery
        self.issue_id = issue_id
        self.relays = relays
        self.holder = holder
        self.on_progress = on_progress
        self.stop = stop or threading.Event()
        total = sum(relay.connections for relay in relays)
        self.jobs: queue.Queue[Job | None] = queue.Queue(maxsize=total * 2)
        self.results: queue.Queue[Outcome] = queue.Queue()
        self.in_flight: set[int] = set()
        self.buffer: list[Outcome] = []
        self.buffer_since = 0.0
        # Failures in a row that are not about one recipient, held back unrecorded.
        self.suspects: list[Outcome] = []
        self.pause_reason: str | None = None
        self.sent_this_run = 0
        self.started = time.monotonic()
        self.last_progress = 0.0
        self.threads: list[threading.Thread] = []

    # -- opening and closing ----------------------------------------------------------------

    def __enter__(self) -> Sender:
        with self.runtime.sessions() as session:
            issue = session.get(Issue, self.issue_id)
            assert issue is not None
            started = issue.sending_started_at or self.runtime.clock.now()
            self.deadline = started + timedelta(hours=self.settings.retry_deadline_hours)
            self.messages = self._compile(session, issue, started)
            self.tally = dict.fromkeys(DeliveryStatus, 0)
            # Only progress reports read the tally: a worker's batch (no on_progress) skips
            # counting the whole issue; its zero-based tally may go negative, unread.
            if self.on_progress is not None:
                self.refresh_tally(vars(delivery_counts(session, self.issue_id)))
            # A list smaller than pause_after_failures pauses once all of it failed alike.
            self.pause_after = max(1, min(self.settings.pause_after_failures, self._open(session)))
        for relay in self.relays:
            for _ in range(relay.connections):
                thread = threading.Thread(target=self._work, args=(relay,), daemon=True)
                thread.start()
                self.threads.append(thread)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._drop_queued()
        for _ in self.threads:
            self.jobs.put(None)
        while any(thread.is_alive() for thread in self.threads):
            self._collect(timeout=0.05)
        self._collect(timeout=0)
        self._settle_suspects()
        self._flush()

    @property
    def halted(self) -> bool:
        return self.stop.is_set() or self.pause_reason is not None

    # -- one batch ---------------------------------------------------------------------------

    def run_batch(self) -> int:
        """Claim up to claim_size due deliveries and send them; return how many were claimed.

        Nothing new is started once the claim is close to running out (another sender may then
        take the rows), and rows not sent are given back at the end.
        """
        if self.halted or not self.still_sending():
            return 0
        now = self.runtime.clock.now()
        until = now + timedelta(seconds=self.settings.claim_seconds)
        rows = claim(
            self.runtime.sessions, self.issue_id, self.holder, now, until, self.settings.claim_size
        )
        # Leave time for the last message's SMTP exchange to finish within the claim.
        cutoff = time.monotonic() + self.settings.claim_seconds - self.settings.timeout_seconds - 5
        try:
            for row in rows:
                if self.halted or time.monotonic() > cutoff:
                    break
                self._offer(row)
            # Wait only for outcomes still out; those already buffered are recorded at once
            # (waiting for the flush interval here cost a quarter second every batch).
            while (
                len(self.in_flight) > len(self.buffer) + len(self.suspects)
                and not self.stop.is_set()
            ):
                self._collect(timeout=0.1)
            self._settle_suspects()
            self._flush()
        finally:
            release(self.runtime.sessions, self.holder, [row.id for row in rows])
        self._report()
        return len(rows)

    def still_sending(self) -> bool:
        """An editor's pause (or a cancel) from elsewhere stops this sender at the next batch."""
        with self.runtime.sessions() as session:
            issue = session.get(Issue, self.issue_id)
            status = issue.status if issue is not None else IssueStatus.CANCELLED
        return status == IssueStatus.SENDING

    def _offer(self, row: Row) -> None:
        now = self.runtime.clock.now()
        # Eligibility is checked again at the last moment: an unsubscribe since planning wins.
        if (
            row.status != Status.ACTIVE
            or row.suppressed
            or (row.paused_until is not None and row.paused_until > now)
        ):
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
        self.in_flight.add(row.id)
        while True:
            # Outcomes are taken in between offers, so that they are recorded as they arrive.
            self._collect(timeout=0)
            try:
                self.jobs.put(job, timeout=0.05)
                return
            except queue.Full:
                if self.stop.is_set():
                    self.in_flight.discard(row.id)
                    return
                continue

    # -- connections --------------------------------------------------------------------------

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

    def _drop_queued(self) -> None:
        """Jobs not yet taken by a connection stay pending: nothing was sent for them."""
        while True:
            try:
                job = self.jobs.get_nowait()
            except queue.Empty:
                return
            if job is not None:
                self.in_flight.discard(job.delivery_id)

    # -- recording ----------------------------------------------------------------------------

    def _collect(self, timeout: float) -> None:
        try:
            outcome = self.results.get(timeout=timeout) if timeout else self.results.get_nowait()
        except queue.Empty:
            self._maybe_flush()
            return
        while True:
            self._take(outcome)
            try:
                outcome = self.results.get_nowait()
            except queue.Empty:
                break
        self._maybe_flush()

    def _take(self, outcome: Outcome) -> None:
        if not outcome.sent:
            self.in_flight.discard(outcome.job.delivery_id)
            return
        error = outcome.error
        if error is not None and not _recipient_refused(error):
            # Maybe the relay's fault, not this recipient's: held until the run of them ends.
            self.suspects.append(outcome)
            if self.pause_reason is None and len(self.suspects) >= self.pause_after:
                self.pause_reason = (
                    f"paused after {len(self.suspects)} failures in a row from the mail server, "
                    f"none about one recipient (last: {error}); those deliveries stay pending: "
                    "fix the relay or outbox, then run "
                    f"`newsletter digest send {self.issue_id}` to resume"
                )
            return
        # The relay delivered, or refused one address: it works, so what it refused before
        # was refused for those recipients.
        self._settle_suspects()
        self._buffer(outcome)

    def _buffer(self, outcome: Outcome) -> None:
        if not self.buffer:
            self.buffer_since = time.monotonic()
        self.buffer.append(outcome)

    def _settle_suspects(self) -> None:
        """Record the held failures as usual; after a pause they stay pending instead."""
        held, self.suspects = self.suspects, []
        if self.pause_reason is not None:
            # Never recorded: the rows' claims are given back and a resume sends them.
            for outcome in held:
                self.in_flight.discard(outcome.job.delivery_id)
            return
        for outcome in held:
            self._buffer(outcome)

    def _maybe_flush(self) -> None:
        if self.buffer and (
            len(self.buffer) >= self.settings.batch_size
            or time.monotonic() - self.buffer_since >= FLUSH_SECONDS
        ):
            self._flush()
        self._report()

    def _flush(self) -> None:
        if not self.buffer:
            return
        outcomes, self.buffer = self.buffer, []
        moves = record(
            self.runtime.sessions, outcomes, self.settings, self.deadline, self.runtime.clock.now()
        )
        for was, now in moves:
            self._move(was, now)
            if now == DeliveryStatus.SENT:
                self.sent_this_run += 1
        for outcome in outcomes:
            self.in_flight.discard(outcome.job.delivery_id)

    def _settle(self, row: Row, status: DeliveryStatus, reason: str) -> None:
        settle(self.runtime.sessions, row.id, status, reason)
        self._move(row.delivery_status, status)

    def _move(self, was: DeliveryStatus, now: DeliveryStatus) -> None:
        self.tally[was] -= 1
        self.tally[now] += 1

    # -- bookkeeping ----------------------------------------------------------------------------

    def _compile(self, session: Session, issue: Issue, date: datetime) -> dict[int, IssueMessage]:
        setup = mail_setup(self.runtime.settings, self.runtime.signing_key)
        variants = session.scalars(select(IssueVariant).where(IssueVariant.issue_id == issue.id))
        return {
            variant.id: IssueMessage(
                setup, issue.id, variant.subject, variant.html, variant.text, date
            )
            for variant in variants
        }

    def _open(self, session: Session) -> int:
        """Open deliveries of the issue, counted up to pause_after_failures (a bounded scan)."""
        limit = self.settings.pause_after_failures
        due = (
            select(Delivery.id)
            .where(Delivery.issue_id == self.issue_id, Delivery.status.in_(OPEN))
            .limit(limit)
            .subquery()
        )
        return int(session.scalar(select(func.count()).select_from(due)) or 0)

    def refresh_tally(self, counts: dict[str, int]) -> None:
        for status, count in counts.items():
            self.tally[DeliveryStatus(status)] = count

    def report(self) -> None:
        self._report(force=True)

    def _report(self, force: bool = False) -> None:
        if self.on_progress is None:
            return
        now = time.monotonic()
        if not force and now - self.last_progress < 0.2:
            return
        self.last_progress = now
        elapsed = max(now - self.started, 1e-6)
        tally = self.tally
        self.on_progress(
            Progress(
                total=sum(tally.values()),
                sent=tally[DeliveryStatus.SENT],
                failed=tally[DeliveryStatus.FAILED],
                skipped=tally[DeliveryStatus.SKIPPED],
                retrying=tally[DeliveryStatus.DEFERRED],
                rate=self.sent_this_run / elapsed,
                started=self.started,
            )
        )


def _recipient_refused(error: DeliveryError) -> bool:
    """A refusal of one address (5.1.x, 5.2.x, 4.2.x) says the relay itself is working."""
    return bool(error.enhanced and error.enhanced[2:4] in ("1.", "2."))
