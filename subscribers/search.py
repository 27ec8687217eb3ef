"""Finding subscribers by address or name, status, topic, signup source and date, page by page."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import ColumnElement, Select, and_, exists, or_, select, text
from sqlalchemy.orm import Session

from subscribers.models import Status, Subscriber, SubscriberTopic
from subscribers.topics import known_topics

Match = Literal["contains", "prefix"]
# Longer searches are cut: a LIKE pattern is bounded like everything a visitor types.
MAX_QUERY = 320
PAGE = 50


@dataclass(frozen=True)
class Filters:
    """What an editor (or the CLI) asks for; every field optional."""

    query: str = ""
    match: Match = "contains"
    status: Status | None = None
    # A topic's slug: those who follow it, including those who follow every topic (no choice).
    topic: str | None = None
    source: str | None = None
    signed_up_from: datetime | None = None
    signed_up_before: datetime | None = None


@dataclass(frozen=True)
class Row:
    id: int
    email: str
    name: str
    status: Status
    signup_source: str | None
    created_at: datetime


@dataclass(frozen=True)
class Page:
    rows: list[Row]
    # The id to pass as `before` for the next (older) page; None on the last page.
    next_before: int | None


def _like(text: str, match: Match) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"{escaped}%" if match == "prefix" else f"%{escaped}%"


def conditions(session: Session, filters: Filters) -> list[ColumnElement[bool]]:
    """The WHERE clauses for `filters`; an unknown topic matches nobody rather than everybody."""
    found: list[ColumnElement[bool]] = []
    query = filters.query.strip()[:MAX_QUERY]
    if query and "@" in query and filters.match == "prefix":
        # An address's start: a range on the unique index, a few rows read of a million.
        start = query.lower()
        found.append(and_(Subscriber.email >= start, Subscriber.email < start + "\U0010ffff"))
    elif query:
        by_address = Subscriber.email.like(_like(query.lower(), filters.match), escape="\\")
        by_name = Subscriber.name.ilike(_like(query, filters.match), escape="\\")
        # Names hold no "@": such a query is part of an address.
        found.append(by_address if "@" in query else or_(by_address, by_name))
    if filters.status is not None:
        found.append(Subscriber.status == filters.status)
    if filters.topic:
        topic_id = known_topics(session).by_slug.get(filters.topic)
        if topic_id is None:
            found.append(Subscriber.id.is_(None))
        else:
            chose = SubscriberTopic.subscriber_id == Subscriber.id
            found.append(
                or_(
                    exists().where(chose, SubscriberTopic.topic_id == topic_id),
                    ~exists().where(chose),
                )
            )
    if filters.source:
        found.append(Subscriber.signup_source == filters.source)
    if filters.signed_up_from is not None:
        found.append(Subscriber.created_at >= filters.signed_up_from)
    if filters.signed_up_before is not None:
        found.append(Subscriber.created_at < filters.signed_up_before)
    return found


def statement(
    session: Session,
    filters: Filters,
    before: int | None = None,
    limit: int = PAGE,
    also: Sequence[ColumnElement[bool]] = (),
) -> Select[int, str, str, Status, str | None, datetime]:
    """Newest first, keyset-paged by id (`id < before`): every page costs the same.

    `also`: conditions from other stages (the pipeline's segments, such as who clicked lately).
    """
    where = [*conditions(session, filters), *also]
    if before is not None:
        where.append(Subscriber.id < before)
    return (
        select(
            Subscriber.id,
            Subscriber.email,
            Subscriber.name,
            Subscriber.status,
            Subscriber.signup_source,
            Subscriber.created_at,
        )
        .where(and_(True, *where))
        .order_by(Subscriber.id.desc())
        .limit(limit + 1)
    )


def search(
    session: Session,
    filters: Filters,
    before: int | None = None,
    limit: int = PAGE,
    also: Sequence[ColumnElement[bool]] = (),
) -> Page:
    """One page of subscribers matching `filters` (and `also`), and where the next page starts."""
    rows = [
        Row(id_, email, name, status, source, created_at)
        for id_, email, name, status, source, created_at in session.execute(
            statement(session, filters, before, limit, also)
        )
    ]
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(rows, rows[-1].id if more and rows else None)


# A loose index scan: one index seek per distinct source, not a read of the whole index (DISTINCT
# reads every row's entry; on a million subscribers that is most of the search page's time).
_SOURCES = text(
    """
    WITH RECURSIVE seen(source) AS (
        SELECT MIN(signup_source) FROM subscribers
        UNION ALL
        SELECT (SELECT MIN(signup_source) FROM subscribers WHERE signup_source > seen.source)
        FROM seen WHERE seen.source IS NOT NULL
    )
    SELECT source FROM seen WHERE source IS NOT NULL LIMIT :most
    """
)


def sources(session: Session, most: int = 200) -> list[str]:
    """Every signup source on record (the first `most`, in order), for the filter's choices."""
    return [source for source in session.scalars(_SOURCES, {"most": most}) if source]
