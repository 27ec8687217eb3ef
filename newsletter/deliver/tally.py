"""The tally of an issue's deliveries as one sender moves them, and the progress it reports."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from newsletter.deliver.plan import Counts
from newsletter.deliver.store import Move
from newsletter.models import DeliveryStatus

REPORT_SECONDS = 0.2


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


def progress_of(counts: Counts, started: float, sent_before: int) -> Progress:
    """Progress read from the delivery rows, by a watcher that sends nothing itself.

    `started` is when it began watching (monotonic) and `sent_before` how many were sent then.
    """
    elapsed = max(time.monotonic() - started, 1e-6)
    return Progress(
        total=counts.total,
        sent=counts.sent,
        failed=counts.failed,
        skipped=counts.skipped,
        retrying=counts.deferred,
        rate=(counts.sent - sent_before) / elapsed,
        started=started,
    )


class Tally:
    """Counts by status, moved as outcomes are recorded; reported at most every 0.2 s.

    Only progress reports read it: without `on_progress` (a worker's batch) nobody counts the
    whole issue first, and the zero-based counts may go negative, unread.
    """

    def __init__(self, on_progress: Callable[[Progress], None] | None = None) -> None:
        self.on_progress = on_progress
        self.counts = dict.fromkeys(DeliveryStatus, 0)
        self.sent_this_run = 0
        self.started = time.monotonic()
        self.last_report = 0.0

    @property
    def wanted(self) -> bool:
        return self.on_progress is not None

    def reset(self, counts: Counts) -> None:
        for status in DeliveryStatus:
            self.counts[status] = getattr(counts, status.value)

    def move(self, was: DeliveryStatus, now: DeliveryStatus) -> None:
        self.counts[was] -= 1
        self.counts[now] += 1
        if now == DeliveryStatus.SENT:
            self.sent_this_run += 1

    def moves(self, moves: list[Move]) -> None:
        for was, now in moves:
            self.move(was, now)

    def report(self, force: bool = False) -> None:
        if self.on_progress is None:
            return
        now = time.monotonic()
        if not force and now - self.last_report < REPORT_SECONDS:
            return
        self.last_report = now
        counts = self.counts
        self.on_progress(
            Progress(
                total=sum(counts.values()),
                sent=counts[DeliveryStatus.SENT],
                failed=counts[DeliveryStatus.FAILED],
                skipped=counts[DeliveryStatus.SKIPPED],
                retrying=counts[DeliveryStatus.DEFERRED],
                rate=self.sent_this_run / max(now - self.started, 1e-6),
                started=self.started,
            )
        )
