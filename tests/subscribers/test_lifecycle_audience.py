"""Lifecycle transitions with their record, suppression, and who is eligible for an issue."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from newsletter.models import Topic
from newsletter.runtime import Runtime
from subscribers.audience import eligible, topic_sets
from subscribers.errors import TransitionError
from subscribers.lifecycle import Newcomer, enter_many, is_suppressed, suppress, transition
from subscribers.models import Cause, Status, Subscriber, SubscriberTopic

NOW = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)


def _subscriber(email: str, status: Status = Status.PENDING) -> Subscriber:
    return Subscriber(email=email, name="", status=status, created_at=NOW, updated_at=NOW)


def test_transitions_are_recorded_and_suppress(runtime: Runtime) -> None:
    with runtime.sessions.begin() as session:
        ana = _subscriber("ana@example.org")
        session.add(ana)
        assert transition(session, ana, Status.ACTIVE, Cause.LINK, NOW, client_address="192.0.2.1")
        assert not transition(session, ana, Status.ACTIVE, Cause.LINK, NOW)
        assert transition(session, ana, Status.UNSUBSCRIBED, Cause.LINK, NOW, detail="one-click")
        session.flush()
        assert is_suppressed(session, "ana@example.org")
        with pytest.raises(TransitionError):
            transition(session, ana, Status.ACTIVE, Cause.IMPORT, NOW)
        # Only a new confirmation brings the address back.
        transition(session, ana, Status.PENDING, Cause.FORM, NOW)
        transition(session, ana, Status.ACTIVE, Cause.LINK, NOW)
        session.flush()
        assert not is_suppressed(session, "ana@example.org")
    with runtime.sessions() as session:
        stored = session.scalars(select(Subscriber)).one()
        steps = [(e.from_status, e.to_status, e.cause) for e in stored.events]
    assert steps == [
        (Status.PENDING, Status.ACTIVE, Cause.LINK),
        (Status.ACTIVE, Status.UNSUBSCRIBED, Cause.LINK),
        (Status.UNSUBSCRIBED, Status.PENDING, Cause.FORM),
        (Status.PENDING, Status.ACTIVE, Cause.LINK),
    ]
    assert stored.events[0].client_address == "192.0.2.1"


def test_eligible_excludes_pending_paused_suppressed_and_reports_topics(runtime: Runtime) -> None:
    with runtime.sessions.begin() as session:
        border = Topic(slug="border-enforcement", name="Border Enforcement", description="")
        asylum = Topic(slug="asylum", name="Asylum", description="")
        session.add_all([border, asylum])
        people = {
            "all": _subscriber("all@example.org", Status.ACTIVE),
            "both": _subscriber("both@example.org", Status.ACTIVE),
            "asylum": _subscriber("asylum@example.org", Status.ACTIVE),
            "pending": _subscriber("pending@example.org"),
            "paused": _subscriber("paused@example.org", Status.ACTIVE),
            "was-paused": _subscriber("back@example.org", Status.ACTIVE),
            "suppressed": _subscriber("blocked@example.org", Status.ACTIVE),
        }
        people["paused"].paused_until = NOW + timedelta(days=14)
        people["was-paused"].paused_until = NOW - timedelta(days=1)
        session.add_all(people.values())
        session.flush()
        session.add_all(
            [
                SubscriberTopic(subscriber_id=people["both"].id, topic_id=asylum.id),
                SubscriberTopic(subscriber_id=people["both"].id, topic_id=border.id),
                SubscriberTopic(subscriber_id=people["asylum"].id, topic_id=asylum.id),
            ]
        )
        suppress(session, "blocked@example.org", Cause.BOUNCE, NOW)

    with runtime.sessions() as session:
        found = list(eligible(session, NOW, batch=2))
        sets = topic_sets(session, NOW)
    assert [(r.email, r.topic_key) for r in found] == [
        ("all@example.org", ""),
        ("both@example.org", "asylum,border-enforcement"),
        ("asylum@example.org", "asylum"),
        ("back@example.org", ""),
    ]
    assert sets == {"": 2, "asylum,border-enforcement": 1, "asylum": 1}


def test_a_subscriber_enters_pending_or_active_and_the_entry_is_recorded(
    runtime: Runtime,
) -> None:
    with runtime.sessions.begin() as session:
        with pytest.raises(TransitionError, match="cannot go from None to unsubscribed"):
            enter_many(
                session,
                [Newcomer("ana@example.org", "Ana", {}, "list.csv line 2")],
                Status.UNSUBSCRIBED,
                Cause.IMPORT,
                NOW,
            )
        ids = enter_many(
            session,
            [
                Newcomer("ana@example.org", "Ana", {"city": "Austin"}, "list.csv line 2"),
                Newcomer("ben@example.org", "Ben", {}, "list.csv line 3"),
            ],
            Status.ACTIVE,
            Cause.IMPORT,
            NOW,
        )
    with runtime.sessions() as session:
        ana, ben = (session.get(Subscriber, subscriber_id) for subscriber_id in ids)
        assert ana is not None
        assert ben is not None
        assert (ana.email, ana.status, ana.confirmed_at, ana.attributes) == (
            "ana@example.org",
            Status.ACTIVE,
            NOW,
            {"city": "Austin"},
        )
        assert [(e.from_status, e.to_status, e.cause, e.detail) for e in ben.events] == [
            (None, Status.ACTIVE, Cause.IMPORT, "list.csv line 3")
        ]


def test_a_new_subscriber_enters_through_the_same_table(runtime: Runtime) -> None:
    with runtime.sessions.begin() as session:
        suppress(session, "ana@example.org", Cause.LINK, NOW)
        with pytest.raises(TransitionError, match="cannot go from None to bounced"):
            transition(session, Subscriber(email="x@example.org"), Status.BOUNCED, Cause.FORM, NOW)
        ana = Subscriber(email="ana@example.org", name="", attributes={}, soft_bounces=0)
        assert transition(session, ana, Status.ACTIVE, Cause.ADMIN, NOW, "added")
        session.flush()
        # Entering is not confirming: an address that unsubscribed stays suppressed.
        assert is_suppressed(session, "ana@example.org")
    with runtime.sessions() as session:
        stored = session.scalars(select(Subscriber)).one()
        assert (stored.status, stored.created_at, stored.confirmed_at) == (Status.ACTIVE, NOW, NOW)
        assert [(e.from_status, e.to_status) for e in stored.events] == [(None, Status.ACTIVE)]
