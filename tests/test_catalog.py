"""Configured topics and sources are mirrored into the database, never deleted."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from newsletter import catalog
from newsletter.config import load_settings
from newsletter.models import Source, Topic
from newsletter.runtime import Runtime

NOW = datetime(2026, 11, 26, 14, 0, tzinfo=UTC)


def _settings(database_url: str, **overrides: object):  # type: ignore[no-untyped-def]
    base: dict[str, object] = {
        "database_url": database_url,
        "topics": [{"slug": "asylum", "name": "Asylum"}],
        "sources": [
            {"name": "feed", "kind": "feed", "url": "https://demo.example.org/feed.xml"},
            {"name": "page", "kind": "html", "url": "https://demo.example.org/topics/b.html"},
        ],
    }
    base.update(overrides)
    return load_settings(**base)


def test_sync_adds_then_changes_nothing(runtime: Runtime) -> None:
    settings = _settings(runtime.settings.database_url)
    with runtime.sessions.begin() as session:
        first = catalog.sync(session, settings, NOW)
    with runtime.sessions.begin() as session:
        second = catalog.sync(session, settings, NOW)
    assert first.added == ["topic asylum", "source feed", "source page"]
    assert (second.added, second.updated, second.disabled) == ([], [], [])


def test_sync_updates_and_disables(runtime: Runtime) -> None:
    with runtime.sessions.begin() as session:
        catalog.sync(session, _settings(runtime.settings.database_url), NOW)
        source = session.scalars(select(Source).where(Source.name == "feed")).one()
        source.etag = '"abc"'
    changed = _settings(
        runtime.settings.database_url,
        topics=[{"slug": "asylum", "name": "Asylum & Refugees"}],
        sources=[{"name": "feed", "kind": "feed", "url": "https://demo.example.org/new.xml"}],
    )
    with runtime.sessions.begin() as session:
        report = catalog.sync(session, changed, NOW)
    assert report.updated == ["topic asylum", "source feed"]
    assert report.disabled == ["source page"]
    with runtime.sessions() as session:
        sources = {s.name: s for s in session.scalars(select(Source))}
        topic = session.scalars(select(Topic)).one()
    assert sources["feed"].url == "https://demo.example.org/new.xml"
    assert sources["feed"].etag is None  # a new address forgets the old validators
    assert sources["page"].enabled is False
    assert topic.name == "Asylum & Refugees"
