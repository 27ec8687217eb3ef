"""Which events an endpoint hears of, read from what the service records anyway.

Subscribers' changes are already rows (subscriber_events), and a sent issue has its sent_at: an
endpoint's cursor over them is the outbox, so no change is lost between a commit and a send.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from newsletter.models import Issue, IssueStatus
from newsletter.webhooks.models import Attempted, Endpoint
from subscribers.models import Status, Subscriber, SubscriberEvent
from subscribers.topics import known_topics

EVENTS = {
    "subscriber.created": "someone signed up or was added (pending, or active when imported)",
    "subscriber.confirmed": "a pending subscriber confirmed their address",
    "subscriber.unsubscribed": "a subscriber left, by link, one-click, mailto or an editor",
    "subscriber.bounced": "a subscriber's address bounced for good",
    "subscriber.complained": "a subscriber marked an issue as spam",
    "issue.sent": "an issue went out to everyone it was planned for",
}
# Events read per endpoint per run: the rest wait for the next run, in order.
BATCH = 500


# A change of state into these is the event of that name, whatever it came from.
_INTO = {
    Status.UNSUBSCRIBED: "subscriber.unsubscribed",
    Status.BOUNCED: "subscriber.bounced",
    Status.COMPLAINED: "subscriber.complained",
}


def _subscriber_type(event: SubscriberEvent) -> str | None:
    """The webhook event a change of state is; None for one no endpoint hears of."""
    if event.from_status is None:
        return "subscriber.created"
    if event.from_status == event.to_status:  # topics, a pause, an export: no change of state
        return None
    if (event.from_status, event.to_status) == (Status.PENDING, Status.ACTIVE):
        return "subscriber.confirmed"
    return _INTO.get(event.to_status)


@dataclass(frozen=True)
class Event:
    type: str
    at: datetime
    data: dict[str, object]


def _subscriber_events(session: Session, endpoint: Endpoint) -> list[Event]:
    rows = session.scalars(
        select(SubscriberEvent)
        # Each event's subscriber and topics in two more queries, not two per event.
        .options(selectinload(SubscriberEvent.subscriber).selectinload(Subscriber.topics))
        .where(SubscriberEvent.id > endpoint.after_event_id)
        .order_by(SubscriberEvent.id)
        .limit(BATCH)
    ).all()
    slugs = known_topics(session).by_id
    found = []
    for row in rows:
        endpoint.after_event_id = row.id
        kind = _subscriber_type(row)
        if kind is None or kind not in endpoint.events:
            continue
        person = row.subscriber
        found.append(
            Event(
                kind,
                row.at,
                {
                    "id": person.id,
                    "email": person.email,
                    "name": person.name,
                    "status": row.to_status.value,
                    "topics": sorted(slugs[chosen.topic_id] for chosen in person.topics),
                    # How often for each of "topics"; added beside it, so old readers keep working.
                    "cadences": {
                        slugs[chosen.topic_id]: chosen.cadence.value
                        for chosen in sorted(person.topics, key=lambda t: slugs[t.topic_id])
                    },
                    "cause": row.cause.value,
                },
            )
        )
    return found


def _issues_sent(session: Session, endpoint: Endpoint) -> list[Event]:
    issues = session.scalars(
        select(Issue)
        .where(Issue.status == IssueStatus.SENT, Issue.sent_at > endpoint.issues_after)
        .order_by(Issue.sent_at)
        .limit(BATCH)
    ).all()
    found = []
    for issue in issues:
        assert issue.sent_at is not None  # the query asked for it
        endpoint.issues_after = issue.sent_at
        if "issue.sent" in endpoint.events:
            found.append(Event("issue.sent", issue.sent_at, {"id": issue.id, "key": issue.key}))
    return found


def queue_events(session: Session, endpoint: Endpoint, now: datetime) -> int:
    """New events for `endpoint` queued as deliveries, its cursor moved past them: one
    transaction, so an event is queued exactly once."""
    events = _subscriber_events(session, endpoint) + _issues_sent(session, endpoint)
    for event in events:
        body = {"type": event.type, "timestamp": event.at.isoformat(), "data": event.data}
        session.add(
            Attempted(
                endpoint_id=endpoint.id,
                message_id=f"msg_{secrets.token_hex(16)}",
                type=event.type,
                payload=json.dumps(body, separators=(",", ":")),
                created_at=now,
                next_attempt_at=now,
            )
        )
    return len(events)


# Waits after each failed attempt: the Standard Webhooks schedule, about three days in all.
BACKOFF = [
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
    timedelta(hours=10),
]
