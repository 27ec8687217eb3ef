"""The audience at a glance: totals by status, changes per week, and by topic and signup source."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from subscribers.models import Cadence, Status, Subscriber, SubscriberEvent, SubscriberTopic
from subscribers.topics import known_topics

# What editors count per week, in the order the charts show them.
KINDS = ("signups", "confirmations", "unsubscribes", "bounces", "complaints")
_KIND_OF = {
    Status.UNSUBSCRIBED: "unsubscribes",
    Status.BOUNCED: "bounces",
    Status.COMPLAINED: "complaints",
}
TOP_SOURCES = 10


@dataclass
class Overview:
    by_status: dict[str, int]
    # The Monday (UTC) starting each week, oldest first, and each kind's count in it.
    weeks: list[datetime]
    per_week: dict[str, list[int]]
    # Active subscribers per topic slug; "every topic" for those who chose none.
    by_topic: dict[str, int] = field(default_factory=dict)
    by_source: list[tuple[str, int]] = field(default_factory=list)
    # The same readers split by how often they hear about the topic (every cadence present).
    by_cadence: dict[str, dict[Cadence, int]] = field(default_factory=dict)


def _monday(at: datetime) -> datetime:
    day = at.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return day - timedelta(days=day.weekday())


def overview(session: Session, now: datetime, weeks: int = 12) -> Overview:
    """Counted by the database; the weekly changes from the recorded events of the last weeks."""
    by_status = {status.value: 0 for status in Status}
    for status, count in session.execute(
        select(Subscriber.status, func.count()).group_by(Subscriber.status)
    ):
        by_status[Status(status).value] = count
    first = _monday(now) - timedelta(weeks=weeks - 1)
    starts = [first + timedelta(weeks=n) for n in range(weeks)]
    per_week = {kind: [0] * weeks for kind in KINDS}
    changes = session.execute(
        select(SubscriberEvent.at, SubscriberEvent.from_status, SubscriberEvent.to_status)
        .where(
            SubscriberEvent.at >= first,
            or_(
                SubscriberEvent.from_status.is_(None),
                SubscriberEvent.from_status != SubscriberEvent.to_status,
            ),
        )
        .execution_options(yield_per=5000)
    )
    for at, before, after in changes:
        index = (_monday(at) - first).days // 7
        if not 0 <= index < weeks:
            continue
        if before is None:
            per_week["signups"][index] += 1
        elif after == Status.ACTIVE and before == Status.PENDING:
            per_week["confirmations"][index] += 1
        elif after in _KIND_OF:
            per_week[_KIND_OF[Status(after)]][index] += 1
    active = Subscriber.status == Status.ACTIVE
    topics = known_topics(session)
    by_cadence: dict[str, dict[Cadence, int]] = {}
    for topic_id, cadence, count in session.execute(
        select(SubscriberTopic.topic_id, SubscriberTopic.cadence, func.count())
        .join(Subscriber, Subscriber.id == SubscriberTopic.subscriber_id)
        .where(active)
        .group_by(SubscriberTopic.topic_id, SubscriberTopic.cadence)
    ):
        slug = topics.by_id.get(topic_id, str(topic_id))
        by_cadence.setdefault(slug, dict.fromkeys(Cadence, 0))[Cadence(cadence)] = count
    chose = select(SubscriberTopic.subscriber_id).where(
        SubscriberTopic.subscriber_id == Subscriber.id
    )
    # Those who chose no topic hear about every one in the weekly digest.
    every = session.scalar(select(func.count()).where(active, ~chose.exists())) or 0
    by_cadence["every topic"] = {**dict.fromkeys(Cadence, 0), Cadence.WEEKLY: every}
    by_topic = {slug: sum(split.values()) for slug, split in by_cadence.items()}
    by_source = [
        (source or "(unknown)", count)
        for source, count in session.execute(
            select(Subscriber.signup_source, func.count().label("n"))
            .where(active)
            .group_by(Subscriber.signup_source)
            .order_by(func.count().desc(), Subscriber.signup_source)
            .limit(TOP_SOURCES)
        )
    ]
    return Overview(by_status, starts, per_week, by_topic, by_source, by_cadence)
