"""What a reader will get, in words, from their own topics and cadences (welcome, confirmed)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import time

from subscribers.models import Cadence


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
