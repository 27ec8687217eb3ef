"""Endpoints that hear of events, and each event's delivery to each of them."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from newsletter.db import Base, string_enum


class Endpoint(Base):
    __tablename__ = "webhook_endpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(2000))
    # The whsec_… signing secret, sealed (newsletter/sealed.py): the receiver holds it too.
    secret: Mapped[str] = mapped_column(String(255))
    # The event types it hears of (newsletter.webhooks.events.EVENTS' keys).
    events: Mapped[list[str]] = mapped_column(JSON)
    created_by: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[datetime]
    # Where its event stream stands: the last subscriber event and the last issue sent it was
    # given (an endpoint hears of what happens after it was added, not of the past).
    after_event_id: Mapped[int] = mapped_column(Integer, default=0)
    issues_after: Mapped[datetime]
    # Deliveries that failed since the last that did not; past the limit, it is disabled.
    failures_in_row: Mapped[int] = mapped_column(Integer, default=0)
    disabled_at: Mapped[datetime | None]
    disabled_reason: Mapped[str | None] = mapped_column(String(500))


class Outcome(enum.StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


class Attempted(Base):
    """One event for one endpoint: sent until a 2xx, with backoff, or given up."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        Index("ix_webhook_deliveries_due", "outcome", "next_attempt_at"),
        Index("ix_webhook_deliveries_endpoint", "endpoint_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("webhook_endpoints.id", ondelete="CASCADE"))
    # webhook-id: the same on every retry, so the receiver can drop a repeat.
    message_id: Mapped[str] = mapped_column(String(40), unique=True)
    type: Mapped[str] = mapped_column(String(40))
    payload: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
    outcome: Mapped[Outcome] = mapped_column(
        string_enum(Outcome, "outcome"), default=Outcome.PENDING
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    last_status: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(String(500))
    done_at: Mapped[datetime | None]
