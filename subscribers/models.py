"""Subscribers, their topics, every change of state, and the suppression list."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from newsletter.db import Base, string_enum


class Status(enum.StrEnum):
    PENDING = "pending"
    ACTIVE = "active"
    UNSUBSCRIBED = "unsubscribed"
    BOUNCED = "bounced"
    COMPLAINED = "complained"


class Cause(enum.StrEnum):
    """Why a subscriber's state changed: kept as proof of consent."""

    FORM = "form"
    IMPORT = "import"
    LINK = "link"
    BOUNCE = "bounce"
    COMPLAINT = "complaint"
    ADMIN = "admin"


class Cadence(enum.StrEnum):
    """How often a reader hears about one topic; weekly is what every reader had before."""

    WEEKLY = "weekly"
    DAILY = "daily"
    EACH = "each"

    @property
    def label(self) -> str:
        return CADENCE_LABELS[self]


# The one place people read these: forms, preferences, admin, CSV help.
CADENCE_LABELS: dict[Cadence, str] = {
    Cadence.WEEKLY: "Weekly digest",
    Cadence.DAILY: "Daily digest",
    Cadence.EACH: "Each story as it is published",
}


class Subscriber(Base):
    __tablename__ = "subscribers"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Normalised by email-validator before it gets here; unique regardless of case.
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[Status] = mapped_column(string_enum(Status, "status"), default=Status.PENDING)
    # Paused by the subscriber's choice until this instant; still active otherwise.
    paused_until: Mapped[datetime | None]
    attributes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    soft_bounces: Mapped[int] = mapped_column(Integer, default=0)
    confirmation_sent_at: Mapped[datetime | None]
    confirmed_at: Mapped[datetime | None]
    unsubscribed_at: Mapped[datetime | None]
    # Where the form was (a path here, or the newsroom's page for an embed): what editors count
    # signups by; signup_origin keeps the referrer and utm_* tags too (subscribers/origin.py).
    signup_source: Mapped[str | None] = mapped_column(String(500), index=True)
    signup_origin: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # Set when the reader confirms; the background sender mails the welcome and clears it.
    welcome_due_at: Mapped[datetime | None] = mapped_column(index=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    topics: Mapped[list[SubscriberTopic]] = relationship(
        back_populates="subscriber", cascade="all, delete-orphan"
    )
    events: Mapped[list[SubscriberEvent]] = relationship(
        back_populates="subscriber", cascade="all, delete-orphan", order_by="SubscriberEvent.id"
    )

    # PostgreSQL serves the admin's "contains" search (LIKE/ILIKE '%…%') from trigram indexes
    # instead of reading a million rows; SQLite has no such index and scans (migration 0017).
    __table_args__ = (
        *(
            Index(
                f"ix_subscribers_{column}_trgm",
                column,
                postgresql_using="gin",
                postgresql_ops={column: "gin_trgm_ops"},
                # Read by newsletter.migrate.compared(): other databases don't have it.
                info={"dialect": "postgresql"},
            ).ddl_if(dialect="postgresql")
            for column in ("email", "name")
        ),
    )


class SubscriberTopic(Base):
    """A topic a subscriber chose; none at all means every topic."""

    __tablename__ = "subscriber_topics"

    subscriber_id: Mapped[int] = mapped_column(
        ForeignKey("subscribers.id", ondelete="CASCADE"), primary_key=True
    )
    # By foreign key name only: this package may import nothing of the service but db.
    topic_id: Mapped[int] = mapped_column(
        ForeignKey("topics.id", ondelete="CASCADE"), primary_key=True
    )
    cadence: Mapped[Cadence] = mapped_column(
        string_enum(Cadence, "cadence"), default=Cadence.WEEKLY, server_default=Cadence.WEEKLY.value
    )

    subscriber: Mapped[Subscriber] = relationship(back_populates="topics")


class SubscriberEvent(Base):
    """One change of a subscriber's state, with its time and cause."""

    __tablename__ = "subscriber_events"
    __table_args__ = (
        Index("ix_subscriber_events_subscriber", "subscriber_id", "id"),
        # The audience overview counts the last weeks' changes without reading all history.
        Index("ix_subscriber_events_at", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscribers.id", ondelete="CASCADE"))
    at: Mapped[datetime]
    from_status: Mapped[Status | None] = mapped_column(string_enum(Status, "from_status"))
    to_status: Mapped[Status] = mapped_column(string_enum(Status, "to_status"))
    cause: Mapped[Cause] = mapped_column(string_enum(Cause, "cause"))
    detail: Mapped[str] = mapped_column(Text, default="")
    client_address: Mapped[str | None] = mapped_column(String(64))

    subscriber: Mapped[Subscriber] = relationship(back_populates="events")


class Suppression(Base):
    """An address never to be mailed again, by any path, whatever becomes of its subscriber row."""

    __tablename__ = "suppressions"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    reason: Mapped[Cause] = mapped_column(string_enum(Cause, "reason"))
    detail: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime]


class RateLimit(Base):
    """A fixed-window counter shared by every web process (per client address, per email)."""

    __tablename__ = "rate_limits"

    key: Mapped[str] = mapped_column(String(400), primary_key=True)
    window_start: Mapped[datetime]
    count: Mapped[int] = mapped_column(Integer, default=0)


class SignupRequest(Base):
    """A signup the form took, waiting for the background sender to store it and mail the link.

    The web request only adds one of these, whatever the address is (new, pending, active or
    suppressed), so that neither its answer nor its timing tells which; the row survives a
    crash of the sender until the confirmation has gone out.
    """

    __tablename__ = "signup_requests"
    __table_args__ = (Index("ix_signup_requests_due", "due_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320))
    name: Mapped[str] = mapped_column(String(200), default="")
    topics: Mapped[list[int]] = mapped_column(JSON, default=list)
    # {topic id (as JSON makes it, a string): cadence value} for topics not weekly; None or a
    # missing topic means weekly (requests queued before cadences existed have none).
    cadences: Mapped[dict[str, str] | None] = mapped_column(JSON)
    client_address: Mapped[str | None] = mapped_column(String(64))
    # "signup" (the form), or "links": a reader asking for fresh links (an old one expired).
    kind: Mapped[str] = mapped_column(String(20), default="signup", server_default="signup")
    origin: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    requested_at: Mapped[datetime]
    # Not before this instant: the first try, a retry after a failed send, or a lease running out.
    due_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # Set once the signup is stored; claimed_at is the send time this request claimed on the
    # subscriber, and previous_sent_at what it was before, to give back when the send fails.
    subscriber_id: Mapped[int | None] = mapped_column(
        ForeignKey("subscribers.id", ondelete="CASCADE")
    )
    claimed_at: Mapped[datetime | None]
    previous_sent_at: Mapped[datetime | None]


class ErasedAddress(Base):
    """An erased person's address, kept only as a keyed hash: no import or signup mails it again."""

    __tablename__ = "erased_addresses"

    # HMAC-SHA256 of the normalised address with the site's signing key, in hex.
    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    erased_at: Mapped[datetime]
    # The editor who erased it: the one record of the erasure that names nobody erased.
    erased_by: Mapped[str] = mapped_column(String(320))
