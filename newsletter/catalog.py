"""The database's topics and sources: seeded from the settings, then the editors' to change.

The rule when both changed: `newsletter init` adds what the database does not have yet and
updates what no editor has touched; a topic or source an editor saved in the admin is left as
they left it (the report names it under "kept"), and is never disabled for missing from the file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from newsletter.config import SelectorSettings, Settings, SourceSettings
from newsletter.models import Source, Topic


@dataclass
class SyncReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    disabled: list[str] = field(default_factory=list)
    # Different in the file, but an editor changed it in the admin: theirs wins.
    kept: list[str] = field(default_factory=list)


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
        elif (topic.name, topic.description) == (wanted.name, wanted.description):
            continue
        elif topic.edited_at is not None:
            report.kept.append(f"topic {wanted.slug}")
        else:
            topic.name, topic.description = wanted.name, wanted.description
            report.updated.append(f"topic {wanted.slug}")


def _sync_sources(session: Session, settings: Settings, report: SyncReport, now: datetime) -> None:
    sources = {source.name: source for source in session.scalars(select(Source))}
    configured = {wanted.name for wanted in settings.sources}
    for wanted in settings.sources:
        source = sources.get(wanted.name)
        if source is None:
            source = Source(name=wanted.name, created_at=now)
            apply(source, wanted)
            session.add(source)
            report.added.append(f"source {wanted.name}")
        elif config_of(source) == wanted:
            continue
        elif source.edited_at is not None:
            report.kept.append(f"source {wanted.name}")
        else:
            apply(source, wanted)
            report.updated.append(f"source {wanted.name}")
    for name, source in sources.items():
        if name not in configured and source.enabled and source.edited_at is None:
            source.enabled = False
            report.disabled.append(f"source {name}")


def apply(source: Source, wanted: SourceSettings) -> None:
    """Store a source's configuration on its row; a new address forgets the old validators."""
    url = str(wanted.url) if wanted.url is not None else None
    if (source.kind, source.url) != (wanted.kind, url):
        # A new address is a new conversation: forget the old validators.
        source.etag = source.last_modified = None
        source.modified_after = None
    source.kind, source.url, source.enabled = wanted.kind, url, wanted.enabled
    source.topics = list(wanted.topics)
    source.selectors = (
        wanted.selectors.model_dump(exclude_none=True) if wanted.selectors is not None else None
    )
    source.max_pages = wanted.max_pages
    source.api_key_sha256 = wanted.api_key_sha256


def config_of(source: Source) -> SourceSettings:
    """The row's configuration, as the collector and the push API read it."""
    selectors = SelectorSettings(**source.selectors) if source.selectors is not None else None
    return SourceSettings(
        name=source.name,
        kind=source.kind,
        url=source.url,
        topics=list(source.topics or []),
        enabled=source.enabled,
        selectors=selectors,
        max_pages=source.max_pages,
        api_key_sha256=source.api_key_sha256,
    )


def topic_names(session: Session) -> dict[str, str]:
    """Every topic's name by slug, as editors keep them (the admin may add or rename topics)."""
    rows = session.execute(select(Topic.slug, Topic.name).order_by(Topic.name))
    # Not dict(rows): a Result has keys(), so dict() would take it for a mapping.
    return {slug: name for slug, name in rows}
