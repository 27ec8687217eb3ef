"""The scheduled jobs: each triggers a pipeline use case and returns a one-line summary of it.

The job store keeps jobs by reference ("newsletter.schedule.jobs:send_job"), so the entry
points take no arguments; they find the runtime of the scheduler that holds the lease in
this process. The functions they call take everything, the clock included, as arguments.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

from newsletter.collect.run import CollectReport
from newsletter.deliver.bounces import process_with_settings
from newsletter.errors import CollectError, ScheduleError
from newsletter.mail.transport import Transport
from newsletter.pipeline import cadence, due
from newsletter.pipeline.clicks import fold_old_clicks
from newsletter.pipeline.draft import build_draft
from newsletter.pipeline.outbound_webhooks import forget_old_deliveries, run_webhooks
from newsletter.pipeline.publishing import collect_and_publish
from newsletter.runtime import Runtime
from subscribers.hygiene import prune_unconfirmed
from subscribers.ratelimit import DatabaseStore

log = logging.getLogger(__name__)


@dataclass
class JobContext:
    runtime: Runtime
    transport_factory: Callable[[], Transport]
    stop: threading.Event


_active: JobContext | None = None
_guard = threading.Lock()


def bind(context: JobContext) -> None:
    """Jobs run with this context from now on (the lease holder calls it when it leads)."""
    global _active
    with _guard:
        _active = context


def unbind(context: JobContext) -> None:
    global _active
    with _guard:
        if _active is context:
            _active = None


def _context() -> JobContext:
    with _guard:
        if _active is None:
            raise ScheduleError("no scheduler holds the lease in this process")
        return _active


# -- entry points (what the job store names) ------------------------------------------------


def collect_job() -> str:
    return collect(_context().runtime)


def build_job() -> str:
    context = _context()
    return build(context.runtime, context.transport_factory)


def send_job() -> str:
    context = _context()
    return send_due(context.runtime, context.transport_factory, context.stop)


def cadences_job() -> str:
    context = _context()
    return cadence.run(context.runtime, context.transport_factory)


def bounces_job() -> str:
    return bounces(_context().runtime)


def tidy_job() -> str:
    return tidy(_context().runtime)


def webhooks_job() -> str:
    return run_webhooks(_context().runtime)


def clicks_job() -> str:
    return clicks(_context().runtime)


# -- the jobs ---------------------------------------------------------------------------------


def collect(runtime: Runtime) -> str:
    """collect → publish; an error only when no source could be read at all."""
    report: CollectReport = collect_and_publish(runtime)
    line = (
        f"{len(report.sources)} sources: {len(report.new_post_ids)} new, "
        f"{len(report.updated_post_ids)} updated posts"
    )
    failed = report.failed
    if failed:
        line += "; failed: " + "; ".join(f"{r.name}: {r.error}" for r in failed)
        if len(failed) == len(report.sources):
            raise CollectError(line)
    return line


def build(runtime: Runtime, transport_factory: Callable[[], Transport]) -> str:
    """Build this week's draft; a new one is announced to the editors with its preview link."""
    result, told = build_draft(runtime, transport_factory)
    if not result.built:
        return f"{result.key}: nothing new; no issue built"
    verb = "built" if result.created else "rebuilt"
    line = f"{verb} draft {result.key} (issue {result.issue_id}, {result.posts} posts)"
    return f"{line}; {told}" if told else line


def send_due(
    runtime: Runtime, transport_factory: Callable[[], Transport], stop: threading.Event
) -> str:
    """Send what is due, resume what was interrupted, hold what nobody approved."""
    return due.send_due(runtime, transport_factory, stop)


def bounces(runtime: Runtime) -> str:
    path = runtime.settings.schedule.bounce_mailbox
    if path is None:
        return "no bounce mailbox configured"
    report = process_with_settings(runtime, path)
    return (
        f"{report.hard} hard bounces, {report.soft} soft, {report.complaints} complaints, "
        f"{report.unsubscribes} unsubscribes; {len(report.left_alone)} left alone, "
        f"{len(report.unattributed)} unattributed (forged or not ours: nothing changed)"
    )


def tidy(runtime: Runtime) -> str:
    """Signup rate-limit windows that have ended are forgotten (one row per address otherwise),
    and signups never confirmed within `subscribers.prune_unconfirmed_days` are deleted."""
    settings = runtime.settings.subscribers
    now = runtime.clock.now()
    purged = DatabaseStore(runtime.sessions).purge(now, settings.rate_limit_window)
    pruned = prune_unconfirmed(runtime.sessions, now, settings.prune_unconfirmed_days)
    forgotten = forget_old_deliveries(runtime)
    return (
        f"forgot {purged} expired rate-limit counters; deleted {pruned} unconfirmed signups "
        f"and {forgotten} webhook deliveries settled over 30 days ago"
    )


def clicks(runtime: Runtime) -> str:
    """Per-subscriber click events past `analytics.retention_days` become hourly counts."""
    folded = fold_old_clicks(runtime)
    days = runtime.settings.analytics.retention_days
    return f"folded {folded} click events older than {days} days into the hourly counts"
