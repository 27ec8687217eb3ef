"""CSV import (streamed, batched, every rejected row reported) and export (formula-safe)."""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import BinaryIO

from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.sql.elements import BindParameter

from newsletter.bulk import BulkInsert, chunks, table_of
from subscribers.addresses import AddressChecker, InvalidAddress
from subscribers.models import (
    Cause,
    Status,
    Subscriber,
    SubscriberEvent,
    SubscriberTopic,
    Suppression,
)
from subscribers.signup import InvalidName, check_name

# Columns the export adds that an import of that export must not turn into attributes.
EXPORT_ONLY = ("status", "created_at", "confirmed_at")
_TOPIC_SPLIT = re.compile(r"[;|,]")
# Spreadsheets run a cell starting with these as a formula (OWASP "CSV injection").
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_SUBSCRIBER_COLUMNS = (
    "email",
    "name",
    "status",
    "attributes",
    "soft_bounces",
    "confirmed_at",
    "created_at",
    "updated_at",
)
_EVENT_COLUMNS = (
    "subscriber_id",
    "at",
    "from_status",
    "to_status",
    "cause",
    "detail",
    "client_address",
)
# Addresses per IN (...) query: well under SQLite's and PostgreSQL's parameter limits.
_IN_CHUNK = 2000


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
    topics: frozenset[int]
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
        # A list repeats a handful of topic cells: each is split and checked once.
        self.topic_cells: dict[str, frozenset[int] | str] = {}
        self.skip = frozenset(("", "email", "name", "topics", *EXPORT_ONLY))

    def parse(self, line: int, cells: list[str]) -> _Row | Rejection | None:
        stripped = [cell.strip() for cell in cells]
        if not any(stripped):
            return None  # a blank line is not a row
        if len(cells) > self.width:
            return Rejection(line, "", f"{len(cells)} cells but the header has {self.width}")
        values = dict(
            zip(
                self.names,
                [_restore(cell) if cell[:1] == "'" else cell for cell in stripped],
                strict=False,
            )
        )
        raw_email = values.get("email", "")
        try:
            email = self.normalise(raw_email)
        except InvalidAddress as exc:
            return Rejection(line, raw_email, f"invalid address: {exc}")
        first = self.seen.get(email)
        if first is not None:
            return Rejection(line, email, f"duplicate: same address as line {first}")
        cell = values.get("topics", "")
        topics = self.topic_cells.get(cell)
        if topics is None:
            topics = self.topic_cells[cell] = self._topics(cell)
        if isinstance(topics, str):
            return Rejection(line, email, f"unknown topic {topics!r}")
        try:
            name = check_name(values.get("name", ""))
        except InvalidName as exc:
            return Rejection(line, email, str(exc))
        self.seen[email] = line
        skip = self.skip
        attributes = {key: value for key, value in values.items() if value and key not in skip}
        return _Row(line, email, name, topics, attributes)

    def _topics(self, cell: str) -> frozenset[int] | str:
        """The topic ids a cell names, or the first slug that names no topic."""
        topics: set[int] = set()
        for slug in _TOPIC_SPLIT.split(cell):
            slug = slug.strip().lower()
            if not slug:
                continue
            if slug not in self.ids_by_slug:
                return slug
            topics.add(self.ids_by_slug[slug])
        return frozenset(topics)


def import_csv(
    sessions: sessionmaker[Session],
    stream: BinaryIO,
    ids_by_slug: Mapping[str, int],
    now: datetime,
    *,
    confirmed: bool,
    source: str = "import",
    check_deliverability: bool = False,
    batch: int = 5000,
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
        if lines.bad and any(n in lines.bad for n in range(line, end + 1)):
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


# Expanding IN: a batch's addresses are bound as they are, without building an expression each.
_EMAILS: BindParameter[list[str]] = bindparam("emails", expanding=True)
_SUPPRESSED = select(Suppression.email, Suppression.reason).where(Suppression.email.in_(_EMAILS))
_STORED = select(
    Subscriber.email, Subscriber.id, Subscriber.status, Subscriber.confirmation_sent_at
).where(Subscriber.email.in_(_EMAILS))
_IDS = select(Subscriber.email, Subscriber.id).where(Subscriber.email.in_(_EMAILS))


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
    suppressed: dict[str, str] = {}
    stored: dict[str, tuple[int, Status, datetime | None]] = {}
    for emails in chunks([row.email for row in rows], _IN_CHUNK):
        result = session.execute(_SUPPRESSED, {"emails": emails})
        suppressed.update((email, reason) for email, reason in result)
        for email, subscriber_id, status, sent in session.execute(_STORED, {"emails": emails}):
            stored[email] = (subscriber_id, status, sent)
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
    connection = session.connection()
    # Driver-level executemany of plain tuples: every row of a batch shares its timestamps,
    # status and cause, so each is converted for the database once, not once per row.
    subscribers = BulkInsert(connection, table_of(Subscriber), _SUBSCRIBER_COLUMNS)
    stamp = subscribers.convert("created_at", now)
    state = subscribers.convert("status", status)
    confirmed_at = stamp if confirmed else None
    attributes = subscribers.processors["attributes"] or (lambda value: value)
    subscribers.run(
        [
            (row.email, row.name, state, attributes(row.attributes), 0, confirmed_at, stamp, stamp)
            for row in new
        ]
    )
    id_of: dict[str, int] = {}
    for chunk in chunks([row.email for row in new], _IN_CHUNK):
        id_of.update((email, id_) for email, id_ in session.execute(_IDS, {"emails": chunk}))
    ids = [id_of[row.email] for row in new]
    detail = "confirmed by the list owner" if confirmed else "awaiting confirmation"
    events = BulkInsert(connection, table_of(SubscriberEvent), _EVENT_COLUMNS)
    at = events.convert("at", now)
    to_status = events.convert("to_status", status)
    cause = events.convert("cause", Cause.IMPORT)
    events.run(
        [
            (subscriber_id, at, None, to_status, cause, f"{source} line {row.line}: {detail}", None)
            for subscriber_id, row in zip(ids, new, strict=True)
        ]
    )
    BulkInsert(connection, table_of(SubscriberTopic), ("subscriber_id", "topic_id")).run(
        [
            (subscriber_id, topic_id)
            for subscriber_id, row in zip(ids, new, strict=True)
            for topic_id in sorted(row.topics)
        ]
    )
    if not confirmed:
        to_confirm.extend(ids)
    return len(new), existing, rejected, to_confirm


def _why(reason: Cause) -> str:
    return {
        Cause.BOUNCE: "the address bounced",
        Cause.COMPLAINT: "the address complained of spam",
    }.get(reason, "the address unsubscribed")
