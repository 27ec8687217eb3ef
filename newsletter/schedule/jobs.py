"""The scheduled jobs: each calls pipeline stages and returns a one-line summary of its run.

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
from newsletter.deliver.send import send_issue
from newsletter.deliver.transport import Transport
from newsletter.editors import review
from newsletter.editors.notify import local, tell_editors
from newsletter.errors import CollectError, ScheduleError, SendError
from newsletter.models import Issue, IssueStatus
from newsletter.pipeline.draft import build_draft
from newsletter.pipeline.publishing import collect_and_publish
from newsletter.pipeline.send import variant_renderer
from newsletter.publish.rebuild import rebuild
from newsletter.runtime import Runtime
from newsletter.schedule.due import AUTO_APPROVER, decide, send_slot
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


def bounces_job() -> str:
    return bounces(_context().runtime)


def tidy_job() -> str:
    return tidy(_context().runtime)


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
    settings = runtime.settings
    now = runtime.clock.now()
    lines: list[str] = []
    held: list[tuple[int, str]] = []
    with runtime.sessions.begin() as session:
        decisions = decide(session, settings, now)
        for issue in decisions.approve:
            review.approve(issue, AUTO_APPROVER, now, now)
            decisions.send.append(issue.id)
            lines.append(f"issue {issue.key} approved automatically (digest.auto_send)")
        for issue, reason in decisions.hold:
            issue.held_at = now
            issue.status_reason = f"held: {reason}"
            issue.updated_at = now
            held.append((issue.id, reason))
    for issue_id, reason in held:
        lines.append(_tell_held(runtime, transport_factory, issue_id, reason))
    for issue_id in sorted(set(decisions.send)):
        if stop.is_set():
            break
        lines.append(_send(runtime, transport_factory, issue_id, stop))
    return "; ".join(lines) or "nothing due"


def _tell_held(
    runtime: Runtime, transport_factory: Callable[[], Transport], issue_id: int, reason: str
) -> str:
    settings = runtime.settings
    now = runtime.clock.now()
    with runtime.sessions() as session:
        issue = session.get(Issue, issue_id)
        assert issue is not None
        due = issue.send_at if issue.status == IssueStatus.APPROVED else None
        told = tell_editors(
            session,
            settings,
            transport_factory,
            "held",
            issue,
            now,
            reason=reason,
            short_reason="not approved" if due is None else "send time missed",
            slot=local(due or send_slot(issue, settings), settings),
        )
        return f"issue {issue.key} held ({reason}); {told}"


def _send(
    runtime: Runtime,
    transport_factory: Callable[[], Transport],
    issue_id: int,
    stop: threading.Event,
) -> str:
    if runtime.settings.broker_url is not None:
        return _queue(runtime, issue_id)
    try:
        result = send_issue(
            runtime,
            issue_id,
            transport_factory,
            render_missing=variant_renderer(runtime),
            stop=stop,
        )
    except SendError as exc:
        # Being sent by `newsletter digest send` elsewhere, cancelled meanwhile, ...: not ours.
        return f"issue {issue_id}: {exc}"
    if result.status == IssueStatus.SENT:
        # The archive feed lists sent issues.
        rebuild(runtime, set())
    return result.summary()


def _queue(runtime: Runtime, issue_id: int) -> str:
    """With a broker the workers send: an approved issue is queued once, a sending one is theirs."""
    from newsletter.deliver.dispatch import enqueue

    with runtime.sessions() as session:
        issue = session.get(Issue, issue_id)
        if issue is None or issue.status != IssueStatus.APPROVED:
            return f"issue {issue_id}: being sent by the workers"
    try:
        lanes = enqueue(runtime, issue_id, variant_renderer(runtime))
    except SendError as exc:
        return f"issue {issue_id}: {exc}"
    return f"issue {issue_id}: queued {lanes} batch tasks for the workers"


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
    """Signup rate-limit windows that have ended are forgotten; one row per address otherwise."""
    window = runtime.settings.subscribers.rate_limit_window
    purged = DatabaseStore(runtime.sessions).purge(runtime.clock.now(), window)
    return f"forgot {purged} expired rate-limit counters"
