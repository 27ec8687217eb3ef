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


def test_an_editors_change_wins_over_the_file_and_is_named(runtime: Runtime) -> None:
    settings = _settings(runtime.settings.database_url)
    with runtime.sessions.begin() as session:
        catalog.sync(session, settings, NOW)
        feed = session.scalars(select(Source).where(Source.name == "feed")).one()
        feed.url, feed.edited_by, feed.edited_at = "https://other.example.org/", "ed@x.org", NOW
        topic = session.scalars(select(Topic)).one()
        topic.name, topic.edited_by, topic.edited_at = "Asylum (edited)", "ed@x.org", NOW
        session.add(
            Source(name="admin-made", kind="feed", url="https://a.example.org/", created_at=NOW)
        )
        session.flush()
        made = session.scalars(select(Source).where(Source.name == "admin-made")).one()
        made.edited_by, made.edited_at = "ed@x.org", NOW
    with runtime.sessions.begin() as session:
        report = catalog.sync(session, settings, NOW)
    assert report.kept == ["topic asylum", "source feed"]
    assert (report.updated, report.disabled) == ([], [])  # not in the file, made by an editor
    with runtime.sessions() as session:
        sources = {s.name: s for s in session.scalars(select(Source))}
        assert session.scalars(select(Topic)).one().name == "Asylum (edited)"
    assert sources["feed"].url == "https://other.example.org/"
    assert sources["admin-made"].enabled is True


def test_the_whole_source_configuration_is_stored_and_read_back(runtime: Runtime) -> None:
    wanted = {
        "name": "page",
        "kind": "html",
        "url": "https://demo.example.org/topics/b.html",
        "topics": ["asylum"],
        "selectors": {"item": "article", "title": "h2 a"},
        "max_pages": 3,
    }
    settings = _settings(runtime.settings.database_url, sources=[wanted])
    with runtime.sessions.begin() as session:
        catalog.sync(session, settings, NOW)
    with runtime.sessions() as session:
        stored = catalog.config_of(session.scalars(select(Source)).one())
    assert stored == settings.sources[0]
    assert stored.selectors is not None
    assert stored.selectors.title == "h2 a"
