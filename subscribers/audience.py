"""Who gets an issue: active, not suppressed, not paused, and what topics each one follows."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Select, and_, case, exists, func, or_, select
from sqlalchemy.orm import Session

from subscribers.models import Cadence, Status, Subscriber, SubscriberTopic, Suppression
from subscribers.topics import Topics, known_topics


@dataclass(frozen=True)
class Recipient:
    id: int
    email: str
    name: str
    # Sorted topic slugs joined by ","; "" for a subscriber who follows every topic.
    topic_key: str


def topic_key(slugs: list[str] | set[str] | tuple[str, ...]) -> str:
    return ",".join(sorted(set(slugs)))


def receives(now: datetime) -> ColumnElement[bool]:
    """The one rule of who is mailed at `now`: active, not suppressed, not paused.

    Planning selects subscribers by it, and the sender re-checks each claimed delivery by the
    same expression at the last moment (newsletter.deliver.claim), so an unsubscribe, a
    suppression or a pause since planning wins.
    """
    return and_(Subscriber.status == Status.ACTIVE, _unpaused(now), ~_suppressed())


def _unpaused(now: datetime) -> ColumnElement[bool]:
    return or_(Subscriber.paused_until.is_(None), Subscriber.paused_until <= now)


def _suppressed() -> ColumnElement[bool]:
    return exists().where(Suppression.email == Subscriber.email)


def left_out(session: Session, now: datetime) -> dict[str, int]:
    """How many `receives` leaves out, by reason: a status ("pending"...), "suppressed", "paused".

    The same parts as `receives`, taken apart; one reason each, the first that applies (not
    active, then suppressed, then paused), so the counts add up to everyone left out.
    """
    suppressed = case((_suppressed(), 1), else_=0)
    paused = case((_unpaused(now), 0), else_=1)
    rows = session.execute(
        select(Subscriber.status, suppressed, paused, func.count())
        .where(~receives(now))
        .group_by(Subscriber.status, suppressed, paused)
    )
    counts: dict[str, int] = {}
    for status, is_suppressed, is_paused, count in rows:
        if status != Status.ACTIVE:
            reason = Status(status).value
        else:
            reason = "suppressed" if is_suppressed else "paused" if is_paused else "other"
        counts[reason] = counts.get(reason, 0) + count
    return counts


def _eligible(now: datetime) -> Select[int, str, str]:
    return (
        select(Subscriber.id, Subscriber.email, Subscriber.name)
        .where(receives(now))
        .order_by(Subscriber.id)
    )


def topic_cadences(
    session: Session, ids: list[int], known: Topics | None = None
) -> dict[int, dict[str, Cadence]]:
    """Each of these subscribers' chosen topics by slug, with how often (absent: every topic,
    weekly); a topic no longer on the site is left out."""
    if known is None:
        known = known_topics(session)
    chosen: dict[int, dict[str, Cadence]] = {}
    rows = session.execute(
        select(
            SubscriberTopic.subscriber_id, SubscriberTopic.topic_id, SubscriberTopic.cadence
        ).where(SubscriberTopic.subscriber_id.in_(ids))
    )
    for subscriber_id, topic_id, cadence in rows:
        their = chosen.setdefault(subscriber_id, {})
        if topic_id in known.by_id:
            their[known.by_id[topic_id]] = cadence
    return chosen


def eligible(
    session: Session,
    now: datetime,
    after_id: int = 0,
    batch: int = 1000,
    cadence: Cadence | None = None,
) -> Iterator[Recipient]:
    """Every eligible subscriber in id order, read in pages (`id > last`) to bound memory.

    With a `cadence`, each subscriber's key holds only the topics they hear about that often,
    and one with none is left out; a subscriber who follows every topic does so weekly.
    Without, every topic they follow (special issues go to readers of every cadence).
    """
    known = known_topics(session)
    last = after_id
    while True:
        page = session.execute(_eligible(now).where(Subscriber.id > last).limit(batch)).all()
        if not page:
            return
        chosen = topic_cadences(session, [row.id for row in page], known)
        for row in page:
            theirs = chosen.get(row.id) or {}
            if cadence is None:
                slugs = list(theirs)
            elif not theirs:
                if cadence != Cadence.WEEKLY:
                    continue
                slugs = []
            else:
                slugs = [slug for slug, often in theirs.items() if often == cadence]
                if not slugs:
                    continue
            yield Recipient(row.id, row.email, row.name, topic_key(slugs))
        last = page[-1].id


def topic_sets(session: Session, now: datetime, cadence: Cadence | None = None) -> dict[str, int]:
    """Each distinct topic key among eligible subscribers (of `cadence`, as `eligible` reads
    it), with how many subscribers have it."""
    counts: dict[str, int] = {}
    for recipient in eligible(session, now, cadence=cadence):
        counts[recipient.topic_key] = counts.get(recipient.topic_key, 0) + 1
    return counts
