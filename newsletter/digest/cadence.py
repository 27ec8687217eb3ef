"""Daily digests and single-story emails: which posts each carries, stored as issues to send.

Both carry the posts some reader of their cadence has not received (no receipt) since the last
weekly issue's period ended: a steady reader's copy is only what is new to them (the receipts
rule leaves out the rest when the issue is planned), and a reader who moved to this cadence
mid-week is caught up on the stories the weekly issue would have carried, none skipped.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime, timedelta

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import Session

from newsletter.config import Settings
from newsletter.digest.special import special_key
from newsletter.digest.variants import rerender
from newsletter.models import (
    Issue,
    IssueKind,
    IssuePost,
    IssueStatus,
    Post,
    StoryReceipt,
    post_topics,
)
from subscribers.audience import receives
from subscribers.models import Cadence, Subscriber, SubscriberTopic

# At most this many posts in one issue: a week of a busy newsroom's stories; older ones wait.
MAX_POSTS = 300
# Issues that went, or are going, to their readers.
GONE = (IssueStatus.SENDING, IssueStatus.PAUSED, IssueStatus.SENT)


def catch_up_since(session: Session, settings: Settings, now: datetime) -> datetime:
    """Where the stories still owed to someone begin: the end of the last weekly issue's
    period (what it carried every weekly reader has), else a weekly period ago."""
    end = session.scalar(
        select(func.max(Issue.period_end)).where(
            Issue.kind == IssueKind.WEEKLY.value, Issue.status.in_(GONE)
        )
    )
    floor = now - timedelta(days=settings.digest.period_days)
    return max(end, floor) if end is not None else floor


def owed(
    session: Session,
    cadence: Cadence,
    since: datetime,
    until: datetime,
    now: datetime,
    *,
    among: Collection[int] | None = None,
    besides: Collection[int] = (),
) -> list[Post]:
    """Posts that came in [since, until] which some reader of `cadence` on one of their topics
    has not received, oldest first (at most MAX_POSTS); only those `among` when given, none of
    `besides`. Each post asks whether one such reader exists, so the database stops at the
    first it finds."""
    arrived = func.coalesce(Post.first_seen_at, Post.published_at)
    lacking = exists().where(
        post_topics.c.post_id == Post.id,
        SubscriberTopic.topic_id == post_topics.c.topic_id,
        SubscriberTopic.cadence == cadence,
        Subscriber.id == SubscriberTopic.subscriber_id,
        receives(now),
        # Post is two levels out: named, or SQLAlchemy would read it as this query's own.
        ~exists()
        .where(
            StoryReceipt.subscriber_id == SubscriberTopic.subscriber_id,
            StoryReceipt.post_id == Post.id,
        )
        .correlate_except(StoryReceipt),
    )
    query = (
        select(Post)
        .where(Post.announced.is_(False), Post.added_by.is_(None))
        .where(or_(Post.published_at >= since, Post.first_seen_at >= since), arrived <= until)
        .where(lacking)
        .order_by(arrived, Post.id)
        .limit(MAX_POSTS)
    )
    if among is not None:
        query = query.where(Post.id.in_(among))
    if besides:
        query = query.where(Post.id.not_in(besides))
    return list(session.scalars(query))


def daily_key(send_at: datetime, settings: Settings) -> str:
    return f"{send_at.astimezone(settings.zone):%Y-%m-%d}-daily"


def build_daily(
    session: Session,
    settings: Settings,
    send_at: datetime,
    now: datetime,
    click_key: str | None = None,
) -> Issue | None:
    """The daily digest for `send_at`, stored and rendered as a draft; None when it exists
    already or no daily reader is owed anything (a day with nothing new sends nothing)."""
    key = daily_key(send_at, settings)
    if session.scalar(select(Issue.id).where(Issue.key == key)) is not None:
        return None
    lookback = send_at - timedelta(hours=settings.digest.daily_lookback_hours)
    since = min(lookback, catch_up_since(session, settings, now))
    posts = owed(session, Cadence.DAILY, since, send_at, now)
    if not posts:
        return None
    # Newest first, as the site lists them.
    newest = list(reversed(posts))
    return _store(session, settings, key, IssueKind.DAILY, newest, since, send_at, now, click_key)


def open_story_issue(session: Session, now: datetime) -> Issue | None:
    """The single-story email still waiting (a draft, or approved and not yet due), if any:
    a story that comes in meanwhile goes with it."""
    return session.scalar(
        select(Issue)
        .where(Issue.kind == IssueKind.STORY.value)
        .where(
            or_(
                Issue.status == IssueStatus.DRAFT,
                and_(Issue.status == IssueStatus.APPROVED, Issue.send_at > now),
            )
        )
        .order_by(Issue.id.desc())
        .limit(1)
    )


def story_posts(session: Session, since: datetime, now: datetime) -> tuple[list[Post], list[Post]]:
    """Posts owed to some reader of every story: those no single-story email has carried yet
    (in the order they came in), and the others, which a reader new to the cadence lacks.

    A post whose only story emails an editor cancelled is neither: cancelled, it stays unsent.
    """
    rows = session.execute(
        select(IssuePost.post_id, Issue.status)
        .join(Issue, Issue.id == IssuePost.issue_id)
        .where(Issue.kind == IssueKind.STORY.value, Issue.period_end >= since)
    )
    carried: set[int] = set()
    live: set[int] = set()
    for post_id, status in rows:
        carried.add(post_id)
        if status != IssueStatus.CANCELLED:
            live.add(post_id)
    # Most minutes nothing new came in: asked first, about the posts no story email carried,
    # which is quick; only then which carried ones a reader who is new to the cadence lacks.
    fresh = owed(session, Cadence.EACH, since, now, now, besides=carried)
    if not fresh:
        return [], []
    return fresh, owed(session, Cadence.EACH, since, now, now, among=live)


def build_story(
    session: Session,
    settings: Settings,
    fresh: Sequence[Post],
    again: Sequence[Post],
    since: datetime,
    now: datetime,
    click_key: str | None = None,
) -> Issue:
    """A single-story email about `fresh` (the first one leads), with `again` after them for
    whoever lacks those, as a draft."""
    kind = f"story-{fresh[0].id}"
    taken = session.scalars(select(Issue.key).where(Issue.key.like(f"%-{kind}%")))
    key = special_key(kind, now, settings.zone, taken)
    ordered = [*fresh, *reversed(again)]
    return _store(session, settings, key, IssueKind.STORY, ordered, since, now, now, click_key)


def add_stories(
    session: Session,
    settings: Settings,
    issue: Issue,
    posts: Sequence[Post],
    now: datetime,
    click_key: str | None = None,
) -> None:
    """More stories for a waiting single-story email, after its own; rendered again."""
    known = {entry.post_id for entry in issue.posts}
    start = len(issue.posts)
    for offset, post in enumerate(p for p in posts if p.id not in known):
        issue.posts.append(IssuePost(post_id=post.id, position=start + offset))
    issue.updated_at = now
    rerender(session, issue, settings, now, click_key)


def _store(
    session: Session,
    settings: Settings,
    key: str,
    kind: IssueKind,
    posts: Sequence[Post],
    since: datetime,
    until: datetime,
    now: datetime,
    click_key: str | None,
) -> Issue:
    """A draft of `kind` carrying `posts` in that order (a story email's first leads)."""
    issue = Issue(
        key=key,
        kind=kind.value,
        status=IssueStatus.DRAFT,
        period_start=since,
        period_end=until,
        created_at=now,
        updated_at=now,
        featured_post_id=posts[0].id if kind == IssueKind.STORY else None,
    )
    session.add(issue)
    for position, post in enumerate(posts):
        issue.posts.append(
            IssuePost(
                post_id=post.id,
                position=position,
                featured=position == 0 and kind == IssueKind.STORY,
            )
        )
    rerender(session, issue, settings, now, click_key)
    return issue
