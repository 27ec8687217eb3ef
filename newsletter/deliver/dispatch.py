"""`digest send` with a broker: plan, queue the lanes, then watch the delivery rows fill in."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from kombu.exceptions import OperationalError

from newsletter.deliver.batch import Progress
from newsletter.deliver.lock import issue_lock
from newsletter.deliver.plan import RecipientKeys, RenderVariant, delivery_counts, same_keys
from newsletter.deliver.state import SendResult, start
from newsletter.deliver.tally import progress_of
from newsletter.deliver.tasks import TASK, make_app, shared_relays
from newsletter.errors import SendError
from newsletter.models import Issue, IssueStatus
from newsletter.runtime import Runtime

POLL = 0.5
DONE = (IssueStatus.SENT, IssueStatus.PAUSED, IssueStatus.CANCELLED)


def enqueue(
    runtime: Runtime,
    issue_id: int,
    render_missing: RenderVariant,
    recipient_keys: RecipientKeys = same_keys,
) -> int:
    """Plan (or resume) the issue and queue `delivery.lanes` batch tasks; return how many."""
    shared_relays(runtime.settings)  # refuse limits that could not hold across workers
    with issue_lock(runtime.engine, runtime.settings.var_dir, issue_id):
        start(runtime, issue_id, render_missing, recipient_keys)
    app = make_app(runtime.settings)
    lanes = runtime.settings.delivery.lanes
    try:
        with app.producer_or_acquire() as producer:
            for _ in range(lanes):
                app.send_task(TASK, (issue_id,), producer=producer)
    except (OperationalError, OSError) as exc:
        raise SendError(
            f"cannot queue issue {issue_id} on the broker: {exc}; nothing was sent, the issue "
            "stays sending: run `newsletter digest send` again once the broker is back"
        ) from None
    return lanes


def watch(
    runtime: Runtime,
    issue_id: int,
    on_progress: Callable[[Progress], None] | None = None,
    stop: threading.Event | None = None,
) -> SendResult:
    """Report progress from the delivery rows until the issue is sent or paused (or `stop`)."""
    stop = stop or threading.Event()
    started = time.monotonic()
    first_sent: int | None = None
    while True:
        with runtime.sessions() as session:
            issue = session.get(Issue, issue_id)
            assert issue is not None
            status, reason = issue.status, issue.status_reason
            counts = delivery_counts(session, issue_id)
        if first_sent is None:
            first_sent = counts.sent
        if on_progress is not None:
            on_progress(progress_of(counts, started, first_sent))
        if status in DONE or stop.is_set():
            if status not in DONE:
                reason = (
                    "the workers carry on; run `newsletter digest send "
                    f"{issue_id}` again to watch, or `newsletter digest pause {issue_id}`"
                )
            return SendResult(issue_id, status, counts, reason)
        stop.wait(POLL)
