"""Sending due deliveries: signed, bounded, retried with backoff; an endpoint that keeps
failing is disabled, and says why."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from standardwebhooks.webhooks import Webhook

from newsletter.errors import FetchError, first_line
from newsletter.webhooks.events import BACKOFF
from newsletter.webhooks.models import Attempted, Endpoint, Outcome

# Deliveries per run; a minute later the next run takes more.
BATCH = 200
TIMEOUT = 10.0
# An endpoint whose deliveries failed this many times in a row stops getting any.
DISABLE_AFTER = 50


def headers(secret: str, message_id: str, at: datetime, body: str) -> dict[str, str]:
    """The Standard Webhooks headers for one delivery."""
    return {
        "content-type": "application/json",
        "webhook-id": message_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": Webhook(secret).sign(message_id, at, body),
    }


def _record(endpoint: Endpoint, delivery: Attempted, now: datetime, error: str | None) -> None:
    delivery.attempts += 1
    if error is None:
        delivery.outcome, delivery.done_at, delivery.last_error = Outcome.DELIVERED, now, None
        endpoint.failures_in_row = 0
        return
    delivery.last_error = error[:500]
    endpoint.failures_in_row += 1
    if delivery.attempts > len(BACKOFF):
        delivery.outcome, delivery.done_at = Outcome.FAILED, now
    else:
        delivery.next_attempt_at = now + BACKOFF[delivery.attempts - 1]
    if endpoint.failures_in_row >= DISABLE_AFTER and endpoint.disabled_at is None:
        endpoint.disabled_at = now
        endpoint.disabled_reason = (
            f"{endpoint.failures_in_row} deliveries failed in a row; the last: {error}"
        )[:500]


def send_due(
    sessions: sessionmaker[Session],
    client: httpx.Client,
    secret_of: Callable[[Endpoint], str],
    now: Callable[[], datetime],
) -> tuple[int, int]:
    """Send up to BATCH due deliveries of enabled endpoints; (delivered, failed attempts).

    Each is sent outside any transaction and recorded in one of its own: a slow receiver
    never holds the database.
    """
    with sessions() as session:
        started = now()
        due = [
            (delivery.id, endpoint.url, secret_of(endpoint), delivery.message_id, delivery.payload)
            for delivery, endpoint in session.execute(
                select(Attempted, Endpoint)
                .join(Endpoint, Endpoint.id == Attempted.endpoint_id)
                .where(
                    Attempted.outcome == Outcome.PENDING,
                    Attempted.next_attempt_at <= started,
                    Endpoint.disabled_at.is_(None),
                )
                .order_by(Attempted.next_attempt_at, Attempted.id)
                .limit(BATCH)
            )
        ]
    delivered = failed = 0
    for delivery_id, url, secret, message_id, payload in due:
        at = now()
        status = None
        try:
            answer = client.post(
                url, content=payload, headers=headers(secret, message_id, at, payload)
            )
            status = answer.status_code
            error = None if answer.is_success else f"HTTP {answer.status_code}"
        except (httpx.HTTPError, FetchError) as exc:  # FetchError: a guarded address
            error = first_line(exc) or type(exc).__name__
        with sessions.begin() as session:
            delivery = session.get_one(Attempted, delivery_id)
            endpoint = session.get_one(Endpoint, delivery.endpoint_id)
            if endpoint.disabled_at is not None:  # disabled by an earlier delivery of this run
                continue
            delivery.last_status = status
            _record(endpoint, delivery, now(), error)
        if error is None:
            delivered += 1
        else:
            failed += 1
    return delivered, failed
