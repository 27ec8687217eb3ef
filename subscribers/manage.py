"""What a subscriber does through the links mailed to them: confirm, unsubscribe (and undo it),
preferences."""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from subscribers.cadences import moved_words
from subscribers.errors import InvalidPause, InvalidToken
from subscribers.lifecycle import SUPPRESSING, record, transition
from subscribers.models import Cadence, Cause, Status, Subscriber, SubscriberEvent
from subscribers.signup import check_name, set_topics
from subscribers.tokens import Purpose, read_token
from subscribers.topics import known_topics

MAX_PAUSE_WEEKS = 52


def subscriber_for_token(
    session: Session,
    keys: str | Sequence[str],
    purpose: Purpose,
    token: str,
    now: datetime,
    max_age: timedelta | None = None,
) -> Subscriber:
    """The subscriber a link was made for; InvalidToken when forged, stale or not theirs.

    `keys`: the current key, then any previous ones (see read_token); ExpiredToken when old.
    """
    claims = read_token(keys, purpose, token, now, max_age)
    subscriber = session.get(Subscriber, claims.subscriber_id)
    if subscriber is None or not claims.belongs_to(subscriber.email):
        raise InvalidToken(purpose=purpose)
    return subscriber


class Confirmed(enum.StrEnum):
    NOW = "now"
    ALREADY = "already"


def confirm(
    session: Session, subscriber: Subscriber, now: datetime, client_address: str | None = None
) -> Confirmed:
    """Make a pending subscriber active (lifting any old suppression). Idempotent.

    A subscriber who unsubscribed after signing up is not brought back by an old
    confirmation link: InvalidToken, as for any link that no longer means anything.
    """
    if subscriber.status == Status.ACTIVE:
        return Confirmed.ALREADY
    if subscriber.status != Status.PENDING:
        raise InvalidToken("this confirmation link is no longer valid", Purpose.CONFIRM)
    transition(session, subscriber, Status.ACTIVE, Cause.LINK, now, "confirmed", client_address)
    subscriber.welcome_due_at = now
    return Confirmed.NOW


def unsubscribe(
    session: Session,
    subscriber: Subscriber,
    now: datetime,
    detail: str = "link",
    client_address: str | None = None,
) -> bool:
    """Unsubscribe and suppress the address; False (nothing recorded) when it already was."""
    if subscriber.status in SUPPRESSING:
        return False
    return transition(
        session, subscriber, Status.UNSUBSCRIBED, Cause.LINK, now, detail, client_address
    )


# How long the unsubscribed page's "undo" works: long enough for second thoughts, short enough
# that an old forwarded email cannot put a reader back on the list.
UNDO_WINDOW = timedelta(days=30)


def undo_unsubscribe(
    session: Session, subscriber: Subscriber, now: datetime, client_address: str | None = None
) -> bool:
    """Take back a reader's own unsubscribe, from the signed link that made it; False if not.

    The link proves the address as a confirmation does, so the reader is active again at once
    (pending → active, as the lifecycle requires). A bounce, a complaint or an editor's removal
    is never undone this way, nor an unsubscribe older than UNDO_WINDOW.
    """
    if subscriber.status != Status.UNSUBSCRIBED or subscriber.unsubscribed_at is None:
        return False
    if now - subscriber.unsubscribed_at > UNDO_WINDOW:
        return False
    last = session.scalar(
        select(SubscriberEvent)
        .where(SubscriberEvent.subscriber_id == subscriber.id)
        .order_by(SubscriberEvent.id.desc())
        .limit(1)
    )
    if last is None or last.to_status != Status.UNSUBSCRIBED or last.cause != Cause.LINK:
        return False
    why = "undo unsubscribe (signed unsubscribe link)"
    transition(session, subscriber, Status.PENDING, Cause.LINK, now, why, client_address)
    transition(session, subscriber, Status.ACTIVE, Cause.LINK, now, why, client_address)
    return True


@dataclass(frozen=True)
class Preferences:
    topics: AbstractSet[int]
    # None leaves the pause as it is; 0 resumes mail now; N pauses it for N weeks from now.
    pause_weeks: int | None = None
    name: str | None = None
    # Each chosen topic's cadence (weekly when missing); None leaves the cadences as they are.
    cadences: Mapping[int, Cadence] | None = None


def _heard(subscriber: Subscriber, every: AbstractSet[int]) -> dict[int, Cadence]:
    """Each topic the subscriber hears about and how often: none chosen is all of them weekly."""
    chosen = {link.topic_id: link.cadence for link in subscriber.topics}
    return chosen or dict.fromkeys(every, Cadence.WEEKLY)


def update_preferences(
    session: Session,
    subscriber: Subscriber,
    wanted: Preferences,
    now: datetime,
    client_address: str | None = None,
) -> list[str]:
    """Apply the preferences form; returns what changed (also recorded as an event).

    InvalidName, before anything changes, for a name check_name() refuses.
    """
    if subscriber.status != Status.ACTIVE:
        raise InvalidToken("only an active subscription has preferences", Purpose.PREFERENCES)
    if wanted.pause_weeks is not None and not 0 <= wanted.pause_weeks <= MAX_PAUSE_WEEKS:
        raise InvalidPause(wanted.pause_weeks, MAX_PAUSE_WEEKS)
    name = check_name(wanted.name) if wanted.name is not None else None
    changes: list[str] = []
    known = known_topics(session)
    before = _heard(subscriber, known.all)
    chosen = wanted.topics
    cadences = wanted.cadences
    if cadences is None:
        cadences = {link.topic_id: link.cadence for link in subscriber.topics}
    if chosen == known.all and all(
        cadences.get(t, Cadence.WEEKLY) == Cadence.WEEKLY for t in chosen
    ):
        chosen = frozenset()  # every topic, weekly, including those added later
    set_topics(session, subscriber, chosen, cadences)
    after = _heard(subscriber, known.all)
    # None chosen is every topic: naming them all (for a cadence) is no change of topics.
    if set(before) != set(after):
        changes.append("topics")
    moved = {
        topic_id: cadence
        for topic_id, cadence in after.items()
        if topic_id in before and before[topic_id] != cadence
    }
    if moved:
        # Which topic went to which cadence, in the reader's words and the subscriber's history.
        changes.append(moved_words(known, moved))
    currently_paused = subscriber.paused_until is not None and subscriber.paused_until > now
    if wanted.pause_weeks:
        subscriber.paused_until = now + timedelta(weeks=wanted.pause_weeks)
        changes.append(f"paused for {wanted.pause_weeks} weeks")
    elif wanted.pause_weeks == 0 and currently_paused:
        subscriber.paused_until = None
        changes.append("resumed")
    if name is not None and name != subscriber.name:
        subscriber.name = name
        changes.append("name")
    if changes:
        subscriber.updated_at = now
        record(
            session,
            subscriber,
            Cause.LINK,
            now,
            "preferences: " + ", ".join(changes),
            client_address,
        )
    return changes
