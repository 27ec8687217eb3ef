"""What readers will get, in words: the cadences offered (signup text), and a reader's own."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import time

from subscribers.models import Cadence

# How the signup text names each cadence offered.
_OFTEN = {
    Cadence.WEEKLY: "once a week",
    Cadence.DAILY: "once a day",
    Cadence.EACH: "each as it is published",
}


def offered_phrase(offer: Sequence[Cadence]) -> str:
    """The cadences offered as a signup form promises them: "once a week" (weekly alone), "once a
    week, once a day, or each as it is published"."""
    said = [_OFTEN[cadence] for cadence in offer]
    if len(said) < 2:
        return "".join(said)
    return f"{', '.join(said[:-1])}, or {said[-1]}"


def _phrase(cadence: Cadence, daily_at: time) -> str:
    if cadence == Cadence.DAILY:
        return f"a daily digest at {daily_at.hour}:{daily_at.minute:02d}"
    if cadence == Cadence.EACH:
        return "each story as it is published"
    return "a weekly digest"


def what_they_get(chosen: Iterable[tuple[str, Cadence]], daily_at: time) -> str:
    """(topic name, cadence) in the reader's order -> "Border Enforcement: each story as it is
    published; Asylum, Refugees: a daily digest at 7:00".

    Topics sharing a cadence are named together, in the order the first of them came. "" when
    every one is weekly (or there are none: every topic, weekly), where "one email a week" holds.
    """
    grouped: dict[Cadence, list[str]] = {}
    for name, cadence in chosen:
        grouped.setdefault(cadence, []).append(name)
    if set(grouped) <= {Cadence.WEEKLY}:
        return ""
    return "; ".join(
        f"{', '.join(names)}: {_phrase(cadence, daily_at)}" for cadence, names in grouped.items()
    )
