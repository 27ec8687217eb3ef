"""core, subscribers, issues → outbound webhooks: queue what happened for each endpoint, send."""

from __future__ import annotations

from datetime import timedelta

import httpx
from sqlalchemy import delete, select

from newsletter.collect.guard import guarded_client
from newsletter.runtime import Runtime
from newsletter.webhooks.events import queue_events
from newsletter.webhooks.models import Attempted, Endpoint, Outcome
from newsletter.webhooks.send import TIMEOUT, send_due

# How long a settled delivery stays in its endpoint's log.
KEEP = timedelta(days=30)
# One run sends for at most this long; what is left waits for the next run (each minute).
RUN_SECONDS = 50.0


def receiver_client(runtime: Runtime) -> httpx.Client:
    """Endpoints must resolve to public addresses, as the collector's redirects must, unless the
    operator lists their host in [collect] trusted_hosts (a CRM on the intranet)."""
    return guarded_client(
        RUN_SECONDS, TIMEOUT, trusted_hosts=runtime.settings.collect.trusted_hosts
    )


def forget_old_deliveries(runtime: Runtime) -> int:
    """Deliveries settled (sent or given up) longer ago than KEEP are deleted: their bodies
    carry readers' addresses, which the log needs no longer than a month."""
    cutoff = runtime.clock.now() - KEEP
    with runtime.sessions.begin() as session:
        result = session.execute(
            delete(Attempted).where(
                Attempted.outcome != Outcome.PENDING, Attempted.done_at < cutoff
            )
        )
    return int(getattr(result, "rowcount", 0) or 0)


def run_webhooks(runtime: Runtime, client: httpx.Client | None = None) -> str:
    """The scheduler's job: new events queued per enabled endpoint, then due ones sent."""
    with runtime.sessions.begin() as session:
        endpoints = session.scalars(select(Endpoint).where(Endpoint.disabled_at.is_(None))).all()
        queued = sum(queue_events(session, endpoint, runtime.clock.now()) for endpoint in endpoints)
    if not endpoints:
        return "no webhook endpoints"
    with client or receiver_client(runtime) as sender:
        delivered, failed = send_due(
            runtime.sessions,
            sender,
            lambda endpoint: runtime.sealer.open(endpoint.secret),
            runtime.clock.now,
        )
    return f"queued {queued} events; delivered {delivered}, {failed} attempts failed"
