"""admin → subscribers: a CSV import, then the confirmations it owes, queued for the sender.

The command line mails them itself; a web request must not talk SMTP, so here each pending
subscriber's confirmation goes through the signup queue as a resend does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import BinaryIO

from sqlalchemy import select

from newsletter.runtime import Runtime
from subscribers.csv_import import ImportReport, import_csv
from subscribers.errors import QueueFull
from subscribers.models import Subscriber
from subscribers.queue import enqueue


@dataclass(frozen=True)
class Imported:
    report: ImportReport
    queued: int  # confirmations queued for the background sender
    unqueued: int  # the queue was full: these pending subscribers got none yet


def import_from_admin(
    runtime: Runtime, stream: BinaryIO, name: str, *, confirmed: bool, editor: str
) -> Imported:
    """Import as `newsletter subscribers import` does; ImportFileError for an unusable file."""
    now = runtime.clock.now()
    report = import_csv(
        runtime.sessions,
        stream,
        now,
        confirmed=confirmed,
        source=f"{name} (admin, by {editor})",
        check_deliverability=runtime.settings.subscribers.check_deliverability,
        keys=runtime.verification_keys,
        offer=runtime.cadences,
    )
    queued = 0
    for start in range(0, len(report.to_confirm), 1000):
        ids = report.to_confirm[start : start + 1000]
        try:
            with runtime.sessions.begin() as session:
                people = session.scalars(select(Subscriber).where(Subscriber.id.in_(ids))).all()
                for person in people:
                    enqueue(
                        session, person.email, person.name, frozenset(), None, now, kind="links"
                    )
        except QueueFull:
            break  # that batch was rolled back whole: none of it is counted
        queued += len(people)
    return Imported(report, queued, len(report.to_confirm) - queued)
