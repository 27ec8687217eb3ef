"""Reading a reader's cadences from outside (forms, API, CSV) into {topic id: Cadence}."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping

from subscribers.errors import UnknownCadence
from subscribers.models import Cadence
from subscribers.topics import Topics


def offered(values: Iterable[str]) -> tuple[Cadence, ...]:
    """The cadences the publisher offers (`digest.cadences`), in the order forms list them."""
    chosen = set(values)
    return tuple(cadence for cadence in Cadence if cadence.value in chosen)


def parse_cadence(value: str, offer: Collection[Cadence]) -> Cadence:
    """An offered cadence by its value ("weekly", "daily", "each"), blank for weekly.

    UnknownCadence for anything else, a cadence the publisher does not offer included: a choice
    no issue would honour is refused, not stored.
    """
    value = value.strip().lower()
    if not value:
        return Cadence.WEEKLY
    try:
        cadence = Cadence(value)
    except ValueError:
        raise UnknownCadence(value) from None
    if cadence not in offer:
        raise UnknownCadence(value, offered=False)
    return cadence


def by_slug(
    topics: Topics,
    cadences: Mapping[str, str],
    offer: Collection[Cadence],
    kept: Mapping[int, Cadence] | None = None,
) -> dict[int, Cadence]:
    """{slug: value} -> {topic id: Cadence}; UnknownTopic or UnknownCadence for a bad one.

    `kept` ({topic id: stored cadence}): a topic may keep its own though no longer offered.
    """
    kept = kept or {}
    return {
        topic_id: parse_cadence(
            cadences[slug], [*offer, kept[topic_id]] if topic_id in kept else offer
        )
        for slug in cadences
        for topic_id in topics.ids([slug])
    }


def split_pairs(values: Iterable[str]) -> dict[str, str]:
    """Form values "slug:cadence" (one select per topic) -> {slug: value}; "?" when bare."""
    wanted: dict[str, str] = {}
    for value in values:
        slug, _, cadence = value.partition(":")
        wanted[slug] = cadence if cadence else "?"
    return wanted


def pairs(topics: Topics, values: Iterable[str], offer: Collection[Cadence]) -> dict[int, Cadence]:
    """Form values "slug:cadence" (one select per topic) -> {topic id: Cadence}."""
    return by_slug(topics, split_pairs(values), offer)


def for_request(cadences: Mapping[int, Cadence]) -> dict[str, str] | None:
    """The JSON a pending signup keeps: only the topics not weekly, None when all are."""
    kept = {
        str(topic_id): c.value for topic_id, c in sorted(cadences.items()) if c != Cadence.WEEKLY
    }
    return kept or None


def from_request(stored: Mapping[str, str] | None) -> dict[int, Cadence]:
    """A pending signup's JSON back; anything unreadable there (hand-edited) is weekly."""
    read: dict[int, Cadence] = {}
    for key, value in (stored or {}).items():
        if key.isdigit() and value in Cadence.__members__.values():
            read[int(key)] = Cadence(value)
    return read


def moved_words(topics: Topics, moved: Mapping[int, Cadence]) -> str:
    """A timeline's words for topics moved to another cadence: "how often for asylum: daily
    digest; courts: weekly digest"."""
    said = sorted(f"{topics.by_id.get(t, str(t))}: {c.label.lower()}" for t, c in moved.items())
    return "how often for " + "; ".join(said)
