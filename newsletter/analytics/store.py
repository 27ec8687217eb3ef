"""Writing clicks: hourly counts added to in one statement per key; per-subscriber rows folded."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from newsletter.analytics.behaviour import Hit
from newsletter.analytics.models import ClickCount, ClickEvent
from newsletter.db import upsert_into
from newsletter.models import Issue

CountKey = tuple[int, int, int, datetime, str]
HOUR = timedelta(hours=1)


def hour_of(at: datetime) -> datetime:
    return at.replace(minute=0, second=0, microsecond=0)


def write_hits(session: Session, hits: Iterable[Hit]) -> None:
    """Hits with a subscriber become events; the rest are added to the hourly counts.

    Hits on an issue deleted since are dropped: its counts went with it.
    """
    hits = list(hits)
    issue_ids = {hit.issue_id for hit in hits}
    alive = set(session.scalars(select(Issue.id).where(Issue.id.in_(issue_ids))))
    counts: Counter[CountKey] = Counter()
    # A batch is seconds of clicks, nearly always within one hour: its start is worked out
    # again only when a hit falls outside the last one (hour_of for every hit showed in profiles).
    hour = end = datetime.min.replace(tzinfo=UTC)
    for hit in hits:
        if hit.issue_id not in alive:
            continue
        if hit.subscriber_id is not None:
            session.add(
                ClickEvent(
                    issue_id=hit.issue_id,
                    position=hit.position,
                    variant_id=hit.variant_id,
                    subscriber_id=hit.subscriber_id,
                    at=hit.at,
                    verdict=hit.verdict,
                )
            )
        else:
            if not hour <= hit.at < end:
                hour = hour_of(hit.at)
                end = hour + HOUR
            key = (hit.issue_id, hit.position, hit.variant_id, hour, hit.verdict)
            counts[key] += 1
    add_counts(session, counts)


def add_counts(session: Session, counts: Counter[CountKey]) -> None:
    """Each key's count added to its row (made if new), in one statement: safe beside others."""
    if not counts:
        return
    rows = [
        {
            "issue_id": issue_id,
            "position": position,
            "variant_id": variant_id,
            "hour": hour,
            "verdict": verdict,
            "clicks": clicks,
        }
        for (issue_id, position, variant_id, hour, verdict), clicks in sorted(counts.items())
    ]
    statement = upsert_into(session, ClickCount)
    statement = statement.on_conflict_do_update(
        index_elements=["issue_id", "position", "variant_id", "hour", "verdict"],
        set_={"clicks": ClickCount.clicks + statement.excluded.clicks},
    )
    session.execute(statement, rows)


def fold_events(session: Session, before: datetime) -> int:
    """Per-subscriber events older than `before` become hourly counts, and are deleted."""
    old = ClickEvent.at < before
    rows = session.execute(
        select(
            ClickEvent.issue_id,
            ClickEvent.position,
            ClickEvent.variant_id,
            ClickEvent.at,
            ClickEvent.verdict,
        ).where(old)
    ).all()
    counts: Counter[CountKey] = Counter(
        (row.issue_id, row.position, row.variant_id, hour_of(row.at), row.verdict) for row in rows
    )
    add_counts(session, counts)
    session.execute(delete(ClickEvent).where(old))
    return len(rows)


def counted(session: Session, issue_id: int) -> dict[str, int]:
    """Every click of one issue by verdict, counts and unfolded events together."""
    totals: Counter[str] = Counter()
    for key, clicks in hourly(session, [issue_id]).items():
        totals[key[4]] += clicks
    return dict(totals)


FigureKey = tuple[int, int, int, datetime, str]  # issue, position, variant, hour, verdict


def hourly(session: Session, issue_ids: Iterable[int]) -> Counter[FigureKey]:
    """Clicks per issue, link, variant, hour and verdict: the counts and unfolded events."""
    ids = list(issue_ids)
    totals: Counter[FigureKey] = Counter()
    if not ids:
        return totals
    for row in session.execute(select(ClickCount).where(ClickCount.issue_id.in_(ids))).scalars():
        totals[(row.issue_id, row.position, row.variant_id, row.hour, row.verdict)] += row.clicks
    events = select(
        ClickEvent.issue_id,
        ClickEvent.position,
        ClickEvent.variant_id,
        ClickEvent.at,
        ClickEvent.verdict,
    ).where(ClickEvent.issue_id.in_(ids))
    for event in session.execute(events):
        key = (event.issue_id, event.position, event.variant_id, hour_of(event.at), event.verdict)
        totals[key] += 1
    return totals
