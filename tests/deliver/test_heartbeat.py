"""The heartbeat keeps a live sender's claims; without it (or the database) they run out."""

from __future__ import annotations

import time
from datetime import datetime, timedelta

import pytest

from newsletter.clock import FixedClock
from newsletter.config import DeliverySettings
from newsletter.deliver.heartbeat import Heartbeat
from newsletter.deliver.memory_store import MemoryDeliveryStore
from newsletter.deliver.store import Retry
from tests.deliver.conftest import NOW

CLAIM = 0.6  # seconds: a heartbeat every 0.2 s


def _store(count: int) -> MemoryDeliveryStore:
    store = MemoryDeliveryStore(Retry(DeliverySettings(), NOW + timedelta(days=1)))
    for n in range(count):
        store.add(n + 1, f"reader{n}@example.net")
    return store


def _wait_for(condition: object, seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:  # type: ignore[operator]
        time.sleep(0.02)


def test_a_live_sender_keeps_its_rows_and_a_stopped_one_loses_them() -> None:
    store = _store(3)
    clock = FixedClock(NOW)
    held = NOW + timedelta(seconds=CLAIM)
    assert len(store.claim("a", NOW, held, 10)) == 3
    with Heartbeat(store, "a", CLAIM, clock):
        clock.advance(timedelta(seconds=10))  # far past the first claim's end
        _wait_for(lambda: all(row.claimed_until > clock.now() for row in store.rows.values()))
        assert store.claim("b", clock.now(), clock.now() + timedelta(seconds=1), 10) == []
    # Stopped (as a killed sender is): once the last renewal runs out, anyone takes the rows.
    clock.advance(timedelta(seconds=CLAIM))
    assert len(store.claim("b", clock.now(), clock.now() + timedelta(seconds=1), 10)) == 3


class _Unreachable(MemoryDeliveryStore):
    def renew(self, holder: str, until: datetime) -> int:
        raise OSError("database unreachable")


def test_without_renewals_the_sender_stops_starting_messages_in_time(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = _Unreachable(Retry(DeliverySettings(), NOW + timedelta(days=1)))
    with Heartbeat(store, "a", CLAIM, FixedClock(NOW)) as heartbeat:
        assert heartbeat.may_start()
        _wait_for(lambda: not heartbeat.may_start())
        assert not heartbeat.may_start()
    assert "could not renew the claims of a: database unreachable" in caplog.text


def test_a_renewing_sender_may_start_past_its_first_claim() -> None:
    # Renewals a second apart leave a second to spare: a loaded machine does not matter.
    claim = 3.0
    store = _store(1)
    store.claim("a", NOW, NOW + timedelta(seconds=claim), 10)
    with Heartbeat(store, "a", claim, FixedClock(NOW)) as heartbeat:
        time.sleep(claim * 1.5)
        assert heartbeat.may_start()
