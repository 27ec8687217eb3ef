"""CSV export of subscribers: re-importable, and safe to open in a spreadsheet."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from typing import IO, Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from subscribers.audience import topic_cadences
from subscribers.cells import neutralise
from subscribers.csv_parse import EXPORT_ONLY
from subscribers.models import Cadence, Status, Subscriber
from subscribers.origin import UTM_KEYS, SignupOrigin
from subscribers.topics import known_topics


def export_csv(
    session: Session,
    out: IO[str],
    status: Status | None = None,
    batch: int = 2000,
    where: Sequence[ColumnElement[bool]] = (),
) -> int:
    """Write subscribers as CSV (re-importable), paging by id; returns how many were written.

    `where`: more conditions, e.g. the admin's search filters (subscribers.search.conditions).
    """
    base = select(Subscriber).where(*where).order_by(Subscriber.id)
    if status is not None:
        base = base.where(Subscriber.status == status)
    known = known_topics(session)
    keys: set[str] = set()
    for stored in session.scalars(base.with_only_columns(Subscriber.attributes)):
        keys.update(stored or {})
    extra = sorted(keys - {"email", "name", "topics", *EXPORT_ONLY})
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["email", "name", "topics", *EXPORT_ONLY, *extra])
    written, last = 0, 0
    while True:
        page = list(session.scalars(base.where(Subscriber.id > last).limit(batch)))
        if not page:
            return written
        chosen = topic_cadences(session, [s.id for s in page], known)
        for subscriber in page:
            attributes: dict[str, Any] = subscriber.attributes or {}
            origin = SignupOrigin.from_json(subscriber.signup_origin)
            cells = [
                subscriber.email,
                subscriber.name,
                _topics_cell(chosen.get(subscriber.id, {})),
                subscriber.status.value,
                subscriber.created_at.isoformat(),
                subscriber.confirmed_at.isoformat() if subscriber.confirmed_at else "",
                subscriber.signup_source or "",
                origin.referrer,
                *(origin.utm.get(key, "") for key in UTM_KEYS),
                *(str(attributes.get(key, "")) for key in extra),
            ]
            writer.writerow([neutralise(cell) for cell in cells])
        written += len(page)
        last = page[-1].id
        session.expunge_all()


def _topics_cell(chosen: dict[str, Cadence]) -> str:
    """ "asylum;border:daily": a weekly topic by its slug alone, as before cadences existed."""
    return ";".join(
        slug if cadence == Cadence.WEEKLY else f"{slug}:{cadence.value}"
        for slug, cadence in sorted(chosen.items())
    )
