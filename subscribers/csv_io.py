"""CSV import (streamed, batched, every rejected row reported) and export (formula-safe)."""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import BinaryIO

from sqlalchemy import Table, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from newsletter.db import Base
from subscribers.addresses import AddressChecker, InvalidAddress
from subscribers.models import (
    Cause,
    Status,
    Subscriber,
    SubscriberEvent,
    SubscriberTopic,
    Suppression,
)
from subscribers.signup import NAME_MAX

# Columns the export adds that an import of that export must not turn into attributes.
EXPORT_ONLY = ("status", "created_at", "confirmed_at")
_TOPIC_SPLIT = re.compile(r"[;|,]")
# Spreadsheets run a cell starting with these as a formula (OWASP "CSV injection").
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class ImportFileError(ValueError):
    """The file as a whole cannot be imported (no header, no email column); nothing was."""


@dataclass(frozen=True)
class Rejection:
    line: int
    email: str
    reason: str


@dataclass
class ImportReport:
    rows: int = 0
    imported: int = 0
    existing: int = 0
    rejected: list[Rejection] = field(default_factory=list)
    # Pending subscribers (new, or never confirmed) that should get a confirmation email.
    to_confirm: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class _Row:
    line: int
    email: str
    name: str
    topics: set[int]
    attributes: dict[str, str]


def neutralise(cell: str) -> str:
    """A cell that a spreadsheet will show as text, never evaluate."""
    return "'" + cell if cell.startswith(_FORMULA_START) else cell


def _restore(cell: str) -> str:
    # Undo neutralise() so that an exported file imports back as it was.
    return cell[1:] if cell.startswith("'") and cell[1:].startswith(_FORMULA_START) else cell


class _Lines:
    """Decodes a binary stream line by line, noting which lines were not UTF-8 and bytes read."""

    def __init__(self, stream: BinaryIO) -> None:
        self.stream = stream
        self.bad: set[int] = set()
        self.bytes_read = 0

    def __iter__(self) -> Iterator[str]:
        for number, raw in enumerate(self.stream, start=1):
            self.bytes_read += len(raw)
            if number == 1:
                raw = raw.removeprefix(b"\xef\xbb\xbf")
            try:
                yield raw.decode("utf-8")
            except UnicodeDecodeError:
                self.bad.add(number)
                yield raw.decode("utf-8", "replace")


class _Parser:
    """Turns CSV records into checked rows or rejections; knows nothing of the database."""

    def __init__(
        self, header: list[str], ids_by_slug: Mapping[str, int], check_deliverability: bool
    ) -> None:
        names = [column.strip().lower() for column in header]
        if "email" not in names:
            found = ", ".join(repr(n) for n in names if n) or "nothing"
            raise ImportFileError(f"line 1: the header has no 'email' column (found {found})")
        self.names = names
        self.width = len(names)
        self.ids_by_slug = ids_by_slug
        self.normalise = AddressChecker(check_deliverability=check_deliverability)
        self.seen: dict[str, int] = {}

    def parse(self, line: int, cells: list[str]) -> _Row | Rejection | None:
        if not any(cell.strip() for cell in cells):
            return None  # a blank line is not a row
        if len(cells) > self.width:
            return Rejection(line, "", f"{len(cells)} cells but the header has {self.width}")
        values = dict(zip(self.names, (_restore(c.strip()) for c in cells), strict=False))
        raw_email = values.get("email", "")
        try:
            email = self.normalise(raw_email)
        except InvalidAddress as exc:
            return Rejection(line, raw_email, f"invalid address: {exc}")
        first = self.seen.get(email)
        if first is not None:
            return Rejection(line, email, f"duplicate: same address as line {first}")
        topics: set[int] = set()
        for slug in _TOPIC_SPLIT.split(values.get("topics", "")):
            slug = slug.strip().lower()
            if not slug:
                continue
            if slug not in self.ids_by_slug:
                return Rejection(line, email, f"unknown topic {slug!r}")
            topics.add(self.ids_by_slug[slug])
        name = values.get("name", "")
        if len(name) > NAME_MAX:
            return Rejection(line, email, f"name longer than {NAME_MAX} characters")
        self.seen[email] = line
        attributes = {
            key: value
            for key, value in values.items()
            if key and value and key not in ("email", "name", "topics", *EXPORT_ONLY)
        }
        return _Row(line, email, name, topics, attributes)


def import_csv(
    sessions: sessionmaker[Session],
    stream: BinaryIO,
    ids_by_slug: Mapping[str, int],
    now: datetime,
    *,
    confirmed: bool,
    source: str = "import",
    check_deliverability: bool = False,
    batch: int = 2000,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Import a CSV of `email,name,topics` (+ attribute columns) in committed batches.

    Each batch is its own transaction, so a crash loses at most one batch and a re-run
    picks up where it stopped: addresses already stored are counted, never changed.
    `progress` is called with the number of bytes read so far.
    """
    lines = _Lines(stream)
    reader = csv.reader(lines, strict=False)
    try:
        header = next(reader)
    except StopIteration:
        raise ImportFileError(
            "the file is empty; expected a header line such as email,name,topics"
        ) from None
    except csv.Error as exc:
        raise ImportFileError(f"line 1: not a CSV header: {exc}") from None
    if 1 in lines.bad:
        raise ImportFileError("line 1: the header is not UTF-8 text; save the file as UTF-8")
    parser = _Parser(header, ids_by_slug, check_deliverability)
    report = ImportReport()
    pending: list[_Row] = []
    previous_line = 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            report.rejected.append(Rejection(reader.line_num, "", f"not valid CSV: {exc}"))
            previous_line = reader.line_num
            continue
        line = previous_line + 1
        end = reader.line_num
        previous_line = end
        report.rows += 1
        if any(n in lines.bad for n in range(line, end + 1)):
            report.rejected.append(Rejection(line, "", "not UTF-8 text; save the file as UTF-8"))
            continue
        parsed = parser.parse(line, cells)
        if parsed is None:
            report.rows -= 1
        elif isinstance(parsed, Rejection):
            report.rejected.append(parsed)
        else:
            pending.append(parsed)
        if len(pending) >= batch:
            _store(sessions, pending, now, confirmed, source, report)
            pending = []
            if progress is not None:
                progress(lines.bytes_read)
    if pending:
        _store(sessions, pending, now, confirmed, source, report)
    if progress is not None:
        progress(lines.bytes_read)
    report.rejected.sort(key=lambda rejection: rejection.line)
    return report


def _store(
    sessions: sessionmaker[Session],
    rows: list[_Row],
    now: datetime,
    confirmed: bool,
    source: str,
    report: ImportReport,
) -> None:
    # Another process may add one of these addresses between our check and our insert:
    # then the batch is checked again and retried.
    for attempt in (1, 2):
        try:
            with sessions.begin() as session:
                outcome = _store_batch(session, rows, now, confirmed, source)
        except IntegrityError:
            if attempt == 2:
                raise
            continue
        imported, existing, rejected, to_confirm = outcome
        report.imported += imported
        report.existing += existing
        report.rejected.extend(rejected)
        report.to_confirm.extend(to_confirm)
        return


def _store_batch(
    session: Session, rows: list[_Row], now: datetime, confirmed: bool, source: str
) -> tuple[int, int, list[Rejection], list[int]]:
    emails = [row.email for row in rows]
    suppressed = {
        email: reason
        for email, reason in session.execute(
            select(Suppression.email, Suppression.reason).where(Suppression.email.in_(emails))
        )
    }
    stored = {
        email: (subscriber_id, status, sent)
        for email, subscriber_id, status, sent in session.execute(
            select(
                Subscriber.email,
                Subscriber.id,
                Subscriber.status,
                Subscriber.confirmation_sent_at,
            ).where(Subscriber.email.in_(emails))
        )
    }
    rejected: list[Rejection] = []
    to_confirm: list[int] = []
    existing = 0
    new: list[_Row] = []
    for row in rows:
        if row.email in suppressed:
            reason = Cause(suppressed[row.email])
            rejected.append(Rejection(row.line, row.email, f"suppressed ({_why(reason)})"))
        elif row.email in stored:
            existing += 1
            subscriber_id, status, sent = stored[row.email]
            # A re-run after a crash still owes a confirmation to those who never got one.
            if not confirmed and status == Status.PENDING and sent is None:
                to_confirm.append(subscriber_id)
        else:
            new.append(row)
    if not new:
        return 0, existing, rejected, to_confirm
    status = Status.ACTIVE if confirmed else Status.PENDING
    # Core executemany on the tables: the ORM's unit of work costs more than the rows themselves.
    session.execute(
        insert(_table(Subscriber)),
        [
            {
                "email": row.email,
                "name": row.name,
                "status": status,
                "attributes": row.attributes,
                "soft_bounces": 0,
                "confirmed_at": now if confirmed else None,
                "created_at": now,
                "updated_at": now,
            }
            for row in new
        ],
    )
    id_of = {
        email: subscriber_id
        for email, subscriber_id in session.execute(
            select(Subscriber.email, Subscriber.id).where(
                Subscriber.email.in_([row.email for row in new])
            )
        )
    }
    ids = [id_of[row.email] for row in new]
    detail = "confirmed by the list owner" if confirmed else "awaiting confirmation"
    session.execute(
        insert(_table(SubscriberEvent)),
        [
            {
                "subscriber_id": subscriber_id,
                "at": now,
                "from_status": None,
                "to_status": status,
                "cause": Cause.IMPORT,
                "detail": f"{source} line {row.line}: {detail}",
                "client_address": None,
            }
            for subscriber_id, row in zip(ids, new, strict=True)
        ],
    )
    links = [
        {"subscriber_id": subscriber_id, "topic_id": topic_id}
        for subscriber_id, row in zip(ids, new, strict=True)
        for topic_id in sorted(row.topics)
    ]
    if links:
        session.execute(insert(_table(SubscriberTopic)), links)
    if not confirmed:
        to_confirm.extend(ids)
    return len(new), existing, rejected, to_confirm


def _table(model: type[Base]) -> Table:
    table = model.__table__
    assert isinstance(table, Table)
    return table


def _why(reason: Cause) -> str:
    return {
        Cause.BOUNCE: "the address bounced",
        Cause.COMPLAINT: "the address complained of spam",
    }.get(reason, "the address unsubscribed")
