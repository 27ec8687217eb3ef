"""A story once a day: readers who had one of an issue's stories today get it without it.

The rule, applied when an issue's deliveries are planned (and when the editors' count is made):
a reader whose delivery of another issue carrying story P was sent today, or is still to go
(planned today), gets this issue without P: the variant key says so (special.without), so
each such group of readers has a stored variant of its own. A weekly digest sent the day of a
breaking-news email about P leaves P out of those readers' copies; a breaking-news email
about P sent the day a digest carried P skips the readers who had it. "Today" is the site's
local day. Readers the other issue never reached (another topic, past its story cap) are not
affected: what counts is the variant each of them got.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, selectinload

from newsletter.deliver.plan import RecipientKeys
from newsletter.digest.special import without
from newsletter.models import Delivery, DeliveryStatus, Issue, IssuePost, IssueVariant
from subscribers.audience import Recipient

# Deliveries that reach (or will reach) the reader.
CARRIED = (DeliveryStatus.PENDING, DeliveryStatus.DEFERRED, DeliveryStatus.SENT)


def local_day(now: datetime, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The site's calendar day around `now`, as two aware instants."""
    local = now.astimezone(zone)
    start = local.replace(hour=0, minute=0, second=0, microsecond=0, tzinfo=None)
    return start.replace(tzinfo=zone), (start + timedelta(days=1)).replace(tzinfo=zone)


def same_day_keys(now: datetime, zone: ZoneInfo, cap: int) -> RecipientKeys:
    """The variant key of each recipient who had one of the issue's stories today elsewhere."""
    start, end = local_day(now, zone)
    carried: dict[int, frozenset[int]] = {}  # another issue's variant id: the stories it showed
    sharing: dict[int, list[int]] = {}  # this issue's id: the others sending its stories today

    def keys(session: Session, issue: Issue, recipients: Sequence[Recipient]) -> dict[int, str]:
        ours = {entry.post_id for entry in issue.posts if not entry.excluded}
        if not ours or not recipients:
            return {}
        if issue.id not in sharing:
            # Once per issue: most days no other issue sending today shares a story, and then
            # no page of recipients costs a query.
            sharing[issue.id] = _sending_today(session, issue.id, ours, start, end)
        others = sharing[issue.id]
        if not others:
            return {}
        when = func.coalesce(Delivery.sent_at, Delivery.created_at)
        rows = session.execute(
            select(Delivery.subscriber_id, Delivery.variant_id).where(
                Delivery.subscriber_id.in_([r.id for r in recipients]),
                Delivery.issue_id.in_(others),
                Delivery.status.in_(CARRIED),
                Delivery.variant_id.is_not(None),
                when >= start,
                when < end,
            )
        ).all()
        had: dict[int, set[int]] = {}
        for subscriber_id, variant_id in rows:
            assert variant_id is not None  # the query asked for rows with a variant
            if variant_id not in carried:
                carried[variant_id] = _shown(session, variant_id, cap)
            had.setdefault(subscriber_id, set()).update(carried[variant_id] & ours)
        return {r.id: without(r.topic_key, had[r.id]) for r in recipients if had.get(r.id)}

    return keys


def _sending_today(
    session: Session, issue_id: int, posts: set[int], start: datetime, end: datetime
) -> list[int]:
    """Other issues carrying one of `posts` whose sending ran (or runs) during the day."""
    return list(
        session.scalars(
            select(IssuePost.issue_id)
            .join(Issue, Issue.id == IssuePost.issue_id)
            .where(IssuePost.post_id.in_(posts), IssuePost.excluded.is_(False))
            .where(IssuePost.issue_id != issue_id, Issue.sending_started_at < end)
            .where(or_(Issue.sent_at.is_(None), Issue.sent_at >= start))
            .distinct()
        )
    )


def _shown(session: Session, variant_id: int, cap: int) -> frozenset[int]:
    """The stories a stored variant showed, laid out again from its issue and key."""
    # Loaded only when a reader had a story today: a send does not carry the renderer otherwise.
    from newsletter.digest.variants import layout_for

    variant = session.get(IssueVariant, variant_id)
    if variant is None:
        return frozenset()
    issue = session.get(
        Issue, variant.issue_id, options=[selectinload(Issue.posts).selectinload(IssuePost.post)]
    )
    assert issue is not None
    layout = layout_for(issue, variant.topic_key, cap)
    if layout is None:
        return frozenset()
    shown = [*([layout.featured] if layout.featured else []), *layout.stories]
    return frozenset(story.id for story in shown)
