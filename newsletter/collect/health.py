"""Each source's health as stored by its runs: state, post count, last outcomes and skips."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from newsletter.models import CollectSkip, PostSource, Source


@dataclass(frozen=True)
class Skip:
    ref: str
    reason: str


@dataclass(frozen=True)
class SourceHealth:
    """One source as `newsletter sources` shows it."""

    name: str
    kind: str
    enabled: bool
    posts: int
    last_success_at: datetime | None
    last_error_at: datetime | None
    last_error: str | None
    # Read in full but not cleanly (HTML entities in an XML feed): the publisher's to fix.
    last_warning_at: datetime | None
    last_warning: str | None
    last_summary: str | None
    skips: list[Skip]
    # Who last changed it in the admin; None while newsletter.toml still governs it.
    edited_by: str | None = None


def source_health(session: Session, only: int | None = None) -> list[SourceHealth]:
    """Every source by name (or the one with id `only`), with the entries its last run skipped."""
    counts = dict(
        session.execute(select(PostSource.source_id, func.count()).group_by(PostSource.source_id))
        .tuples()
        .all()
    )
    found = []
    query = select(Source).order_by(Source.name)
    for source in session.scalars(query if only is None else query.where(Source.id == only)):
        skips = session.scalars(
            select(CollectSkip).where(CollectSkip.source_id == source.id).order_by(CollectSkip.id)
        )
        found.append(
            SourceHealth(
                name=source.name,
                kind=source.kind,
                enabled=source.enabled,
                posts=counts.get(source.id, 0),
                last_success_at=source.last_success_at,
                last_error_at=source.last_error_at,
                last_error=source.last_error,
                last_warning_at=source.last_warning_at,
                last_warning=source.last_warning,
                last_summary=source.last_summary,
                skips=[Skip(skip.ref, skip.reason) for skip in skips],
                edited_by=source.edited_by,
            )
        )
    return found
