"""BulkInsert stores exactly what the ORM would, on every backend, across statement boundaries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import Table, select, text

from newsletter.bulk import BulkInsert, chunks, table_of
from newsletter.runtime import Runtime
from subscribers.models import Status, Subscriber
from tests import factories

NOW = datetime(2026, 11, 27, 10, 30, 15, 123456, tzinfo=timezone(timedelta(hours=-5)))
# Not the table's order, and more rows than one statement takes.
COLUMNS = (
    "updated_at",
    "email",
    "attributes",
    "name",
    "status",
    "soft_bounces",
    "created_at",
    "confirmed_at",
)
ROWS = 1234


def _table() -> Table:
    table = Subscriber.__table__
    assert isinstance(table, Table)
    return table


def test_bulk_rows_read_back_as_the_orm_writes_them(runtime: Runtime) -> None:
    with runtime.sessions.begin() as session:
        session.add(
            factories.subscriber(
                "orm@example.org",
                NOW,
                name="Orm",
                attributes={"city": "El Paso"},
                confirmed_at=NOW,
            )
        )
        bulk = BulkInsert(session.connection(), _table(), COLUMNS)
        stamp = bulk.convert("created_at", NOW)
        state = bulk.convert("status", Status.ACTIVE)
        bulk.run(
            [
                (
                    stamp,
                    f"r{n}@example.org",
                    bulk.convert("attributes", {"n": str(n), "city": "Tucson ✓"}),
                    f"Reader {n}",
                    state,
                    n % 3,
                    stamp,
                    None if n % 2 else stamp,
                )
                for n in range(ROWS)
            ]
        )
    with runtime.sessions() as session:
        stored = {s.email: s for s in session.scalars(select(Subscriber))}
        assert len(stored) == ROWS + 1
        last = stored[f"r{ROWS - 1}@example.org"]
        assert last.name == f"Reader {ROWS - 1}"
        assert last.attributes == {"n": str(ROWS - 1), "city": "Tucson ✓"}
        assert last.status is Status.ACTIVE
        assert last.soft_bounces == (ROWS - 1) % 3
        assert last.created_at == NOW
        assert last.created_at.tzinfo is not None
        assert last.confirmed_at is None
        assert stored["r0@example.org"].confirmed_at == NOW
        # Byte for byte what the ORM stored: SQLite compares timestamps as text.
        raw = session.execute(
            text(
                "SELECT email, created_at FROM subscribers"
                " WHERE email IN ('orm@example.org', 'r0@example.org')"
            )
        ).all()
        assert len({created for _email, created in raw}) == 1
        assert session.scalar(
            select(Subscriber.email).where(Subscriber.created_at == NOW.astimezone(UTC)).limit(1)
        )


def test_a_column_with_a_default_must_be_named(runtime: Runtime) -> None:
    with runtime.sessions.begin() as session, pytest.raises(ValueError, match="soft_bounces"):
        BulkInsert(session.connection(), _table(), [c for c in COLUMNS if c != "soft_bounces"])


def test_chunks_cover_every_key_once_in_order() -> None:
    assert list(chunks([1, 2, 3, 4, 5], 2)) == [[1, 2], [3, 4], [5]]
    assert list(chunks([], 2)) == []
    assert table_of(Subscriber) is _table()
