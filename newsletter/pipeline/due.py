"""review → deliver: what is due is sent or resumed, approved automatically, or held and told."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from newsletter.config import Settings
from newsletter.editors import review
from newsletter.editors.notify import local, tell_editors
from newsletter.editors.review import next_slot
from newsletter.errors import SendError
from newsletter.mail.transport import Transport
from newsletter.models import Issue, IssueKind, IssueStatus
from newsletter.pipeline.alerts import tell_paused
from newsletter.pipeline.send import send
from newsletter.runtime import Runtime

AUTO_APPROVER = "auto-send"


@dataclass
class Decisions:
    send: list[int] = field(default_factory=list)  # approved and due, or interrupted: resume
    approve: list[Issue] = field(default_factory=list)  # drafts at their slot with auto_send
    hold: list[tuple[Issue, str]] = field(default_factory=list)  # not sent; editors are told


def send_slot(issue: Issue, settings: Settings) -> datetime:
    """A draft's send time: the first send slot ("fri 10:00", local) after it was built."""
    return next_slot(settings.digest.send, settings.zone, issue.period_end)


def decide(session: Session, settings: Settings, now: datetime) -> Decisions:
    """Sort the open issues; a time passed longer than the grace period ago is never acted on."""
    grace = timedelta(hours=settings.schedule.send_grace_hours)
    late = f"its send time passed more than {settings.schedule.send_grace_hours:g} hours ago"
    decisions = Decisions()
    issues = session.scalars(
        select(Issue)
        .where(Issue.status.in_([IssueStatus.DRAFT, IssueStatus.APPROVED, IssueStatus.SENDING]))
        .order_by(Issue.id)
    )
    for issue in issues:
        if issue.status == IssueStatus.SENDING:
            # Stopped by a restart or a signal, or waiting on deferred deliveries: carry on.
            decisions.send.append(issue.id)
        elif issue.status == IssueStatus.APPROVED:
            if issue.send_at is None or issue.send_at > now:
                continue
            if issue.send_at >= now - grace:
                decisions.send.append(issue.id)
            elif issue.held_at is None or issue.held_at < issue.send_at:
                decisions.hold.append((issue, f"{late} (the service was not running)"))
        elif issue.kind != IssueKind.WEEKLY.value:
            # A special issue has no slot: it goes when approved, never by auto_send.
            continue
        elif issue.held_at is None:
            slot = send_slot(issue, settings)
            if slot > now:
                continue
            if not settings.digest.auto_send:
                decisions.hold.append((issue, "no publisher approved it by its send time"))
            elif slot >= now - grace:
                decisions.approve.append(issue)
            else:
                decisions.hold.append((issue, f"{late}; it was not sent automatically"))
    return decisions


def send_due(
    runtime: Runtime, transport_factory: Callable[[], Transport], stop: threading.Event
) -> str:
    """Send what is due, resume what was interrupted, hold what nobody approved; one line."""
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
    # However it paused (here, a worker, `digest send`), the editors hear of it once.
    lines.extend(tell_paused(runtime, transport_factory))
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
        # With a broker the workers send: an approved issue is queued once, a sending one is theirs.
        with runtime.sessions() as session:
            issue = session.get(Issue, issue_id)
            if issue is None or issue.status != IssueStatus.APPROVED:
                return f"issue {issue_id}: being sent by the workers"
    try:
        return send(runtime, issue_id, transport_factory, wait=False, stop=stop).summary()
    except SendError as exc:
        # Being sent by `newsletter digest send` elsewhere, cancelled meanwhile, ...: not ours.
        return f"issue {issue_id}: {exc}"
