"""Checked records onto the list a batch at a time; states and events go through the lifecycle."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.sql.elements import BindParameter

from newsletter.bulk import BulkInsert, chunks, table_of
from subscribers.csv_parse import Record, Rejection
from subscribers.erasure import erased_among
from subscribers.lifecycle import Newcomer, enter_many, suppressed_among
from subscribers.models import Cadence, Cause, Status, Subscriber, SubscriberTopic

# Addresses per IN (...) query: well under SQLite's and PostgreSQL's parameter limits.
_IN_CHUNK = 2000
# Expanding IN: a batch's addresses are bound as they are, without building an expression each.
_EMAILS: BindParameter[list[str]] = bindparam("emails", expanding=True)
_STORED = select(
    Subscriber.email, Subscriber.id, Subscriber.status, Subscriber.confirmation_sent_at
).where(Subscriber.email.in_(_EMAILS))


@dataclass
class Stored:
    """What storing some batches did."""

    imported: int = 0
    existing: int = 0
    rejected: list[Rejection] = field(default_factory=list)
    # Pending subscribers (new, or never confirmed) that should get a confirmation email.
    to_confirm: list[int] = field(default_factory=list)


def store(
    sessions: sessionmaker[Session],
    records: Sequence[Record],
    now: datetime,
    *,
    confirmed: bool,
    source: str,
    into: Stored,
    keys: Sequence[str] = (),
) -> None:
    """Store one batch in its own transaction and add what it did to `into`.

    Addresses already stored are counted, never changed, so a re-run after a crash picks up
    where it stopped; a suppressed address is refused (only its owner can bring it back), and
    an erased one always (`keys`: the site's signing keys its hash was kept with).
    """
    # Another process may add one of these addresses between our check and our insert:
    # then the batch is checked again and retried.
    for attempt in (1, 2):
        try:
            with sessions.begin() as session:
                outcome = _store_batch(session, records, now, confirmed, source, keys)
        except IntegrityError:
            if attempt == 2:
                raise
            continue
        into.imported += outcome.imported
        into.existing += outcome.existing
        into.rejected.extend(outcome.rejected)
        into.to_confirm.extend(outcome.to_confirm)
        return


def _store_batch(
    session: Session,
    records: Sequence[Record],
    now: datetime,
    confirmed: bool,
    source: str,
    keys: Sequence[str],
) -> Stored:
    emails = [record.email for record in records]
    suppressed = suppressed_among(session, emails)
    erased = erased_among(session, keys, emails) if keys else set()
    stored: dict[str, tuple[int, Status, datetime | None]] = {}
    for chunk in chunks(emails, _IN_CHUNK):
        for email, subscriber_id, status, sent in session.execute(_STORED, {"emails": chunk}):
            stored[email] = (subscriber_id, status, sent)
    outcome = Stored()
    new: list[Record] = []
    for record in records:
        if record.email in erased:
            reason = "erased at the person's request: never to be mailed again"
            outcome.rejected.append(Rejection(record.line, record.email, reason))
        elif record.email in suppressed:
            why = _why(suppressed[record.email])
            outcome.rejected.append(Rejection(record.line, record.email, f"suppressed ({why})"))
        elif record.email in stored:
            outcome.existing += 1
            subscriber_id, status, sent = stored[record.email]
            # A re-run after a crash still owes a confirmation to those who never got one.
            if not confirmed and status == Status.PENDING and sent is None:
                outcome.to_confirm.append(subscriber_id)
        else:
            new.append(record)
    if not new:
        return outcome
    detail = "confirmed by the list owner" if confirmed else "awaiting confirmation"
    ids = enter_many(
        session,
        [Newcomer(r.email, r.name, r.attributes, f"{source} line {r.line}: {detail}") for r in new],
        Status.ACTIVE if confirmed else Status.PENDING,
        Cause.IMPORT,
        now,
    )
    columns = ("subscriber_id", "topic_id", "cadence")
    chosen = BulkInsert(session.connection(), table_of(SubscriberTopic), columns)
    # Each cadence as the driver takes it, converted once, not per row; most rows are weekly.
    driver = {cadence: chosen.convert("cadence", cadence) for cadence in Cadence}
    weekly = Cadence.WEEKLY
    rows = []
    for subscriber_id, record in zip(ids, new, strict=True):
        cadences = record.cadences
        for topic_id in sorted(record.topics):
            rows.append((subscriber_id, topic_id, driver[cadences.get(topic_id, weekly)]))
    chosen.run(rows)
    outcome.imported = len(new)
    if not confirmed:
        outcome.to_confirm.extend(ids)
    return outcome


def _why(reason: Cause) -> str:
    return {
        Cause.BOUNCE: "the address bounced",
        Cause.COMPLAINT: "the address complained of spam",
    }.get(reason, "the address unsubscribed")
