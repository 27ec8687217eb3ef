"""Who an issue would reach if it went now, and why the others would not: the editors' count."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from newsletter.digest.variants import layout_for
from newsletter.errors import DigestError
from newsletter.issue_kinds import cadence_of
from newsletter.models import Delivery, DeliveryStatus, Issue, IssuePost
from newsletter.pipeline.receipts import receipt_keys
from newsletter.runtime import Runtime
from subscribers.audience import Recipient, eligible, left_out

# Delivery rows already settled: a resumed send does not mail these subscribers again.
SETTLED = (DeliveryStatus.SENT, DeliveryStatus.FAILED)
# The reasons in the order the editor reads them, with their words.
REASONS = {
    "pending": "unconfirmed",
    "paused": "paused",
    "suppressed": "suppressed",
    "off_topic": "not in this issue's topics",
    "unsubscribed": "unsubscribed",
    "bounced": "bounced",
    "complained": "complained",
    "done": "already sent this issue",
    "received": "had its stories in another issue",
}


@dataclass(frozen=True)
class Audience:
    """`receive`: how many the send would mail now; `others`: everyone else, by reason."""

    receive: int
    others: dict[str, int] = field(default_factory=dict)
    # Every eligible subscriber by topic key (as subscribers.audience.topic_sets counts them).
    topic_sets: dict[str, int] = field(default_factory=dict)

    @property
    def left_out(self) -> int:
        return sum(self.others.values())

    def reasons(self) -> list[tuple[str, int]]:
        """(words, count) for each reason with anyone in it, in REASONS order."""
        return [(words, self.others[key]) for key, words in REASONS.items() if self.others.get(key)]


def audience(runtime: Runtime, issue_id: int) -> Audience:
    """The issue's recipients by the rules its send applies, as of the runtime clock's now.

    The same `eligible()` the send plans from, and the same test that skips a subscriber whose
    topics the issue has nothing for (a stored variant, else a layout). DigestError if no issue.
    """
    now = runtime.clock.now()
    cap = runtime.settings.digest.max_posts
    with runtime.sessions() as session:
        issue = session.get(
            Issue,
            issue_id,
            options=[
                selectinload(Issue.variants),
                selectinload(Issue.posts).selectinload(IssuePost.post),
            ],
        )
        if issue is None:
            raise DigestError(f"no issue {issue_id}")
        done = _settled(session, issue_id)
        covered: dict[str, bool] = {v.topic_key: True for v in issue.variants}
        others = left_out(session, now)
        receive = 0
        keys: dict[str, int] = {}
        had = receipt_keys()
        for page in _pages(eligible(session, now, cadence=cadence_of(issue.kind))):
            # The send's own receipts rule: a reader who has every story already is skipped.
            received = had(session, issue, page)
            for recipient in page:
                keys[recipient.topic_key] = keys.get(recipient.topic_key, 0) + 1
                if recipient.id in done:
                    reason = "done"
                else:
                    key = received.get(recipient.id, recipient.topic_key)
                    if key not in covered:
                        covered[key] = layout_for(issue, key, cap) is not None
                    if covered[key]:
                        receive += 1
                        continue
                    reason = "off_topic" if key == recipient.topic_key else "received"
                others[reason] = others.get(reason, 0) + 1
    return Audience(receive, others, keys)


def _pages(recipients: Iterator[Recipient], size: int = 1000) -> Iterator[list[Recipient]]:
    page: list[Recipient] = []
    for recipient in recipients:
        page.append(recipient)
        if len(page) >= size:
            yield page
            page = []
    if page:
        yield page


def _settled(session: Session, issue_id: int) -> set[int]:
    return set(
        session.scalars(
            select(Delivery.subscriber_id).where(
                Delivery.issue_id == issue_id, Delivery.status.in_(SETTLED)
            )
        )
    )
