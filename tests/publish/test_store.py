"""Stored feed documents: two processes publishing a new path at once both succeed."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest

from newsletter.models import FeedDocument
from newsletter.publish.store import save
from newsletter.runtime import Runtime

PATH = "archive/feed.xml"
NOW = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)


def test_a_new_path_saved_by_two_processes_at_once_keeps_the_later_bytes(
    runtime: Runtime,
) -> None:
    # `digest send` and the last worker lane both add the archive feed once an issue is sent.
    if runtime.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL: SQLite's one writer at a time cannot interleave them")
    lane = runtime.sessions()
    save(lane, PATH, "application/rss+xml", b"<rss>lane</rss>", NOW)
    lane.flush()  # inserted, not committed: the key is held
    failed: list[BaseException] = []

    def sender() -> None:
        try:
            with runtime.sessions.begin() as session:
                # Finds no row (the lane's is uncommitted), inserts, waits for the lane's commit.
                assert save(session, PATH, "application/rss+xml", b"<rss>send</rss>", NOW)
        except BaseException as exc:  # handed to the test's thread below
            failed.append(exc)

    thread = threading.Thread(target=sender)
    thread.start()
    thread.join(0.5)
    assert thread.is_alive()  # waiting on the lane's insert
    lane.commit()
    lane.close()
    thread.join(10)
    assert failed == []
    with runtime.sessions() as session:
        assert session.get_one(FeedDocument, PATH).body == b"<rss>send</rss>"
