"""Build this period's draft: compose from stored posts, store the issue, render its variants."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session, selectinload

from newsletter.config import Settings
from newsletter.digest.compose import Choices, IssuePlan, Period, period_ending, plan_issue
from newsletter.digest.variants import audience_keys, render_variants, story_from_post
from newsletter.errors import DigestError
from newsletter.models import Issue, IssueKind, IssuePost, IssueStatus, Post

# Issues whose posts count as sent: a post that went out to anyone never goes out again.
SENT_STATES = (IssueStatus.SENDING, IssueStatus.PAUSED, IssueStatus.SENT)


@dataclass(frozen=True)
class BuildResult:
    key: str
    issue_id: int | None = None
    created: bool = False
    posts: int = 0
    excluded: int = 0
    variants: int = 0
    quiet: bool = False

    @property
    def built(self) -> bool:
        return self.issue_id is not None


def sent_post_ids(session: Session) -> set[int]:
    """Posts a weekly issue already carried, or a special issue took out of the weekly one.

    A special issue's story stays in the weekly digest unless its editor asked otherwise;
    asked, it leaves once that issue is approved (a draft may still be dropped).
    """
    weekly = and_(Issue.kind == IssueKind.WEEKLY.value, Issue.status.in_(SENT_STATES))
    taken = and_(
        Issue.kind != IssueKind.WEEKLY.value,
        Issue.leave_out_of_weekly.is_(True),
        Issue.status.in_((IssueStatus.APPROVED, *SENT_STATES)),
    )
    rows = session.scalars(
        select(IssuePost.post_id)
        .join(Issue)
        .where(or_(weekly, taken), IssuePost.excluded.is_(False))
    )
    return set(rows)


def candidate_posts(session: Session, period: Period) -> list[Post]:
    """Posts that may be new in the period; compose.is_new makes the final call."""
    query = (
        select(Post)
        .options(selectinload(Post.topics))
        .where(Post.announced.is_(False), Post.published_at < period.end)
        .where(Post.added_by.is_(None))  # added by hand: only where an editor put it
        .where(or_(Post.published_at >= period.start, Post.first_seen_at >= period.start))
    )
    return list(session.scalars(query))


def build_issue(
    session: Session,
    settings: Settings,
    now: datetime,
    topic_keys: Iterable[str] | None = None,
    click_key: str | None = None,
) -> BuildResult:
    """Build or rebuild the draft for the period ending `now`; an editor's choices are kept.

    Returns an unbuilt result (no issue id) when nothing is new and quiet weeks are skipped.
    """
    digest = settings.digest
    period = period_ending(now, settings.zone, digest.period_days, digest.key_format)
    issue = session.scalar(
        select(Issue).where(Issue.key == period.key).options(selectinload(Issue.posts))
    )
    if issue is not None and issue.status != IssueStatus.DRAFT:
        raise DigestError(f"issue {period.key} is already {issue.status.value}; it is not rebuilt")
    choices = _choices(issue) if issue is not None else Choices()
    stories = [story_from_post(post) for post in candidate_posts(session, period)]
    plan = plan_issue(stories, period, sent_post_ids(session), choices)
    if not plan.stories and digest.quiet_week == "skip":
        return BuildResult(key=period.key, issue_id=issue.id if issue is not None else None)
    created = issue is None
    if issue is None:
        issue = Issue(key=period.key, status=IssueStatus.DRAFT, created_at=now)
        session.add(issue)
    _store_plan(session, issue, plan, now)
    keys = audience_keys(session, now) if topic_keys is None else set(topic_keys)
    variants = render_variants(session, issue, settings, now, keys, click_key)
    return BuildResult(
        key=period.key,
        issue_id=issue.id,
        created=created,
        posts=len(plan.included),
        excluded=len(plan.excluded),
        variants=len(variants),
        quiet=plan.quiet,
    )


def _choices(issue: Issue) -> Choices:
    featured = issue.featured_post_id
    excluded = frozenset(entry.post_id for entry in issue.posts if entry.excluded)
    return Choices(featured_id=featured, excluded=excluded)


def _store_plan(session: Session, issue: Issue, plan: IssuePlan, now: datetime) -> None:
    issue.period_start = plan.period.start
    issue.period_end = plan.period.end
    issue.updated_at = now
    # Stories an editor added by hand are no post the plan can find: they stay, after its own.
    by_hand = [_copy(entry) for entry in issue.posts if entry.post.added_by is not None]
    issue.posts.clear()
    session.flush()
    for position, story in enumerate(plan.stories):
        issue.posts.append(
            IssuePost(
                post_id=story.id,
                position=position,
                featured=story.id == plan.featured_id,
                excluded=story.id in plan.excluded,
            )
        )
    for position, entry in enumerate(by_hand, start=len(plan.stories)):
        entry.position = position
        issue.posts.append(entry)
    session.flush()
    # The fresh rows' posts are loaded for rendering from the same session.
    session.refresh(issue, ["posts"])


def _copy(entry: IssuePost) -> IssuePost:
    """A fresh row for a story added by hand, its overrides kept."""
    return IssuePost(
        post_id=entry.post_id,
        position=entry.position,
        featured=False,
        excluded=entry.excluded,
        title_override=entry.title_override,
        teaser_override=entry.teaser_override,
        image_url_override=entry.image_url_override,
        image_alt_override=entry.image_alt_override,
    )
