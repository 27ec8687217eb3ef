"""Relays from settings: each with its own limiter, the hourly caps fed by one query."""

from __future__ import annotations

import threading
import time

from newsletter.config import RelaySettings, Settings
from newsletter.deliver.relays import relays_for
from newsletter.deliver.throttle import Limiter


def _acquired(limiter: Limiter, attempts: int) -> int:
    """How many of `attempts` sends the limiter lets go now, without waiting for any."""
    stopped = threading.Event()
    stopped.set()  # a limit that would make acquire() wait gives up at once instead
    return sum(1 for _ in range(attempts) if limiter.acquire(stopped))


def test_capped_relays_share_one_look_at_recent_sends(settings: Settings) -> None:
    relays = [
        RelaySettings(name="full", url="smtp://127.0.0.1:2525", per_hour=2),
        RelaySettings(name="room", url="smtp://127.0.0.1:2526", per_hour=3),
        RelaySettings(name="free", url="smtp://127.0.0.1:2527"),
    ]
    local = settings.model_copy(
        update={
            "redis_url": None,
            "broker_url": None,
            "delivery": settings.delivery.model_copy(update={"relays": relays}),
        }
    )
    calls: list[None] = []
    now = time.monotonic()

    def sent_recently() -> list[float]:
        calls.append(None)
        return [now - 20.0, now - 10.0]  # two sends in the last hour

    built = relays_for(local, sent_recently=sent_recently)
    assert len(calls) == 1
    # Both capped relays count the two recent sends; the uncapped one has no limit to count.
    assert [_acquired(relay.limiter, 5) for relay in built] == [0, 1, 5]
