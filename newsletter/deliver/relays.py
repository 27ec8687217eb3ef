"""The mail servers an issue goes out through, each with its connections and its rate limit."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache, partial

from newsletter.config import Settings
from newsletter.deliver.throttle import Limiter, Throttle
from newsletter.mail.transport import SmtpTransport, Transport, transport_from_settings

DEFAULT = "default"


@dataclass
class Relay:
    name: str
    connect: Callable[[], Transport]
    limiter: Limiter
    connections: int


def rate_limited(settings: Settings) -> bool:
    """Whether any relay has a rate limit: several senders share one only through Redis."""
    delivery = settings.delivery
    return bool(delivery.rate_per_second or delivery.per_hour) or any(
        relay.rate_per_second or relay.per_hour for relay in delivery.relays
    )


def relays_for(
    settings: Settings,
    default_connect: Callable[[], Transport] | None = None,
    sent_recently: Callable[[], Iterable[float]] = list,
) -> list[Relay]:
    """delivery.relays when configured, else one relay from NEWSLETTER_SMTP_URL (or the outbox).

    With Redis (NEWSLETTER_REDIS_URL or a Redis broker) each relay's limit is shared by every
    sender; without it, the limit holds within this process, counting `sent_recently` (monotonic
    instants of sends in the last hour) against the hourly cap.
    """
    delivery = settings.delivery
    shared = settings.shared_redis_url
    if shared:
        # The Redis client (6 MB more for `digest send`) only when a limit is shared.
        from newsletter.deliver.limiter import RedisLimiter, redis_client

        client = redis_client(shared)

    @cache
    def recent() -> tuple[float, ...]:
        # One query (for sends over every relay) serves each capped relay; Throttle copies it.
        return tuple(sent_recently())

    def limiter(name: str, rate: float, per_hour: int) -> Limiter:
        if shared:
            return RedisLimiter(client, delivery.redis_prefix, name, rate, per_hour)
        return Throttle(rate, per_hour, recent() if per_hour else ())

    if not delivery.relays:
        # Callers with a runtime pass runtime.transport; a bare check of the limits opens nothing.
        connect = default_connect or partial(transport_from_settings, settings)
        return [
            Relay(
                DEFAULT,
                connect,
                limiter(DEFAULT, delivery.rate_per_second, delivery.per_hour),
                delivery.connections,
            )
        ]
    timeout = delivery.timeout_seconds

    def smtp(url: str) -> Callable[[], Transport]:
        return lambda: SmtpTransport.from_url(url, timeout=timeout)

    return [
        Relay(
            relay.name,
            smtp(relay.url),
            limiter(relay.name, relay.rate_per_second, relay.per_hour),
            relay.connections or delivery.connections,
        )
        for relay in delivery.relays
    ]
