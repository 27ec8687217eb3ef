"""The layout's topics follow the database: a topic an editor adds shows once the list is reread."""

from __future__ import annotations

import pytest

from newsletter.models import Topic
from newsletter.runtime import Runtime
from newsletter.web.layout import NavTopics


def test_the_footer_topics_are_reread_after_their_time_to_live(runtime: Runtime) -> None:
    now = [100.0]
    topics = NavTopics(runtime.sessions, ttl=30, monotonic=lambda: now[0])
    assert topics() == []
    with runtime.sessions.begin() as session:
        session.add(Topic(slug="courts", name="The Courts", description=""))
    now[0] += 29
    assert topics() == []  # within its time to live: no query per page
    now[0] += 1
    assert topics() == [("courts", "The Courts")]


def test_the_footer_keeps_the_last_topics_while_the_database_is_locked(
    runtime: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    if runtime.engine.dialect.name != "sqlite":
        pytest.skip("a SQLite file locked by another connection")
    now = [100.0]
    topics = NavTopics(runtime.sessions, ttl=30, monotonic=lambda: now[0])
    with runtime.sessions.begin() as session:
        session.add(Topic(slug="courts", name="The Courts", description=""))
    assert topics() == [("courts", "The Courts")]
    with runtime.engine.connect() as connection:
        # An exclusive lock keeps even readers out, as a database that is down would.
        connection.exec_driver_sql("PRAGMA busy_timeout=0")
        holder = connection.connection.driver_connection
        assert holder is not None
        holder.isolation_level = None
        holder.execute("PRAGMA journal_mode=DELETE")
        holder.execute("BEGIN EXCLUSIVE")
        try:
            now[0] += 30
            assert topics() == [("courts", "The Courts")]
            assert "topics for the footer unavailable" in caplog.text
        finally:
            holder.execute("ROLLBACK")
