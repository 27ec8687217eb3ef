"""Claims: concurrent claimers never share a row; an expired claim is taken again."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import select, text

from newsletter.deliver.claim import claim, release, release_local, seconds_until_due
from newsletter.deliver.plan import plan
from newsletter.models import Delivery, DeliveryStatus, Issue, IssueStatus
from newsletter.runtime import Runtime
from tests.deliver.conftest import NOW, make_world


def _planned(runtime: Runtime, count: int) -> int:
    world = make_world(runtime, count=count)
    plan(runtime.sessions, world.issue_id, NOW)
    with runtime.sessions.begin() as session:
        issue = session.get(Issue, world.issue_id)
        assert issue is not None
        issue.status = IssueStatus.SENDING
    return world.issue_id


def test_concurrent_claimers_never_take_the_same_row(runtime: Runtime) -> None:
    issue_id = _planned(runtime, 300)
    taken: dict[str, list[int]] = {}
    errors: list[BaseException] = []

    def claimer(name: str) -> None:
        mine: list[int] = []
        try:
            while True:
                rows = claim(runtime.sessions, issue_id, name, NOW, NOW + timedelta(minutes=5), 7)
                if not rows:
                    break
                mine.extend(row.id for row in rows)
        except BaseException as exc:  # reported below, not lost in the thread
            errors.append(exc)
        taken[name] = mine

    threads = [threading.Thread(target=claimer, args=(f"worker:{n}",)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    counts = Counter(row for rows in taken.values() for row in rows)
    assert len(counts) == 300
    assert set(counts.values()) == {1}
    assert sum(1 for rows in taken.values() if rows) >= 2  # they really did run side by side
    with runtime.sessions() as session:
        holders = dict(session.execute(select(Delivery.id, Delivery.claimed_by)).all())
    for name, rows in taken.items():
        assert all(holders[row] == name for row in rows)


def test_an_expired_claim_is_taken_again_and_a_released_one_at_once(runtime: Runtime) -> None:
    issue_id = _planned(runtime, 10)
    soon = NOW + timedelta(seconds=30)
    dead = claim(runtime.sessions, issue_id, "worker:dead", NOW, soon, 4)
    assert len(dead) == 4
    # While the dead worker's claim holds, nobody else gets its rows ...
    other = claim(runtime.sessions, issue_id, "worker:b", NOW, soon, 100)
    assert {r.id for r in other}.isdisjoint({r.id for r in dead})
    assert claim(runtime.sessions, issue_id, "worker:c", NOW, soon, 100) == []
    assert seconds_until_due(runtime.sessions, issue_id, NOW) == 30.0
    # ... and once it runs out, they go to whoever asks.
    later = NOW + timedelta(seconds=31)
    again = claim(runtime.sessions, issue_id, "worker:c", later, later + timedelta(minutes=5), 100)
    assert {r.id for r in again} == {r.id for r in dead} | {r.id for r in other}
    # Released rows are free at once; a release by someone else's name changes nothing.
    release(runtime.sessions, "worker:b", [r.id for r in again])
    assert claim(runtime.sessions, issue_id, "worker:d", later, later, 100) == []
    release(runtime.sessions, "worker:c", [r.id for r in again])
    assert len(claim(runtime.sessions, issue_id, "local:x", later, later, 100)) == 10


def test_the_in_process_sender_frees_only_its_own_kind(runtime: Runtime) -> None:
    issue_id = _planned(runtime, 6)
    until = NOW + timedelta(minutes=5)
    claim(runtime.sessions, issue_id, "local:host:1:dead", NOW, until, 3)
    claim(runtime.sessions, issue_id, "worker:host:2:alive", NOW, until, 3)
    assert release_local(runtime.sessions, issue_id) == 3
    free = claim(runtime.sessions, issue_id, "local:host:3:new", NOW, until, 100)
    assert len(free) == 3
    with runtime.sessions() as session:
        by = Counter(session.scalars(select(Delivery.claimed_by)))
    assert by == Counter({"local:host:3:new": 3, "worker:host:2:alive": 3})


def test_settled_rows_are_never_claimed(runtime: Runtime) -> None:
    issue_id = _planned(runtime, 5)
    with runtime.sessions.begin() as session:
        first = session.scalars(select(Delivery).order_by(Delivery.id)).first()
        assert first is not None
        first.status = DeliveryStatus.SENT
        second = session.scalars(select(Delivery).order_by(Delivery.id).offset(1)).first()
        assert second is not None
        second.status = DeliveryStatus.DEFERRED
        second.next_attempt_at = NOW + timedelta(minutes=1)
    rows = claim(runtime.sessions, issue_id, "w", NOW, NOW + timedelta(minutes=5), 100)
    assert len(rows) == 3
    assert seconds_until_due(runtime.sessions, issue_id, NOW) == 60.0


def test_planning_gives_postgresql_statistics_for_the_new_rows(runtime: Runtime) -> None:
    if runtime.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only: SQLite plans claims from its indexes alone")
    _planned(runtime, 50)
    with runtime.sessions() as session:
        # Without ANALYZE, reltuples stays at -1 ("never analyzed") until autovacuum runs.
        estimate = session.scalar(
            text("SELECT reltuples FROM pg_class WHERE oid = 'deliveries'::regclass")
        )
    assert estimate == 50
