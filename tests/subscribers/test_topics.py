"""Topics across the boundary: slugs outside, ids inside, one translation each way."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from newsletter import catalog
from newsletter.config import load_settings
from newsletter.runtime import Runtime
from subscribers.errors import UnknownTopic
from subscribers.topics import Topics, known_topics

NOW = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)


def test_slugs_become_ids_and_ids_become_slugs() -> None:
    topics = Topics({"asylum": 1, "housing": 2})
    assert topics.ids([" asylum", "", "housing", "asylum"]) == {1, 2}
    assert topics.ids([]) == frozenset()
    assert topics.slugs([2, 1]) == ["asylum", "housing"]
    assert topics.slugs([3]) == []  # a topic removed since is left out
    assert topics.all == {1, 2}
    with pytest.raises(UnknownTopic, match="'crime'"):
        topics.ids(["asylum", "crime"])


def test_the_stored_topics_are_read_by_the_package_itself(runtime: Runtime) -> None:
    settings = load_settings(
        database_url=runtime.settings.database_url,
        topics=[{"slug": "asylum", "name": "Asylum"}, {"slug": "housing", "name": "Housing"}],
    )
    with runtime.sessions.begin() as session:
        catalog.sync(session, settings, NOW)
    with runtime.sessions() as session:
        topics = known_topics(session)
    assert set(topics.by_slug) == {"asylum", "housing"}
    assert topics.slugs(topics.ids(["housing", "asylum"])) == ["asylum", "housing"]
