"""Double opt-in: a signup stores a pending subscriber; only its confirmation makes it active."""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from subscribers.errors import InvalidName
from subscribers.lifecycle import SUPPRESSING, transition
from subscribers.models import Cadence, Cause, Status, Subscriber, SubscriberTopic
from subscribers.origin import SignupOrigin

NAME_MAX = 200
# Control characters (CR, LF, NUL, ...), Unicode line and paragraph separators: a name is put
# in the To: header of every email, where any of these would break the message.
_NOT_IN_A_NAME = frozenset(("Cc", "Zl", "Zp"))


def check_name(name: str) -> str:
    """The name, stripped; InvalidName for a line break, a control character or too long a name.

    Refused at every input (form, import, preferences, CLI): a name stored with a line break
    makes every email to the subscriber fail later, silently.
    """
    name = name.strip()
    if any(unicodedata.category(char) in _NOT_IN_A_NAME for char in name):
        raise InvalidName("the name must be one line of text, without line breaks or tabs", name)
    if len(name) > NAME_MAX:
        raise InvalidName(f"the name is longer than {NAME_MAX} characters", name)
    return name


@dataclass(frozen=True)
class Signup:
    """What a signup did. Callers must not tell the visitor which case it was."""

    subscriber_id: int
    email: str
    # True when a confirmation email should go out (subject to the resend interval).
    needs_confirmation: bool
    created: bool


def set_topics(
    session: Session,
    subscriber: Subscriber,
    chosen: AbstractSet[int],
    cadences: Mapping[int, Cadence] | None = None,
) -> bool:
    """Replace a subscriber's topics; an empty set means every topic. True when they changed.

    With `cadences`, each chosen topic gets its cadence there (weekly when missing); without,
    kept topics keep theirs and new ones are weekly (an old caller that knows only slugs).
    """
    current = {link.topic_id for link in subscriber.topics}
    changed = current != chosen
    if changed:
        subscriber.topics = [link for link in subscriber.topics if link.topic_id in chosen]
        for topic_id in sorted(chosen - current):
            subscriber.topics.append(SubscriberTopic(topic_id=topic_id, cadence=Cadence.WEEKLY))
    if cadences is not None and set_cadences(subscriber, cadences):
        changed = True
    return changed


def set_cadences(subscriber: Subscriber, cadences: Mapping[int, Cadence]) -> list[int]:
    """Each of the subscriber's topics to its cadence in `cadences` (weekly when missing).

    Returns the topic ids whose cadence changed.
    """
    moved: list[int] = []
    for chosen in subscriber.topics:
        wanted = cadences.get(chosen.topic_id, Cadence.WEEKLY)
        if chosen.cadence != wanted:
            chosen.cadence = wanted
            moved.append(chosen.topic_id)
    return moved


def signup(
    session: Session,
    email: str,
    name: str,
    topics: AbstractSet[int],
    now: datetime,
    cause: Cause = Cause.FORM,
    client_address: str | None = None,
    origin: SignupOrigin | None = None,
    cadences: Mapping[int, Cadence] | None = None,
) -> Signup:
    """Store or revive a pending subscriber for an already normalised address.

    An active subscriber is left exactly as it is: anyone can type an address into the form,
    so only a link mailed to the address may change what it receives.
    InvalidName for a name check_name() refuses. `origin` (where the form was) is recorded
    with the consent: on a new subscriber, and on a suppressed one signing up anew.
    """
    name = check_name(name)
    where = origin.describe() if origin is not None else ""
    subscriber = session.scalar(select(Subscriber).where(Subscriber.email == email))
    if subscriber is None:
        subscriber = Subscriber(email=email, name=name, attributes={}, soft_bounces=0)
        _remember_origin(subscriber, origin)
        detail = f"signup {where}".strip()
        transition(session, subscriber, Status.PENDING, cause, now, detail, client_address)
        set_topics(session, subscriber, topics, cadences or {})
        session.flush()
        return Signup(subscriber.id, email, needs_confirmation=True, created=True)
    if subscriber.status == Status.ACTIVE:
        return Signup(subscriber.id, email, needs_confirmation=False, created=False)
    if subscriber.status in SUPPRESSING:
        # Back to pending; the suppression stays until the new confirmation lifts it.
        _remember_origin(subscriber, origin)
        detail = f"signup again {where}".strip()
        transition(session, subscriber, Status.PENDING, cause, now, detail, client_address)
    subscriber.name = name or subscriber.name
    set_topics(session, subscriber, topics, cadences or {})
    subscriber.updated_at = now
    session.flush()
    return Signup(subscriber.id, email, needs_confirmation=True, created=False)


def _remember_origin(subscriber: Subscriber, origin: SignupOrigin | None) -> None:
    if origin is not None and (origin.page or origin.referrer or origin.utm):
        subscriber.signup_source = origin.source or None
        subscriber.signup_origin = origin.as_json()


@dataclass(frozen=True)
class Claim:
    granted: bool
    previous: datetime | None = None


def claim_confirmation(
    session: Session, subscriber_id: int, now: datetime, interval: timedelta
) -> Claim:
    """Reserve the right to send one confirmation now; False when one went out too recently.

    One conditional UPDATE, so two processes racing for the same address send one email.
    The claim keeps the previous send time, to hand back to `release_confirmation`.
    """
    previous = session.scalar(
        select(Subscriber.confirmation_sent_at).where(Subscriber.id == subscriber_id)
    )
    claimed = session.execute(
        update(Subscriber)
        .where(Subscriber.id == subscriber_id, Subscriber.status == Status.PENDING)
        .where(
            or_(
                Subscriber.confirmation_sent_at.is_(None),
                Subscriber.confirmation_sent_at <= now - interval,
            )
        )
        .values(confirmation_sent_at=now)
        .execution_options(synchronize_session=False)
    )
    if getattr(claimed, "rowcount", 0) != 1:
        return Claim(granted=False)
    return Claim(granted=True, previous=previous)


def release_confirmation(session: Session, subscriber_id: int, previous: datetime | None) -> None:
    """Undo a claim whose email could not be sent, so that the next attempt may send it."""
    session.execute(
        update(Subscriber)
        .where(Subscriber.id == subscriber_id)
        .values(confirmation_sent_at=previous)
        .execution_options(synchronize_session=False)
    )
