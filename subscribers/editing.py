"""What an editor may do to one subscriber, each recorded with who did it (Cause.ADMIN)."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from subscribers.cadences import by_slug, moved_words
from subscribers.lifecycle import SUPPRESSING, is_suppressed, record, suppress, transition
from subscribers.models import Cadence, Cause, Status, Subscriber, Suppression
from subscribers.queue import enqueue
from subscribers.signup import check_name, set_cadences, set_topics
from subscribers.topics import known_topics


def _by(editor: str, what: str) -> str:
    return f"{what} (by editor {editor})"


def edit(
    session: Session,
    subscriber: Subscriber,
    name: str,
    topics: Iterable[str],
    editor: str,
    now: datetime,
    cadences: Mapping[str, str] | None = None,
    offer: Collection[Cadence] = (Cadence.WEEKLY,),
) -> list[str]:
    """Change the name and topic slugs (none: every topic); what changed, recorded. InvalidName,
    UnknownTopic, UnknownCadence for the editor's form to show.

    `cadences` ({slug: cadence}, weekly when missing) sets each chosen topic's; None keeps them.
    `offer`: the cadences the publisher offers; any other is UnknownCadence, but a topic may
    keep the one it has though no longer offered (the editor's form shows it as it is).
    """
    name = check_name(name)
    known = known_topics(session)
    chosen = known.ids(topics)
    stored = {row.topic_id: row.cadence for row in subscriber.topics}
    wanted = by_slug(known, cadences, offer, stored) if cadences is not None else None
    changes = []
    if name != subscriber.name:
        subscriber.name = name
        changes.append("name")
    if set_topics(session, subscriber, chosen):
        changes.append("topics")
    if wanted is not None:
        moved = set_cadences(subscriber, wanted)
        if moved:
            # Which topic went to which cadence, as the reader's own change is recorded.
            changes.append(moved_words(known, {t: wanted.get(t, Cadence.WEEKLY) for t in moved}))
    if changes:
        subscriber.updated_at = now
        record(session, subscriber, Cause.ADMIN, now, _by(editor, "changed " + ", ".join(changes)))
    return changes


def unsubscribe(session: Session, subscriber: Subscriber, editor: str, now: datetime) -> bool:
    """Unsubscribe (and suppress) on the reader's behalf; False when they were not on the list."""
    if subscriber.status in SUPPRESSING:
        return False
    return transition(
        session, subscriber, Status.UNSUBSCRIBED, Cause.ADMIN, now, _by(editor, "unsubscribed")
    )


def suppress_address(
    session: Session, subscriber: Subscriber, reason: str, editor: str, now: datetime
) -> bool:
    """Stop every mail to the address, whatever its status; False when it already was."""
    if is_suppressed(session, subscriber.email):
        return False
    why = _by(editor, f"suppressed: {reason}".strip().rstrip(":"))
    suppress(session, subscriber.email, Cause.ADMIN, now, why)
    record(session, subscriber, Cause.ADMIN, now, why)
    return True


def lift(session: Session, subscriber: Subscriber, editor: str, now: datetime) -> bool:
    """Lift the address's suppression (its status stays); False when there was none."""
    rows = list(session.scalars(select(Suppression).where(Suppression.email == subscriber.email)))
    if not rows:
        return False
    for row in rows:
        session.delete(row)
    record(session, subscriber, Cause.ADMIN, now, _by(editor, "suppression lifted"))
    return True


def resend_confirmation(
    session: Session, subscriber: Subscriber, topic_ids: Iterable[int], editor: str, now: datetime
) -> bool:
    """Queue a new confirmation email for a pending subscriber; False for anyone else.

    Through the signup queue ("links": a pending reader gets the confirmation again), so the
    background sender mails it with its retries and its per-address interval.
    """
    if subscriber.status != Status.PENDING:
        return False
    enqueue(
        session, subscriber.email, subscriber.name, frozenset(topic_ids), None, now, kind="links"
    )
    record(session, subscriber, Cause.ADMIN, now, _by(editor, "confirmation resent"))
    return True


def record_export(session: Session, subscriber: Subscriber, editor: str, now: datetime) -> None:
    """An export of their data is on their timeline too: who read it out, and when."""
    record(session, subscriber, Cause.ADMIN, now, _by(editor, "data exported"))
