"""The DeliveryStore contract, run against the SQL store and the in-memory one alike."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from newsletter import migrate
from newsletter.config import DeliverySettings, load_settings
from newsletter.deliver.memory_store import MemoryDeliveryStore
from newsletter.deliver.message import Rendered
from newsletter.deliver.sql_store import SqlDeliveryStore
from newsletter.deliver.store import DeliveryStore, Job, Outcome, Retry, Row
from newsletter.errors import DeliveryError, PermanentFailure, TemporaryFailure
from newsletter.models import Delivery, DeliveryStatus, Issue, IssueStatus
from newsletter.runtime import Runtime
from subscribers.lifecycle import suppress, transition
from subscribers.models import Cause, Status, Subscriber
from tests.conftest import BACKENDS, _empty_postgres
from tests.deliver.conftest import NOW
from tests.deliver.test_claim import _planned

SETTINGS = DeliverySettings(retry_base_seconds=60, max_attempts=3)
LATER = NOW + timedelta(days=1)
Leave = Callable[[str, str], None]


@dataclass
class Harness:
    """A store with `count` planned deliveries, and the levers a test pulls from outside it."""

    store: DeliveryStore
    emails: list[str]  # by delivery id order
    leave: Leave  # (email, how): the subscriber is unsubscribed, suppressed or paused
    pause: Callable[[], None]
    bounced: Callable[[], set[str]]


MakeHarness = Callable[[int, datetime], Harness]


def _sql(runtime: Runtime) -> MakeHarness:
    def make(count: int, deadline: datetime) -> Harness:
        issue_id = _planned(runtime, count)
        with runtime.sessions() as session:
            emails = list(
                session.scalars(
                    select(Subscriber.email)
                    .join(Delivery, Delivery.subscriber_id == Subscriber.id)
                    .order_by(Delivery.id)
                )
            )

        def leave(email: str, how: str) -> None:
            with runtime.sessions.begin() as session:
                subscriber = session.scalars(
                    select(Subscriber).where(Subscriber.email == email)
                ).one()
                if how == "unsubscribed":
                    transition(session, subscriber, Status.UNSUBSCRIBED, Cause.LINK, NOW)
                elif how == "suppressed":
                    suppress(session, email, Cause.COMPLAINT, NOW)
                else:
                    subscriber.paused_until = NOW + timedelta(weeks=2)

        def pause() -> None:
            with runtime.sessions.begin() as session:
                session.execute(update(Issue).values(status=IssueStatus.PAUSED))

        def bounced() -> set[str]:
            with runtime.sessions() as session:
                return set(
                    session.scalars(
                        select(Subscriber.email).where(Subscriber.status == Status.BOUNCED)
                    )
                )

        store = SqlDeliveryStore(runtime.sessions, issue_id, Retry(SETTINGS, deadline))
        return Harness(store, emails, leave, pause, bounced)

    return make


def _memory() -> MakeHarness:
    def make(count: int, deadline: datetime) -> Harness:
        store = MemoryDeliveryStore(Retry(SETTINGS, deadline))
        emails = [f"reader{n}@example.org" for n in range(count)]
        ids = {email: n + 1 for n, email in enumerate(emails)}
        for email in emails:
            store.add(ids[email], email)

        def leave(email: str, how: str) -> None:
            store.leave(ids[email], Status.UNSUBSCRIBED if how == "unsubscribed" else Status.ACTIVE)

        def pause() -> None:
            store.status_sending = False

        def bounced() -> set[str]:
            return {email for email, n in ids.items() if n in store.bounced}

        return Harness(store, emails, leave, pause, bounced)

    return make


@pytest.fixture(params=[*BACKENDS, "memory"])
def make(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[MakeHarness]:
    """The memory store, and the SQL one on every database the suite runs on."""
    if request.param == "memory":
        yield _memory()
        return
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'newsletter.db'}"
    else:
        url = request.getfixturevalue("postgres_schema_url")
        _empty_postgres(url)
    runtime = Runtime.build(load_settings(database_url=url, var_dir=tmp_path / "var"))
    migrate.upgrade(runtime.engine)
    yield _sql(runtime)
    runtime.close()


def _job(row: Row) -> Job:
    rendered = Rendered("bounces@example.org", f"<{row.id}@example.org>", b"message")
    return Job(row.id, row.subscriber_id, row.attempts, rendered, row.email, row.delivery_status)


def _outcome(row: Row, error: DeliveryError | None = None) -> Outcome:
    return Outcome(_job(row), error, sent=True)


def test_claims_never_overlap_and_run_out(make: MakeHarness) -> None:
    h = make(10, LATER)
    soon = NOW + timedelta(seconds=30)
    first = h.store.claim("a", NOW, soon, 4)
    assert [row.email for row in first] == h.emails[:4]  # lowest ids first
    second = h.store.claim("b", NOW, soon, 100)
    assert [row.email for row in second] == h.emails[4:]
    assert h.store.claim("c", NOW, soon, 100) == []
    # A release by someone else's name changes nothing; the holder's frees the rows at once.
    h.store.release("b", [row.id for row in first])
    assert h.store.claim("c", NOW, soon, 100) == []
    h.store.release("a", [row.id for row in first])
    assert [row.id for row in h.store.claim("c", NOW, soon, 100)] == [row.id for row in first]
    # Once a claim runs out, whoever asks takes its rows.
    again = h.store.claim("d", soon, soon + timedelta(seconds=30), 100)
    assert {row.id for row in again} == {row.id for row in first + second}


def test_a_renewed_claim_outlives_its_first_term(make: MakeHarness) -> None:
    h = make(6, LATER)
    soon, later = NOW + timedelta(seconds=30), NOW + timedelta(seconds=60)
    mine = h.store.claim("a", NOW, soon, 4)
    h.store.claim("b", NOW, soon, 100)
    h.store.record([_outcome(mine[0])], NOW)  # settled: no longer held
    assert h.store.renew("a", later) == 3
    # At `soon` b's rows are free again, a's renewed ones are not.
    taken = h.store.claim("c", soon, later, 100)
    assert [row.email for row in taken] == h.emails[4:]
    assert h.store.claim("c", later, later + timedelta(seconds=30), 100) != []
    assert h.store.renew("nobody", later) == 0


def test_outcomes_move_each_delivery_and_bounce_a_missing_address(make: MakeHarness) -> None:
    h = make(6, LATER)
    rows = h.store.claim("a", NOW, NOW + timedelta(minutes=5), 4)
    moves = h.store.record(
        [
            _outcome(rows[0]),
            _outcome(rows[1], PermanentFailure("550 5.1.1 no such user", 550, "5.1.1")),
            _outcome(rows[2], TemporaryFailure("452 4.2.2 mailbox full", 452, "4.2.2")),
            _outcome(rows[3], PermanentFailure("554 5.7.1 refused", 554, "5.7.1")),
        ],
        NOW,
    )
    pending = DeliveryStatus.PENDING
    assert moves == [
        (pending, DeliveryStatus.SENT),
        (pending, DeliveryStatus.FAILED),
        (pending, DeliveryStatus.DEFERRED),
        (pending, DeliveryStatus.FAILED),
    ]
    counts = h.store.counts()
    assert (counts.sent, counts.failed, counts.deferred, counts.pending) == (1, 2, 1, 2)
    assert h.bounced() == {rows[1].email}  # only 5.1.x says the address does not exist
    assert h.store.open_count(100) == 3
    assert h.store.open_count(2) == 2
    # Recorded rows lose their claim; the deferred one waits out its backoff, then comes back.
    assert [row.email for row in h.store.claim("b", NOW, NOW, 100)] == h.emails[4:]
    retry = h.store.claim("b", NOW + timedelta(seconds=60), NOW + timedelta(minutes=5), 100)
    [deferred] = [row for row in retry if row.id == rows[2].id]
    assert (deferred.attempts, deferred.delivery_status) == (1, DeliveryStatus.DEFERRED)


def test_temporary_failures_give_up_after_max_attempts(make: MakeHarness) -> None:
    h = make(1, LATER)
    at = NOW
    for attempt in range(1, 4):
        [row] = h.store.claim("a", at, at + timedelta(minutes=5), 1)
        assert row.attempts == attempt - 1
        [(_, status)] = h.store.record([_outcome(row, TemporaryFailure("451 later", 451))], at)
        at += timedelta(hours=1)
    assert status == DeliveryStatus.FAILED
    assert h.store.counts().failed == 1
    assert h.store.claim("a", at, at, 1) == []


def test_a_temporary_failure_past_the_deadline_fails(make: MakeHarness) -> None:
    h = make(1, NOW + timedelta(seconds=30))
    [row] = h.store.claim("a", NOW, NOW + timedelta(minutes=5), 1)
    [(_, status)] = h.store.record([_outcome(row, TemporaryFailure("451 later", 451))], NOW)
    assert status == DeliveryStatus.FAILED
    assert h.store.open_count(10) == 0


@pytest.mark.parametrize("how", ["unsubscribed", "suppressed", "paused"])
def test_a_subscriber_who_left_since_planning_is_claimed_ineligible(
    make: MakeHarness, how: str
) -> None:
    h = make(4, LATER)
    leaver = h.emails[2]
    h.leave(leaver, how)
    rows = h.store.claim("a", NOW, NOW + timedelta(minutes=5), 100)
    assert {row.email: row.eligible for row in rows} == {
        email: email != leaver for email in h.emails
    }


def test_settle_skips_without_sending_and_a_pause_stops_sending(make: MakeHarness) -> None:
    h = make(3, LATER)
    rows = h.store.claim("a", NOW, NOW + timedelta(minutes=5), 1)
    h.store.settle(rows[0].id, DeliveryStatus.SKIPPED, "not sent: subscriber is unsubscribed")
    counts = h.store.counts()
    assert (counts.skipped, counts.pending, counts.total) == (1, 2, 3)
    assert h.store.claim("b", NOW, NOW, 100) != []  # settling gave the claim back too
    assert h.store.sending()
    h.pause()
    assert not h.store.sending()
