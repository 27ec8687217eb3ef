"""CSV import: the parser's records stored in committed batches, every rejected row reported."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import BinaryIO

from sqlalchemy.orm import Session, sessionmaker

from subscribers.bulk_store import Stored, store
from subscribers.csv_parse import Parser, Record, Rejection
from subscribers.models import Cadence
from subscribers.topics import known_topics


@dataclass
class ImportReport(Stored):
    rows: int = 0


def import_csv(
    sessions: sessionmaker[Session],
    stream: BinaryIO,
    now: datetime,
    *,
    confirmed: bool,
    source: str = "import",
    check_deliverability: bool = False,
    batch: int = 5000,
    progress: Callable[[int], None] | None = None,
    keys: Sequence[str] = (),
    offer: Collection[Cadence] = (Cadence.WEEKLY,),
) -> ImportReport:
    """Import a CSV of `email,name,topics` (+ attribute columns) in committed batches.

    Each batch is its own transaction, so a crash loses at most one batch and a re-run
    picks up where it stopped: addresses already stored are counted, never changed.
    ImportFileError, before anything is stored, for a file without a usable header.
    `progress` is called with the number of bytes read so far; `keys` (the site's signing keys)
    find the erased addresses, which are refused; `offer`, the cadences a row may choose.
    """
    with sessions() as session:
        known = known_topics(session)
    parser = Parser(stream, known, check_deliverability=check_deliverability, offer=offer)
    report = ImportReport()
    pending: list[Record] = []
    for parsed in parser:
        if isinstance(parsed, Rejection):
            report.rejected.append(parsed)
            continue
        pending.append(parsed)
        if len(pending) >= batch:
            store(
                sessions, pending, now, confirmed=confirmed, source=source, into=report, keys=keys
            )
            pending = []
            if progress is not None:
                progress(parser.bytes_read)
    if pending:
        store(sessions, pending, now, confirmed=confirmed, source=source, into=report, keys=keys)
    if progress is not None:
        progress(parser.bytes_read)
    report.rows = parser.rows
    report.rejected.sort(key=lambda rejection: rejection.line)
    return report
