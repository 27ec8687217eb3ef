"""Endpoints publishers add: a URL, the events it hears of, a signing secret shown once."""

from __future__ import annotations

import base64
import secrets
from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from newsletter.errors import NewsletterError
from newsletter.sealed import Sealer
from newsletter.webhooks.events import EVENTS
from newsletter.webhooks.models import Attempted, Endpoint
from subscribers.models import SubscriberEvent


class EndpointError(NewsletterError):
    """An endpoint refused: the message says which field and why."""


def add_endpoint(
    session: Session, url: str, events: list[str], by: str, now: datetime, sealer: Sealer
) -> tuple[Endpoint, str]:
    """A new endpoint, hearing of what happens from now on, and its whsec_ secret (shown once)."""
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname or len(url) > 2000:
        raise EndpointError(
            "the URL must be a full http(s) address, like https://crm.example/hooks"
        )
    if parts.username or parts.password:
        raise EndpointError("put no password in the URL: check the webhook-signature instead")
    chosen = sorted(set(events) & EVENTS.keys())
    if not chosen:
        raise EndpointError("choose at least one event")
    secret = "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()
    newest_event = session.scalar(select(func.max(SubscriberEvent.id))) or 0
    endpoint = Endpoint(
        url=url,
        secret=sealer.seal(secret),
        events=chosen,
        created_by=by,
        created_at=now,
        after_event_id=newest_event,
        issues_after=now,
        failures_in_row=0,
    )
    session.add(endpoint)
    session.flush()
    return endpoint, secret


def enable(session: Session, endpoint_id: int) -> bool:
    """Back on after a fix: the deliveries it missed are retried from now."""
    endpoint = session.get(Endpoint, endpoint_id)
    if endpoint is None or endpoint.disabled_at is None:
        return False
    endpoint.disabled_at = endpoint.disabled_reason = None
    endpoint.failures_in_row = 0
    return True


def log_of(session: Session, endpoint_id: int, limit: int = 50) -> list[Attempted]:
    """Its latest deliveries, newest first."""
    return list(
        session.scalars(
            select(Attempted)
            .where(Attempted.endpoint_id == endpoint_id)
            .order_by(Attempted.id.desc())
            .limit(limit)
        )
    )
