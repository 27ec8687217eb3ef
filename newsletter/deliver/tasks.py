"""The batch as a Celery task, so that workers on many machines share one issue.

`digest send` (with NEWSLETTER_BROKER_URL) plans the issue and queues `delivery.lanes` tasks.
Each task runs one batch (claim → build → send → record, newsletter.deliver.batch) and queues
its own successor while deliveries remain, so the number of tasks in the queue stays at the
number of lanes. The last lane to find nothing open marks the issue sent.

A worker killed mid-batch loses its task too (acknowledged late, so the broker hands it out again
after the visibility timeout) and leaves its rows claimed until its last renewal runs out (at
most delivery.claim_seconds, newsletter.deliver.heartbeat); the other lanes then take them.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from celery import Celery

from newsletter.config import Settings, load_settings
from newsletter.deliver.batch import BATCH_SECONDS, open_sender
from newsletter.deliver.claim import holder_name, seconds_until_due
from newsletter.deliver.relays import Relay, rate_limited, relays_for
from newsletter.deliver.state import SendResult, finish, pause
from newsletter.errors import SendError
from newsletter.mail.transport import Transport
from newsletter.models import Issue, IssueStatus
from newsletter.runtime import Runtime

log = logging.getLogger(__name__)

TASK = "newsletter.deliver.send_batch"
MAX_POLL = 5.0

_process: dict[str, Any] = {}


Lane = Callable[[Runtime, int, Callable[[float], None]], str]


def make_app(settings: Settings, lane: Lane | None = None) -> Celery:
    """The Celery app for this site's broker; the same in `digest send` and `newsletter worker`.

    A worker gives the `lane` its tasks run (newsletter.pipeline.lanes.send_lane: a batch, then
    the archive feed once the issue is sent); `digest send` only queues tasks, by name.
    """
    if not settings.broker_url:
        raise SendError("no broker: set NEWSLETTER_BROKER_URL, e.g. redis://127.0.0.1:6379/0")
    app = Celery("newsletter", broker=settings.broker_url, set_as_current=False)
    claim = settings.delivery.claim_seconds
    app.conf.update(
        # A task is acknowledged once its batch is done: a worker that dies mid-batch gives it
        # back to the broker, which hands it out again after the visibility timeout.
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_ignore_result=True,
        broker_transport_options={
            "visibility_timeout": claim + BATCH_SECONDS + 60,
            "unacked_restore_interval": 5,
            "unacked_restore_throttle": 1,
        },
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
        worker_send_task_events=False,
        # One queue per site (the Redis key prefix), so that sites can share a broker.
        task_default_queue=settings.delivery.redis_prefix,
    )

    if lane is None:
        return app
    run = lane

    @app.task(name=TASK, bind=True)  # type: ignore[untyped-decorator]
    def send_batch(task: Any, issue_id: int) -> str:
        def again(countdown: float) -> None:
            task.apply_async((issue_id,), countdown=countdown)

        return run(_worker_runtime(), issue_id, again)

    return app


def _worker_runtime() -> Runtime:
    """One runtime per worker process, built in the process itself (never across a fork)."""
    runtime = _process.get("runtime")
    if runtime is None:
        runtime = Runtime.build(load_settings())
        _process["runtime"] = runtime
    assert isinstance(runtime, Runtime)
    return runtime


def _relays(runtime: Runtime) -> list[Relay]:
    relays = _process.get("relays")
    if relays is None:
        relays = shared_relays(runtime.settings, runtime.transport)
        _process["relays"] = relays
    return list(relays)


def shared_relays(
    settings: Settings, connect: Callable[[], Transport] | None = None
) -> list[Relay]:
    """The relays, with limits that must hold over every worker: those need Redis."""
    if rate_limited(settings) and not settings.shared_redis_url:
        raise SendError(
            "rate limits shared by several workers need Redis: use a redis:// broker or set "
            "NEWSLETTER_REDIS_URL"
        )
    return relays_for(settings, connect)


def run_lane(
    runtime: Runtime,
    issue_id: int,
    again: Callable[[float], None],
    relays: list[Relay] | None = None,
    stop: threading.Event | None = None,
    on_finished: Callable[[SendResult], None] | None = None,
) -> str:
    """One task's work: a batch, then its successor (now, or when the next row falls due).

    The lane that finds nothing left settles the issue and hands the result to `on_finished`.
    """
    with runtime.sessions() as session:
        issue = session.get(Issue, issue_id)
        status = issue.status if issue is not None else None
    if status != IssueStatus.SENDING:
        return f"issue {issue_id} is {status.value if status else 'gone'}; nothing to do"
    holder = holder_name("worker")
    sender = open_sender(runtime, issue_id, relays or _relays(runtime), holder, stop=stop)
    with sender:
        claimed = sender.run_batch()
    if sender.pause_reason is not None:
        pause(runtime, issue_id, sender.pause_reason)
        return f"issue {issue_id}: {sender.pause_reason}"
    if claimed:
        again(0)
        return f"issue {issue_id}: sent a batch of {claimed}"
    wait = seconds_until_due(runtime.sessions, issue_id, runtime.clock.now())
    if wait is None:
        result = finish(runtime, issue_id, None, None)
        if on_finished is not None:
            on_finished(result)
        return f"issue {issue_id}: {result.status.value}"
    if sender.still_sending():
        again(min(max(wait, 0.2), MAX_POLL))
    return f"issue {issue_id}: waiting {wait:.1f}s for the next delivery to fall due"
