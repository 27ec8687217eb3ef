"""Fixed-window rate limits whose counters live in a store every web process shares."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from subscribers.models import RateLimit


class CounterStore(Protocol):
    """The seam: count one hit on `key` in the window that started at or after `window_start`."""

    def hit(self, key: str, now: datetime, window: timedelta) -> int:
        """Record a hit and return how many hits `key` has in its current window."""
        ...


class MemoryStore:
    """For unit tests and single-process use: counters in a dict."""

    def __init__(self) -> None:
        self.counters: dict[str, tuple[datetime, int]] = {}

    def hit(self, key: str, now: datetime, window: timedelta) -> int:
        start, count = self.counters.get(key, (now, 0))
        if now - start >= window:
            start, count = now, 0
        self.counters[key] = (start, count + 1)
        return count + 1


class DatabaseStore:
    """Counters in the `rate_limits` table, so that limits hold across web processes.

    Increments are single UPDATE statements, so concurrent processes never lose a hit.
    """

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def hit(self, key: str, now: datetime, window: timedelta) -> int:
        for _ in range(3):
            with self.sessions.begin() as session:
                counted = self._increment(session, key, now, window)
            if counted is not None:
                return counted
        return 1  # a race lost three times in a row: let this one through rather than fail

    def _increment(
        self, session: Session, key: str, now: datetime, window: timedelta
    ) -> int | None:
        bumped = session.execute(
            update(RateLimit)
            .where(RateLimit.key == key, RateLimit.window_start > now - window)
            .values(count=RateLimit.count + 1)
            .returning(RateLimit.count)
        ).scalar_one_or_none()
        if bumped is not None:
            return int(bumped)
        restarted = session.execute(
            update(RateLimit)
            .where(RateLimit.key == key, RateLimit.window_start <= now - window)
            .values(count=1, window_start=now)
            .returning(RateLimit.count)
        ).scalar_one_or_none()
        if restarted is not None:
            return 1
        try:
            with session.begin_nested():
                session.add(RateLimit(key=key, window_start=now, count=1))
        except IntegrityError:
            return None  # another process created it first: count again
        return 1

    def purge(self, now: datetime, older_than: timedelta) -> int:
        """Forget windows that ended long ago (the table otherwise grows with every address)."""
        with self.sessions.begin() as session:
            result = session.execute(
                delete(RateLimit).where(RateLimit.window_start < now - older_than)
            )
        return int(getattr(result, "rowcount", 0))


@dataclass(frozen=True)
class Limit:
    """At most `count` hits per `window` for one kind of key, e.g. per client address."""

    scope: str
    count: int
    window: timedelta


class RateLimiter:
    def __init__(self, store: CounterStore) -> None:
        self.store = store

    def allow(self, limit: Limit, value: str, now: datetime) -> bool:
        """Count this attempt; False once it is over the limit (a limit of 0 means none)."""
        if limit.count <= 0:
            return True
        return self.store.hit(f"{limit.scope}:{value}", now, limit.window) <= limit.count
