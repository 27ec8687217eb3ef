"""Who gets an issue: active, not suppressed, not paused, and what topics each one follows."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, exists, or_, select
from sqlalchemy.orm import Session

from subscribers.models import Status, Subscriber, SubscriberTopic, Suppression


@dataclass(frozen=True)
class Recipient:
    id: int
    email: str
    name: str
    # Sorted topic slugs joined by ","; "" for a subscriber who follows every topic.
    topic_key: str


def topic_key(slugs: list[str] | set[str] | tuple[str, ...]) -> str:
    return ",".join(sorted(set(slugs)))


def _eligible(now: datetime) -> Select[int, str, str]:
    suppressed = exists().where(Suppression.email == Subscriber.email)
    return (
        select(Subscriber.id, Subscriber.email, Subscriber.name)
        .where(Subscriber.status == Status.ACTIVE)
        .where(or_(Subscriber.paused_until.is_(None), Subscriber.paused_until <= now))
        .where(~suppressed)
        .order_by(Subscriber.id)
    )


def topic_slugs(
    session: Session, ids: list[int], slugs_by_topic: Mapping[int, str]
) -> dict[int, list[str]]:
    """The topic slugs each of these subscribers chose (absent: every topic)."""
    chosen: dict[int, list[str]] = {}
    rows = session.execute(
        select(SubscriberTopic.subscriber_id, SubscriberTopic.topic_id).where(
            SubscriberTopic.subscriber_id.in_(ids)
        )
    )
    for subscriber_id, topic_id in rows:
        chosen.setdefault(subscriber_id, []).append(slugs_by_topic[topic_id])
    return chosen


def _topic_keys(session: Session, ids: list[int], slugs_by_topic: dict[int, str]) -> dict[int, str]:
    chosen = topic_slugs(session, ids, slugs_by_topic)
    return {subscriber_id: topic_key(slugs) for subscriber_id, slugs in chosen.items()}


def eligible(
    session: Session,
    now: datetime,
    slugs_by_topic: dict[int, str],
    after_id: int = 0,
    batch: int = 1000,
) -> Iterator[Recipient]:
    """Every eligible subscriber in id order, read in pages (`id > last`) to bound memory.

    `slugs_by_topic` maps topic ids to slugs; this package does not import the service's models.
    """
    last = after_id
    while True:
        page = session.execute(_eligible(now).where(Subscriber.id > last).limit(batch)).all()
        if not page:
            return
        keys = _topic_keys(session, [row.id for row in page], slugs_by_topic)
        for row in page:
            yield Recipient(row.id, row.email, row.name, keys.get(row.id, ""))
        last = page[-1].id


def topic_sets(session: Session, now: datetime, slugs_by_topic: dict[int, str]) -> dict[str, int]:
    """Each distinct topic key among eligible subscribers, with how many subscribers have it."""
    counts: dict[str, int] = {}
    for recipient in eligible(session, now, slugs_by_topic):
        counts[recipient.topic_key] = counts.get(recipient.topic_key, 0) + 1
    return counts
