"""The story receipts ledger: which reader has which story, written with the deliveries."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from newsletter.db import upsert_into
from newsletter.models import Delivery, IssueVariant, StoryReceipt


def shown_in(post_ids: str | None) -> frozenset[int]:
    """IssueVariant.post_ids ("12,40") as ids; none for a copy stored before the ledger."""
    return frozenset(int(i) for i in (post_ids or "").split(",") if i.isdigit())


class Shown:
    """The stories each stored variant shows, read once per variant for a planning run."""

    def __init__(self) -> None:
        self._by_variant: dict[int, frozenset[int]] = {}

    def of(self, session: Session, variant_id: int) -> frozenset[int]:
        if variant_id not in self._by_variant:
            post_ids = session.scalar(
                select(IssueVariant.post_ids).where(IssueVariant.id == variant_id)
            )
            self._by_variant[variant_id] = shown_in(post_ids)
        return self._by_variant[variant_id]


def record(
    session: Session,
    issue_id: int,
    planned: Iterable[tuple[int, int]],
    now: datetime,
    shown: Shown,
) -> int:
    """Add a receipt for each story of each (subscriber, variant) planned; return how many.

    In the caller's transaction, so a delivery and its receipts are stored together or not at
    all. A receipt already there (a resumed planning run) stays as it was.
    """
    rows = [
        {
            "subscriber_id": subscriber_id,
            "post_id": post_id,
            "issue_id": issue_id,
            "created_at": now,
        }
        for subscriber_id, variant_id in planned
        for post_id in sorted(shown.of(session, variant_id))
    ]
    if not rows:
        return 0
    session.execute(upsert_into(session, StoryReceipt).on_conflict_do_nothing(), rows)
    return len(rows)


def had(
    session: Session, subscriber_ids: Collection[int], post_ids: Collection[int], issue_id: int
) -> dict[int, set[int]]:
    """Of `post_ids`, the ones each subscriber received (or has on its way) in another issue."""
    if not subscriber_ids or not post_ids:
        return {}
    rows = session.execute(
        select(StoryReceipt.subscriber_id, StoryReceipt.post_id).where(
            StoryReceipt.subscriber_id.in_(subscriber_ids),
            StoryReceipt.post_id.in_(post_ids),
            StoryReceipt.issue_id != issue_id,
        )
    )
    found: dict[int, set[int]] = {}
    for subscriber_id, post_id in rows:
        found.setdefault(subscriber_id, set()).add(post_id)
    return found


def give_back(session: Session, delivery_ids: Collection[int]) -> None:
    """Deliveries that will never arrive (failed, skipped) no longer count as received."""
    if not delivery_ids:
        return
    by_issue: dict[int, list[int]] = {}
    rows = session.execute(
        select(Delivery.issue_id, Delivery.subscriber_id).where(Delivery.id.in_(delivery_ids))
    )
    for issue_id, subscriber_id in rows:
        by_issue.setdefault(issue_id, []).append(subscriber_id)
    for issue_id, subscriber_ids in by_issue.items():
        session.execute(
            delete(StoryReceipt).where(
                StoryReceipt.issue_id == issue_id, StoryReceipt.subscriber_id.in_(subscriber_ids)
            )
        )
