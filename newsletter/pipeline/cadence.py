"""digest → review: the daily digest at its hour and each story's email, built and let go by policy.

Run every minute by the scheduler when the publisher offers those cadences. What it approves
the send job sends once due (pipeline/due.py), through the same planning, receipts, ledger,
bounces and analytics as every issue. The policies (`[digest] policy_daily`, `policy_each`):
"automatic" approves it for now, "delay" for after `each_delay_minutes` (an editor may take it
back meanwhile: held, it waits as a draft for approval), "approval" leaves a draft.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy.orm import selectinload

from newsletter.config import Settings
from newsletter.digest.cadence import (
    add_stories,
    build_daily,
    build_story,
    catch_up_since,
    open_story_issue,
    story_posts,
)
from newsletter.digest.cadence_times import next_daily, story_due
from newsletter.digest.special import LABELS
from newsletter.editors import review
from newsletter.editors.notify import tell_editors
from newsletter.errors import NewsletterError
from newsletter.mail.transport import Transport
from newsletter.models import Issue, IssuePost, IssueStatus, Post
from newsletter.runtime import Runtime
from subscribers.models import Cadence

APPROVER = "automatic ({policy})"
# What a build did, in a line, and the id of a draft left for approval (to announce), if any.
Built = tuple[str, int | None]


def run(runtime: Runtime, transport_factory: Callable[[], Transport] | None = None) -> str:
    """Build what is due for the daily and every-story readers; one line of what was done.

    A draft left for approval is announced to the editors, as the weekly draft is.
    """
    offered = runtime.cadences
    built: list[Built] = []
    for cadence, job in ((Cadence.DAILY, daily), (Cadence.EACH, stories)):
        if cadence in offered:
            # One failing (a template error, a refused approval) never stops the other.
            try:
                built.append(job(runtime))
            except NewsletterError as exc:
                built.append((f"{cadence.value}: not built: {exc}", None))
    lines = []
    for line, waiting in built:
        if waiting is not None:
            line += "; " + _announce(runtime, transport_factory or runtime.transport, waiting)
        if line:
            lines.append(line)
    return "; ".join(lines) or "nothing new for daily or story readers"


def _announce(runtime: Runtime, transport_factory: Callable[[], Transport], issue_id: int) -> str:
    with runtime.sessions() as session:
        issue = session.get(
            Issue, issue_id, options=[selectinload(Issue.posts).joinedload(IssuePost.post)]
        )
        assert issue is not None
        return tell_editors(
            session,
            runtime.settings,
            transport_factory,
            "draft_ready",
            issue,
            runtime.clock.now(),
            titles=[entry.post.title for entry in issue.posts],
            kind_label=LABELS[issue.kind],
            waits=True,
        )


def last_daily_slot(settings: Settings, now: datetime) -> datetime:
    """The latest daily send time at or before `now` (days of 23 or 25 hours included)."""
    at, zone = settings.digest.daily_send_time, settings.zone
    slot = next_daily(now - timedelta(days=2), zone, at)
    while (later := next_daily(slot, zone, at)) <= now:
        slot = later
    return slot


def daily(runtime: Runtime) -> Built:
    """Today's daily digest once its hour has come (within the send grace), if anyone is owed
    a story; built once."""
    settings, now = runtime.settings, runtime.clock.now()
    slot = last_daily_slot(settings, now)
    if now - slot > timedelta(hours=settings.schedule.send_grace_hours):
        return "", None
    with runtime.sessions.begin() as session:
        issue = build_daily(session, settings, slot, now, click_key=runtime.signing_key)
        if issue is None:
            return "", None
        policy = settings.digest.policy_daily
        delay = timedelta(minutes=settings.digest.each_delay_minutes)
        line = f"daily digest {issue.key} ({len(issue.posts)} stories) " + _let_go(
            issue, policy, slot + delay if policy == "delay" else slot, now
        )
        return line, issue.id if issue.status == IssueStatus.DRAFT else None


def stories(runtime: Runtime) -> Built:
    """Stories that came in for readers of every story: into the email still waiting, else a
    new one, due after the delay and outside quiet hours."""
    settings, now = runtime.settings, runtime.clock.now()
    digest = settings.digest
    with runtime.sessions.begin() as session:
        since = catch_up_since(session, settings, now)
        fresh, again = story_posts(session, since, now)
        if not fresh:
            return "", None
        waiting = open_story_issue(session, now)
        if waiting is not None:
            add_stories(session, settings, waiting, fresh, now, runtime.signing_key)
            return f"{len(fresh)} more stories in {waiting.key}", None
        issue = build_story(session, settings, fresh, again, since, now, runtime.signing_key)
        policy = digest.policy_each
        delay = digest.each_delay_minutes if policy == "delay" else 0
        due = story_due(_arrived(fresh[0]), delay, digest.quiet_window, settings.zone)
        line = f"story email {issue.key} ({len(fresh)} new) " + _let_go(issue, policy, due, now)
        return line, issue.id if issue.status == IssueStatus.DRAFT else None


def _let_go(issue: Issue, policy: str, send_at: datetime, now: datetime) -> str:
    if policy == "approval":
        return "waits for approval"
    goes = max(send_at, now)
    review.approve(issue, APPROVER.format(policy=policy), now, goes)
    assert issue.status == IssueStatus.APPROVED
    return f"approved to go at {goes:%Y-%m-%d %H:%M} UTC"


def _arrived(post: Post) -> datetime:
    return post.first_seen_at or post.published_at
