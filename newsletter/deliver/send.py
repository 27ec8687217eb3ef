"""Sending in this process: plan, then run batches (newsletter.deliver.batch) until none is left.

One sender per issue holds the issue lock, so claims left by an earlier in-process sender that
was killed are freed at once; claims held by Celery workers are left to run out.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta

from sqlalchemy import select

from newsletter.deliver.batch import Progress, Sender, open_sender
from newsletter.deliver.claim import LOCAL, holder_name, release_local, seconds_until_due
from newsletter.deliver.lock import issue_lock
from newsletter.deliver.plan import RecipientKeys, RenderVariant, no_variant, same_keys
from newsletter.deliver.relays import relays_for
from newsletter.deliver.setup import mail_setup
from newsletter.deliver.state import SendResult, finish, start
from newsletter.mail.transport import Transport
from newsletter.models import Delivery, IssueStatus
from newsletter.runtime import Runtime

__all__ = ["Progress", "SendResult", "drain", "mail_setup", "send_issue"]

STOPPED = "stopped before the end; run digest send again to continue"


def send_issue(
    runtime: Runtime,
    issue_id: int,
    transport_factory: Callable[[], Transport] | None = None,
    *,
    render_missing: RenderVariant = no_variant,
    recipient_keys: RecipientKeys = same_keys,
    on_progress: Callable[[Progress], None] | None = None,
    stop: threading.Event | None = None,
) -> SendResult:
    """Send (or resume) an approved issue to every eligible subscriber, each exactly once.

    `transport_factory` makes the default relay's connections (NEWSLETTER_SMTP_URL or the
    outbox when None); `delivery.relays`, when configured, replace it. A relay or outbox that
    refuses everything pauses the issue: the result is paused, with `fault` set and the reason.
    """
    stop = stop or threading.Event()
    with issue_lock(runtime.engine, runtime.settings.var_dir, issue_id):
        start(runtime, issue_id, render_missing, recipient_keys)
        release_local(runtime.sessions, issue_id)
        relays = relays_for(
            runtime.settings,
            transport_factory or runtime.transport,
            lambda: _sent_last_hour(runtime),
        )
        holder = holder_name(LOCAL.rstrip(":"))
        sender = open_sender(runtime, issue_id, relays, holder, on_progress=on_progress, stop=stop)
        with sender:
            drain(runtime, issue_id, sender, stop)
        result = finish(runtime, issue_id, sender.pause_reason, STOPPED)
        if sender.pause_reason is not None and result.status == IssueStatus.PAUSED:
            result = replace(result, fault=True)
        sender.refresh_tally(result.counts)
        sender.report()
        return result


def drain(runtime: Runtime, issue_id: int, sender: Sender, stop: threading.Event) -> None:
    """Run batches until nothing is left open, the sender halts, or the issue stops sending.

    The in-process sender and each of `digest send --processes N`'s senders run this loop.
    """
    while not sender.halted:
        if sender.run_batch():
            continue
        wait = seconds_until_due(runtime.sessions, issue_id, runtime.clock.now())
        if wait is None or not sender.still_sending():
            break
        sender.report()
        stop.wait(min(max(wait, 0.05), 5.0))


def _sent_last_hour(runtime: Runtime) -> list[float]:
    """Earlier runs' sends in the last hour count against the relay's hourly quota too."""
    now = runtime.clock.now()
    mono = time.monotonic()
    with runtime.sessions() as session:
        times = session.scalars(
            select(Delivery.sent_at).where(Delivery.sent_at > now - timedelta(hours=1))
        ).all()
    return [mono - (now - at).total_seconds() for at in times if at is not None]
