"""The click queue: bounded (the newest dropped and counted), a refused batch kept for a retry."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest

from newsletter.analytics.behaviour import Hit
from newsletter.analytics.queue import ClickQueue, Flusher

AT = datetime(2026, 1, 1, tzinfo=UTC)


def _hit(position: int, at: datetime = AT) -> Hit:
    return Hit(issue_id=1, position=position, variant_id=1, at=at, verdict="human")


def test_a_full_queue_drops_the_newest_and_says_how_many(caplog: pytest.LogCaptureFixture) -> None:
    queue = ClickQueue(capacity=3)
    accepted = [queue.put(_hit(n)) for n in range(5)]
    assert accepted == [True, True, True, False, False]
    written: list[list[Hit]] = []
    flusher = Flusher(queue, written.append, lambda: AT, timedelta(0), 1.0)
    with caplog.at_level(logging.WARNING):
        assert flusher.flush(everything=True) == 3
    assert [hit.position for hit in written[0]] == [0, 1, 2]
    assert "dropped 2 clicks" in caplog.text


def test_a_refused_batch_goes_back_in_order_and_is_written_next_time() -> None:
    queue = ClickQueue(capacity=10)
    for n in range(4):
        queue.put(_hit(n))
    failing = True
    written: list[Hit] = []

    def write(batch: list[Hit]) -> None:
        if failing:
            raise RuntimeError("database is down")
        written.extend(batch)

    flusher = Flusher(queue, write, lambda: AT, timedelta(0), 1.0)
    assert flusher.flush(everything=True) == 0
    queue.put(_hit(4))
    failing = False
    assert flusher.flush(everything=True) == 5
    assert [hit.position for hit in written] == [0, 1, 2, 3, 4]


def test_a_refused_batch_bigger_than_the_room_left_keeps_the_oldest() -> None:
    queue = ClickQueue(capacity=3)
    queue.put(_hit(9))
    queue.give_back([_hit(0), _hit(1), _hit(2)])
    assert [hit.position for hit in queue.take(None, 10)] == [0, 1, 9]
    assert queue.take_dropped() == 1


def test_only_settled_hits_are_taken() -> None:
    queue = ClickQueue(capacity=10)
    queue.put(_hit(0, AT))
    queue.put(_hit(1, AT + timedelta(seconds=30)))
    assert [hit.position for hit in queue.take(AT + timedelta(seconds=10), 10)] == [0]
    assert len(queue) == 1
