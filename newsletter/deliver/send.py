"""The resumable send loop: plan, then hand batches to parallel connections, recording each outcome.

    plan ─▶ page of due deliveries (id order) ─▶ render ─▶ jobs ─▶ N workers (SMTP) ─▶ results
                                                                                      │
              issue counts ◀── short transactions, every batch_size outcomes ◀────────┘

Only the main thread touches the database. A message's outcome is committed at most
`batch_size` outcomes (or a quarter of a second) after it arrives, so a SIGKILL can send again
at most batch_size + connections messages: those sent but not yet recorded.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import exists, or_, select, update
from sqlalchemy.orm import Session

from newsletter.config import DeliverySettings, Settings
from newsletter.deliver.lock import issue_lock
from newsletter.deliver.message import Dkim, IssueMessage, MailSetup, Person, Rendered
from newsletter.deliver.plan import Counts, RenderVariant, delivery_counts, no_variant, plan
from newsletter.deliver.throttle import Throttle
from newsletter.deliver.transport import Transport
from newsletter.errors import (
    DeliveryError,
    MessageError,
    PermanentFailure,
    SendError,
    TemporaryFailure,
)
from newsletter.models import Delivery, DeliveryStatus, Issue, IssueStatus, IssueVariant
from newsletter.runtime import Runtime
from subscribers.lifecycle import transition
from subscribers.models import Cause, Status, Subscriber, Suppression

log = logging.getLogger(__name__)

PAGE = 500
FLUSH_SECONDS = 0.25
MAX_BACKOFF = timedelta(hours=6)


@dataclass
class Job:
    delivery_id: int
    subscriber_id: int
    attempts: int
    rendered: Rendered
    recipient: str
    was: DeliveryStatus


@dataclass
class Outcome:
    job: Job
    error: DeliveryError | None
    sent: bool  # False: never handed over (stopped while waiting for the throttle)


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


@dataclass(frozen=True)
class SendResult:
    issue_id: int
    status: IssueStatus
    counts: Counts
    reason: str | None = None


def mail_setup(settings: Settings) -> MailSetup:
    """The per-site constants of every message, from the settings."""
    delivery = settings.delivery
    domain = delivery.bounce_domain or settings.mail.from_address.rpartition("@")[2]
    dkim = None
    if delivery.dkim_selector and delivery.dkim_domain and delivery.dkim_private_key:
        dkim = Dkim.load(delivery.dkim_selector, delivery.dkim_domain, delivery.dkim_private_key)
    elif delivery.dkim_selector or delivery.dkim_domain or delivery.dkim_private_key:
        raise MessageError(
            "DKIM needs delivery.dkim_selector, delivery.dkim_domain and "
            "delivery.dkim_private_key together"
        )
    return MailSetup(
        from_name=settings.mail.from_name,
        from_address=settings.mail.from_address,
        site_url=settings.site.base_url,
        secret=settings.signing_key(),
        bounce_domain=domain,
        list_id=delivery.list_id or f"newsletter.{domain}",
        dkim=dkim,
    )


def send_issue(
    runtime: Runtime,
    issue_id: int,
    transport_factory: Callable[[], Transport],
    *,
    render_missing: RenderVariant = no_variant,
    on_progress: Callable[[Progress], None] | None = None,
    stop: threading.Event | None = None,
) -> SendResult:
    """Send (or resume) an approved issue to every eligible subscriber, each exactly once."""
    with issue_lock(runtime.engine, runtime.settings.var_dir, issue_id):
        _start(runtime, issue_id, render_missing)
        sender = _Sender(runtime, issue_id, transport_factory, on_progress, stop)
        return sender.run()


def _start(runtime: Runtime, issue_id: int, render_missing: RenderVariant) -> None:
    now = runtime.clock.now()
    with runtime.sessions() as session:
        issue = session.get(Issue, issue_id)
        if issue is None:
            raise SendError(f"no issue with id {issue_id}")
        status = issue.status
    if status in (IssueStatus.DRAFT, IssueStatus.CANCELLED):
        raise SendError(f"issue {issue_id} is {status.value}; approve it before sending")
    if status == IssueStatus.SENT:
        raise SendError(f"issue {issue_id} was already sent")
    if status == IssueStatus.APPROVED:
        # Planning is itself resumable; the issue becomes "sending" once everyone is planned.
        added = plan(runtime.sessions, issue_id, now, render_missing)
        log.info("issue %s: planned %s deliveries", issue_id, added)
    with runtime.sessions.begin() as session:
        issue = session.get(Issue, issue_id)
        assert issue is not None
        issue.status = IssueStatus.SENDING
        issue.status_reason = None
        issue.sending_started_at = issue.sending_started_at or now
        issue.updated_at = now


class _Sender:
    def __init__(
        self,
        runtime: Runtime,
        issue_id: int,
        transport_factory: Callable[[], Transport],
        on_progress: Callable[[Progress], None] | None,
        stop: threading.Event | None,
    ) -> None:
        self.runtime = runtime
        self.settings: DeliverySettings = runtime.settings.delivery
        self.issue_id = issue_id
        self.transport_factory = transport_factory
        self.on_progress = on_progress
        self.stop = stop or threading.Event()
        self.jobs: queue.Queue[Job | None] = queue.Queue(maxsize=self.settings.connections * 2)
        self.results: queue.Queue[Outcome] = queue.Queue()
        self.in_flight: set[int] = set()
        self.buffer: list[Outcome] = []
        self.buffer_since = 0.0
        self.consecutive_failures = 0
        self.pause_reason: str | None = None
        self.sent_this_run = 0
        self.started = time.monotonic()
        self.last_progress = 0.0

    # -- the loop ---------------------------------------------------------------------------

    def run(self) -> SendResult:
        with self.runtime.sessions() as session:
            issue = session.get(Issue, self.issue_id)
            assert issue is not None
            self.deadline = (issue.sending_started_at or self.runtime.clock.now()) + timedelta(
                hours=self.settings.retry_deadline_hours
            )
            self.messages = self._compile(session, issue)
            self.tally = dict.fromkeys(DeliveryStatus, 0)
            for status, count in vars(delivery_counts(session, self.issue_id)).items():
                self.tally[DeliveryStatus(status)] = count
        throttle = Throttle(
            self.settings.rate_per_second, self.settings.per_hour, self._sent_last_hour()
        )
        workers = [
            threading.Thread(
                target=self._work, args=(self.transport_factory(), throttle), daemon=True
            )
            for _ in range(self.settings.connections)
        ]
        for worker in workers:
            worker.start()
        try:
            self._dispatch()
        finally:
            self._drop_queued()
            for _ in workers:
                self.jobs.put(None)
            while any(worker.is_alive() for worker in workers):
                self._collect(timeout=0.05)
            self._collect(timeout=0)
            self._flush()
        return self._finish()

    def _dispatch(self) -> None:
        while not self._halted():
            last = 0
            dispatched = False
            while not self._halted():
                rows = self._due_page(last)
                if not rows:
                    break
                for row in rows:
                    last = row.id
                    if row.id in self.in_flight:
                        continue
                    if self._halted():
                        return
                    self._offer(row)
                    dispatched = True
            # The pass is over: wait for what is in flight, then for the next retry to fall due.
            while self.in_flight and not self._halted():
                self._collect(timeout=0.1)
            self._flush()
            if self._halted() or dispatched:
                continue
            wait = self._until_next_retry()
            if wait is None:
                return
            self._report(force=True)
            self.stop.wait(min(wait, 5.0))

    def _halted(self) -> bool:
        return self.stop.is_set() or self.pause_reason is not None

    def _due_page(self, after: int) -> list[_Row]:
        now = self.runtime.clock.now()
        suppressed = exists().where(Suppression.email == Subscriber.email)
        statement = (
            select(
                Delivery.id,
                Delivery.subscriber_id,
                Delivery.variant_id,
                Delivery.attempts,
                Delivery.status,
                Subscriber.email,
                Subscriber.name,
                Subscriber.status,
                Subscriber.paused_until,
                suppressed.label("suppressed"),
            )
            .join(Subscriber, Subscriber.id == Delivery.subscriber_id)
            .where(Delivery.issue_id == self.issue_id)
            .where(Delivery.status.in_([DeliveryStatus.PENDING, DeliveryStatus.DEFERRED]))
            .where(or_(Delivery.next_attempt_at.is_(None), Delivery.next_attempt_at <= now))
            .where(Delivery.id > after)
            .order_by(Delivery.id)
            .limit(PAGE)
        )
        with self.runtime.sessions() as session:
            return [_Row(*tuple(row)) for row in session.execute(statement)]

    def _offer(self, row: _Row) -> None:
        now = self.runtime.clock.now()
        # Eligibility is checked again at the last moment: an unsubscribe since planning wins.
        if (
            row.status != Status.ACTIVE
            or row.suppressed
            or (row.paused_until is not None and row.paused_until > now)
        ):
            self._record(row, DeliveryStatus.SKIPPED, f"not sent: subscriber is {row.status.value}")
            return
        message = self.messages.get(row.variant_id or 0)
        if message is None:
            self._record(row, DeliveryStatus.SKIPPED, "not sent: its rendered version was deleted")
            return
        try:
            rendered = message.render(Person(row.subscriber_id, row.email, row.name))
        except MessageError as exc:
            self._record(row, DeliveryStatus.FAILED, str(exc))
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
                continue

    # -- workers ----------------------------------------------------------------------------

    def _work(self, transport: Transport, throttle: Throttle) -> None:
        try:
            while True:
                job = self.jobs.get()
                if job is None:
                    return
                if not throttle.acquire(self.stop):
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
        """Jobs not yet taken by a worker stay pending: nothing was sent for them."""
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
        if not self.buffer:
            self.buffer_since = time.monotonic()
        self.buffer.append(outcome)
        error = outcome.error
        if error is None or _recipient_refused(error):
            self.consecutive_failures = 0
        else:
            self.consecutive_failures += 1
            if self.consecutive_failures >= self.settings.pause_after_failures:
                self.pause_reason = (
                    f"paused after {self.consecutive_failures} failures in a row from the mail "
                    f"server (last: {error}); run `newsletter digest send {self.issue_id}` "
                    "to resume"
                )

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
        now = self.runtime.clock.now()
        rows: list[dict[str, object]] = []
        bounced: list[tuple[int, str]] = []
        for outcome in outcomes:
            job, error = outcome.job, outcome.error
            attempts = job.attempts + 1
            row: dict[str, object] = {
                "id": job.delivery_id,
                "attempts": attempts,
                "message_id": job.rendered.message_id,
                "sent_at": None,
                "next_attempt_at": None,
                "last_error": None,
            }
            if error is None:
                row.update(status=DeliveryStatus.SENT, sent_at=now)
                self.sent_this_run += 1
            elif isinstance(error, PermanentFailure):
                row.update(status=DeliveryStatus.FAILED, last_error=str(error))
                if error.enhanced and error.enhanced.startswith("5.1."):
                    bounced.append((job.subscriber_id, str(error)))
            else:
                retry_at = now + min(
                    timedelta(seconds=self.settings.retry_base_seconds * 2 ** (attempts - 1)),
                    MAX_BACKOFF,
                )
                if retry_at > self.deadline:
                    row.update(
                        status=DeliveryStatus.FAILED,
                        last_error=f"gave up at the retry deadline: {error}",
                    )
                else:
                    row.update(
                        status=DeliveryStatus.DEFERRED,
                        next_attempt_at=retry_at,
                        last_error=str(error),
                    )
            rows.append(row)
            self._move(job.was, DeliveryStatus(str(row["status"])))
        with self.runtime.sessions.begin() as session:
            session.execute(update(Delivery), rows)
            for subscriber_id, detail in bounced:
                subscriber = session.get(Subscriber, subscriber_id)
                if subscriber is not None and subscriber.status == Status.ACTIVE:
                    transition(session, subscriber, Status.BOUNCED, Cause.BOUNCE, now, detail)
        for outcome in outcomes:
            self.in_flight.discard(outcome.job.delivery_id)

    def _record(self, row: _Row, status: DeliveryStatus, reason: str) -> None:
        """A delivery settled without sending anything: skipped, or a message we cannot build."""
        with self.runtime.sessions.begin() as session:
            session.execute(
                update(Delivery)
                .where(Delivery.id == row.id)
                .values(status=status, last_error=reason)
            )
        self._move(row.delivery_status, status)

    def _move(self, was: DeliveryStatus, now: DeliveryStatus) -> None:
        self.tally[was] -= 1
        self.tally[now] += 1

    # -- bookkeeping ----------------------------------------------------------------------------

    def _compile(self, session: Session, issue: Issue) -> dict[int, IssueMessage]:
        setup = mail_setup(self.runtime.settings)
        date = issue.sending_started_at or self.runtime.clock.now()
        variants = session.scalars(select(IssueVariant).where(IssueVariant.issue_id == issue.id))
        return {
            variant.id: IssueMessage(
                setup, issue.id, variant.subject, variant.html, variant.text, date
            )
            for variant in variants
        }

    def _sent_last_hour(self) -> list[float]:
        """Earlier runs' sends in the last hour count against the relay's hourly quota too."""
        if not self.settings.per_hour:
            return []
        now = self.runtime.clock.now()
        mono = time.monotonic()
        with self.runtime.sessions() as session:
            times = session.scalars(
                select(Delivery.sent_at).where(Delivery.sent_at > now - timedelta(hours=1))
            ).all()
        return [mono - (now - at).total_seconds() for at in times if at is not None]

    def _until_next_retry(self) -> float | None:
        """Seconds until the next deferred delivery falls due, or None when nothing is left."""
        with self.runtime.sessions() as session:
            upcoming = session.scalar(
                select(Delivery.next_attempt_at)
                .where(Delivery.issue_id == self.issue_id)
                .where(Delivery.status.in_([DeliveryStatus.PENDING, DeliveryStatus.DEFERRED]))
                .order_by(Delivery.next_attempt_at.asc().nulls_first())
                .limit(1)
            )
            remaining = session.scalar(
                select(Delivery.id)
                .where(Delivery.issue_id == self.issue_id)
                .where(Delivery.status.in_([DeliveryStatus.PENDING, DeliveryStatus.DEFERRED]))
                .limit(1)
            )
        if remaining is None:
            return None
        if upcoming is None:
            return 0.0
        return max(0.0, (upcoming - self.runtime.clock.now()).total_seconds())

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

    def _finish(self) -> SendResult:
        now = self.runtime.clock.now()
        with self.runtime.sessions.begin() as session:
            issue = session.get(Issue, self.issue_id)
            assert issue is not None
            counts = delivery_counts(session, self.issue_id)
            for status, count in vars(counts).items():
                self.tally[DeliveryStatus(status)] = count
            if self.pause_reason is not None:
                issue.status = IssueStatus.PAUSED
                issue.status_reason = self.pause_reason
            elif counts.remaining == 0:
                issue.status = IssueStatus.SENT
                issue.status_reason = None
                issue.sent_at = now
            else:
                issue.status_reason = "stopped before the end; run digest send again to continue"
            issue.updated_at = now
            result = SendResult(self.issue_id, issue.status, counts, issue.status_reason)
        self._report(force=True)
        return result


@dataclass(frozen=True)
class _Row:
    id: int
    subscriber_id: int
    variant_id: int | None
    attempts: int
    delivery_status: DeliveryStatus
    email: str
    name: str
    status: Status
    paused_until: datetime | None
    suppressed: bool


def _recipient_refused(error: DeliveryError) -> bool:
    """A refusal of one address (5.1.x, 5.2.x, 4.2.x) says the relay itself is working."""
    return bool(error.enhanced and error.enhanced[2:4] in ("1.", "2."))
