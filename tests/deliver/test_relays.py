"""Relays from settings: each with its own limiter, the hourly caps fed by one query."""

from __future__ import annotations

from newsletter.config import RelaySettings, Settings
from newsletter.deliver.relays import relays_for
from newsletter.deliver.throttle import Throttle


def test_capped_relays_share_one_look_at_recent_sends(settings: Settings) -> None:
    relays = [
        RelaySettings(name="a", url="smtp://127.0.0.1:2525", per_hour=100),
        RelaySettings(name="b", url="smtp://127.0.0.1:2526", per_hour=50),
        RelaySettings(name="c", url="smtp://127.0.0.1:2527"),
    ]
    local = settings.model_copy(
        update={
            "redis_url": None,
            "broker_url": None,
            "delivery": settings.delivery.model_copy(update={"relays": relays}),
        }
    )
    calls: list[None] = []

    def sent_recently() -> list[float]:
        calls.append(None)
        return [1.0, 2.0]

    built = relays_for(local, sent_recently=sent_recently)
    assert len(calls) == 1
    limiters = [relay.limiter for relay in built]
    assert all(isinstance(limiter, Throttle) for limiter in limiters)
    windows = [list(limiter._window) for limiter in limiters if isinstance(limiter, Throttle)]
    assert windows == [[1.0, 2.0], [1.0, 2.0], []]
