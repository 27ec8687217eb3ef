"""The layout's topics follow the database: a topic an editor adds shows once the list is reread."""

from __future__ import annotations

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
