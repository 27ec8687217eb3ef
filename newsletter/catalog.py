"""Keep the database's topics and sources in step with the configured ones."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from newsletter.config import Settings
from newsletter.models import Source, Topic


@dataclass
class SyncReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    disabled: list[str] = field(default_factory=list)


def sync(session: Session, settings: Settings, now: datetime) -> SyncReport:
    """Upsert configured topics and sources; a source dropped from the file is disabled.

    Nothing is deleted: a removed source keeps its posts and its history.
    """
    report = SyncReport()
    _sync_topics(session, settings, report)
    _sync_sources(session, settings, report, now)
    return report


def _sync_topics(session: Session, settings: Settings, report: SyncReport) -> None:
    topics = {topic.slug: topic for topic in session.scalars(select(Topic))}
    for wanted in settings.topics:
        topic = topics.get(wanted.slug)
        if topic is None:
            session.add(Topic(slug=wanted.slug, name=wanted.name, description=wanted.description))
            report.added.append(f"topic {wanted.slug}")
        elif (topic.name, topic.description) != (wanted.name, wanted.description):
            topic.name, topic.description = wanted.name, wanted.description
            report.updated.append(f"topic {wanted.slug}")


def _sync_sources(session: Session, settings: Settings, report: SyncReport, now: datetime) -> None:
    sources = {source.name: source for source in session.scalars(select(Source))}
    configured = {wanted.name for wanted in settings.sources}
    for wanted in settings.sources:
        url = str(wanted.url) if wanted.url is not None else None
        source = sources.get(wanted.name)
        if source is None:
            session.add(
                Source(
                    name=wanted.name,
                    kind=wanted.kind,
                    url=url,
                    enabled=wanted.enabled,
                    created_at=now,
                )
            )
            report.added.append(f"source {wanted.name}")
        elif (source.kind, source.url, source.enabled) != (wanted.kind, url, wanted.enabled):
            if (source.kind, source.url) != (wanted.kind, url):
                # A new address is a new conversation: forget the old validators.
                source.etag = source.last_modified = None
                source.modified_after = None
            source.kind, source.url, source.enabled = wanted.kind, url, wanted.enabled
            report.updated.append(f"source {wanted.name}")
    for name, source in sources.items():
        if name not in configured and source.enabled:
            source.enabled = False
            report.disabled.append(f"source {name}")
