"""web (the subscriber API) → subscribers: adding a subscriber as a program asks to."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from newsletter.runtime import Runtime
from subscribers import operator
from subscribers.addresses import normalise
from subscribers.cadences import by_slug, for_request
from subscribers.queue import enqueue
from subscribers.signup import check_name
from subscribers.topics import known_topics


@dataclass(frozen=True)
class Added:
    confirmed: bool
    # Known only when added as confirmed: a pending signup answers alike for any address.
    subscriber_id: int | None


def add_subscriber(
    runtime: Runtime,
    email: str,
    name: str,
    topics: Sequence[str],
    *,
    confirmed: bool,
    by: str,
    cadences: Mapping[str, str] | None = None,
) -> Added:
    """Pending through the signup queue (its confirmation email and limits on the queue), or
    active at once when the caller holds the consent. InvalidAddress, InvalidName,
    UnknownTopic, UnknownCadence, QueueFull, or SubscribersError (active already; suppressed
    and `confirmed`).
    """
    settings = runtime.settings.subscribers
    now = runtime.clock.now()
    address = normalise(email, check_deliverability=settings.check_deliverability)
    checked = check_name(name)
    with runtime.sessions.begin() as session:
        known = known_topics(session)
        chosen = known.ids(topics)
        # {slug: cadence} for some of `topics`; the others are weekly.
        how_often = by_slug(known, cadences or {}, runtime.cadences)
        if confirmed:
            added = operator.add(
                session, address, checked, chosen, now, confirmed=True, cadences=how_often
            )
            return Added(True, added)
        # The form's way: one queued request, sent by the background sender; `by` is kept as
        # the signup's source, the proof of where consent was asked for.
        enqueue(
            session,
            address,
            checked,
            chosen,
            None,
            now,
            {"page": by},
            cadences=for_request(how_often),
        )
    return Added(False, None)
