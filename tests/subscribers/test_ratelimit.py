"""Rate limits: the in-memory fake and the database store count alike, windows reset."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from newsletter.runtime import Runtime
from subscribers.ratelimit import CounterStore, DatabaseStore, Limit, MemoryStore, RateLimiter

NOW = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


@pytest.fixture(params=["memory", "database"])
def store(request: pytest.FixtureRequest, runtime: Runtime) -> CounterStore:
    return MemoryStore() if request.param == "memory" else DatabaseStore(runtime.sessions)


def test_limits_count_per_key_and_reset_with_the_window(store: CounterStore) -> None:
    limiter = RateLimiter(store)
    limit = Limit("client", 2, HOUR)
    assert [limiter.allow(limit, "192.0.2.1", NOW) for _ in range(3)] == [True, True, False]
    assert limiter.allow(limit, "192.0.2.2", NOW)  # another client has its own count
    assert not limiter.allow(limit, "192.0.2.1", NOW + timedelta(minutes=59))
    assert limiter.allow(limit, "192.0.2.1", NOW + HOUR)


def test_a_limit_of_zero_means_none(store: CounterStore) -> None:
    limiter = RateLimiter(store)
    assert all(limiter.allow(Limit("email", 0, HOUR), "a@example.org", NOW) for _ in range(50))


def test_the_database_store_is_shared_between_processes(runtime: Runtime) -> None:
    # Two web processes: two stores over the same database.
    first, second = DatabaseStore(runtime.sessions), DatabaseStore(runtime.sessions)
    assert first.hit("k", NOW, HOUR) == 1
    assert second.hit("k", NOW, HOUR) == 2
    assert first.hit("k", NOW, HOUR) == 3
    assert first.purge(NOW + 2 * HOUR, older_than=HOUR) == 1
    assert second.hit("k", NOW + 2 * HOUR, HOUR) == 1
