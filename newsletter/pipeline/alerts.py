"""collect/deliver → editors: one email when a source gets into trouble, one when it is over,
and one when a send pauses. What was told is kept (sources.alert, issues.pause_told_at), so
every run may check and nobody hears the same thing twice; a mail that failed is tried again.
"""

from __future__ import annotations

import itertools
import statistics
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from newsletter.collect.run import PULLED_KINDS
from newsletter.config import Settings
from newsletter.editors.notify import NOT_TOLD, mail_editors, tell_editors
from newsletter.mail.transport import Transport
from newsletter.models import Issue, IssueStatus, Post, PostSource, Source
from newsletter.runtime import Runtime

# A source's usual interval is read from its last posts; fewer than this, and it has none yet.
INTERVAL_POSTS = 5
RECENT = 20


def tell_source_alerts(
    runtime: Runtime, transport_factory: Callable[[], Transport] | None = None
) -> list[str]:
    """Tell the editors of each enabled pulled source newly in trouble or newly out of it."""
    settings, now = runtime.settings, runtime.clock.now()
    lines = []
    with runtime.sessions.begin() as session:
        sources = session.scalars(
            select(Source).where(Source.enabled.is_(True), Source.kind.in_(PULLED_KINDS))
        ).all()
        for source in sources:
            trouble = source_trouble(session, settings, source, now)
            if trouble is not None and source.alert is None:
                told = _tell(
                    session,
                    settings,
                    transport_factory or runtime.transport,
                    source,
                    now,
                    "source_trouble",
                    trouble=trouble,
                    short=trouble.split(":")[0],
                )
                source.alert = None if told.startswith(NOT_TOLD) else trouble[:500]
                lines.append(f"source {source.name}: {trouble}; {told}")
            elif trouble is None and source.alert is not None:
                how = source.last_summary or "read again"
                told = _tell(
                    session,
                    settings,
                    transport_factory or runtime.transport,
                    source,
                    now,
                    "source_recovered",
                    trouble=source.alert,
                    how=how,
                )
                if not told.startswith(NOT_TOLD):
                    source.alert = None
                lines.append(f"source {source.name} recovered; {told}")
    return lines


QUIET_AT_LEAST = timedelta(days=1)


def source_trouble(
    session: Session, settings: Settings, source: Source, now: datetime
) -> str | None:
    """What is wrong with a source, in a line; None when nothing is."""
    failures = source.failures_in_row or 0
    if failures >= settings.collect.alert_after_failures:
        return f"failed {failures} runs in a row: {source.last_error or 'no reason recorded'}"
    # Publication dates, not first-seen times: a first run that finds twenty posts at once says
    # nothing about how often the source publishes. Dates ahead of now are a source's error.
    seen = session.scalars(
        select(Post.published_at)
        .join(PostSource, PostSource.post_id == Post.id)
        .where(PostSource.source_id == source.id, Post.published_at <= now)
        .order_by(Post.published_at.desc())
        .limit(RECENT)
    ).all()
    if len(seen) < INTERVAL_POSTS:
        return None
    gaps = [(newer - older).total_seconds() for newer, older in itertools.pairwise(seen)]
    usual = timedelta(seconds=statistics.median(gaps))
    quiet = now - seen[0]
    # Never within a day: a site that posts in bursts minutes apart (or a demo whose posts all
    # date from its start) would otherwise be "quiet" an hour after its last burst.
    if quiet > max(usual * settings.collect.alert_quiet_factor, QUIET_AT_LEAST):
        return (
            f"quiet: no new post for {_days(quiet)}, where it usually brings one every "
            f"{_days(usual)}"
        )
    return None


def tell_paused(
    runtime: Runtime, transport_factory: Callable[[], Transport] | None = None
) -> list[str]:
    """Tell the editors of each send that paused since they were last told, with its reason."""
    settings, now = runtime.settings, runtime.clock.now()
    lines = []
    with runtime.sessions.begin() as session:
        issues = session.scalars(select(Issue).where(Issue.status == IssueStatus.PAUSED)).all()
        for issue in issues:
            if issue.pause_told_at is not None and issue.pause_told_at >= issue.updated_at:
                continue
            reason = issue.status_reason or "no reason recorded"
            told = tell_editors(
                session,
                settings,
                transport_factory or runtime.transport,
                "paused",
                issue,
                now,
                reason=reason,
                short_reason=reason.split(":")[0][:80],
            )
            if not told.startswith(NOT_TOLD):
                issue.pause_told_at = now
            lines.append(f"issue {issue.key} paused ({reason}); {told}")
    return lines


def _tell(
    session: Session,
    settings: Settings,
    transport_factory: Callable[[], Transport],
    source: Source,
    now: datetime,
    action: str,
    **context: str,
) -> str:
    page = f"{settings.site.base_url}/admin/sources/{source.id}"
    return mail_editors(
        session,
        settings,
        transport_factory,
        action,
        now,
        f"source {source.name}",
        name=source.name,
        page_url=page,
        **context,
    )


def _days(span: timedelta) -> str:
    hours = span.total_seconds() / 3600
    if hours < 1:
        return f"{hours * 60:.0f} minutes"
    if hours < 48:
        return f"{hours:.0f} hours"
    return f"{hours / 24:.0f} days"
