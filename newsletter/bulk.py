"""Driver-level bulk inserts: SQL compiled once by SQLAlchemy, values converted once by callers."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

from sqlalchemy import Connection, Table, insert
from sqlalchemy.orm import DeclarativeBase

Converter = Callable[[Any], Any]
Key = TypeVar("Key")

# Rows per statement: past a few hundred, a longer statement saves nothing more.
_MAX_ROWS = 500
_NAMED = re.compile(r"%\((\w+)\)s")


class BulkInsert:
    """An INSERT of the named columns of one table, many rows per statement, as plain tuples.

    SQLAlchemy's own executemany runs every value through its column type (timezone checks,
    enum and JSON conversion) one by one; for tens of thousands of rows that costs more than the
    database. Here the caller converts a value with `convert` (once, when every row shares it,
    e.g. the run's timestamp) and the tuples go straight to the driver, several hundred rows to
    a multi-row VALUES statement (twice as fast as executemany on SQLite). The SQL text, with any
    casts the dialect needs (PostgreSQL's ::JSON), is SQLAlchemy's.
    """

    def __init__(self, connection: Connection, table: Table, columns: Sequence[str]) -> None:
        self.connection = connection
        self.columns = tuple(columns)
        dialect = connection.dialect
        compiled = insert(table).inline().compile(dialect=dialect, column_keys=list(self.columns))
        head, _, group = str(compiled).partition(" VALUES ")
        positions = compiled.positiontup
        if positions is None:
            # pyformat (psycopg): %(name)s to positional %s, remembering the order.
            positions = _NAMED.findall(group)
            group = _NAMED.sub("%s", group)
        # Columns with a Python-side default the caller did not name would come out empty.
        if set(positions) != set(self.columns) or len(positions) != len(self.columns):
            missing = ", ".join(sorted(set(positions) - set(self.columns)))
            raise ValueError(f"{table.name}: bulk insert must name every column it binds {missing}")
        self.head = f"{head} VALUES "
        self.group = group.strip()
        self.order = [self.columns.index(name) for name in positions]
        limit = getattr(dialect, "insertmanyvalues_max_parameters", 999) or 999
        self.rows_per_statement = max(1, min(_MAX_ROWS, limit // len(self.columns)))
        self.processors: dict[str, Converter | None] = {
            name: table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
            for name in self.columns
        }

    def convert(self, column: str, value: Any) -> Any:
        """A Python value as the driver must receive it for this column."""
        processor = self.processors[column]
        return value if processor is None or value is None else processor(value)

    def run(self, rows: Sequence[tuple[Any, ...]]) -> None:
        """Insert rows of driver values, each in the order of `columns`."""
        order = self.order
        in_order = order == list(range(len(self.columns)))
        step = self.rows_per_statement
        for start in range(0, len(rows), step):
            chunk = rows[start : start + step]
            sql = self.head + ", ".join([self.group] * len(chunk))
            if in_order:
                values = [value for row in chunk for value in row]
            else:
                values = [row[index] for row in chunk for index in order]
            self.connection.exec_driver_sql(sql, tuple(values))


def table_of(mapped: type[DeclarativeBase]) -> Table:
    """The Table behind a mapped class, which BulkInsert compiles against."""
    table = mapped.__table__
    assert isinstance(table, Table)  # typed as any FromClause; a mapped class here has a Table
    return table


def chunks(keys: Sequence[Key], size: int) -> Iterator[list[Key]]:
    """`keys` `size` at a time, for the IN (...) lookups that go with a bulk insert."""
    for start in range(0, len(keys), size):
        yield list(keys[start : start + size])
