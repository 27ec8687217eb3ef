"""Finding subscribers: address and name, prefix and substring, filters, keyset pages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from newsletter.runtime import Runtime
from subscribers.models import Status
from subscribers.search import Filters, search, sources, statement
from tests.factories import add_topics, subscriber

AT = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)


def _people(runtime: Runtime) -> None:
    with runtime.sessions.begin() as session:
        topics = add_topics(session, runtime.settings, AT)
        session.add_all(
            [
                subscriber("ana@example.org", AT, name="Ana Díaz", topics=[topics["asylum"]]),
                subscriber(
                    "bob@example.net",
                    AT + timedelta(days=3),
                    name="Bob",
                    status=Status.PENDING,
                    signup_source="https://partner.example/story",
                ),
                subscriber(
                    "carla_b@example.org",
                    AT + timedelta(days=6),
                    name="Carla",
                    topics=[topics["border-enforcement"]],
                    signup_source="/subscribe",
                ),
                subscriber("dan%x@example.org", AT + timedelta(days=9), name="Dan Ana"),
            ]
        )


def _emails(runtime: Runtime, filters: Filters) -> list[str]:
    with runtime.sessions() as session:
        return [row.email for row in search(session, filters).rows]


def test_address_and_name_by_substring_and_prefix(runtime: Runtime) -> None:
    _people(runtime)
    # Newest first; "ana" is in Ana's address and in Dan's name.
    assert _emails(runtime, Filters(query="ana")) == ["dan%x@example.org", "ana@example.org"]
    assert _emails(runtime, Filters(query="ANA", match="prefix")) == ["ana@example.org"]
    assert _emails(runtime, Filters(query="example.net")) == ["bob@example.net"]
    assert _emails(runtime, Filters(query="example.net", match="prefix")) == []
    # LIKE's wildcards are searched for as they are, not as wildcards.
    assert _emails(runtime, Filters(query="%")) == ["dan%x@example.org"]
    assert _emails(runtime, Filters(query="a_b")) == ["carla_b@example.org"]
    assert _emails(runtime, Filters(query="x" * 5000)) == []


def test_filters_by_status_topic_source_and_date(runtime: Runtime) -> None:
    _people(runtime)
    assert _emails(runtime, Filters(status=Status.PENDING)) == ["bob@example.net"]
    # Those who chose no topic follow every topic, so they count for each.
    assert _emails(runtime, Filters(topic="asylum")) == [
        "dan%x@example.org",
        "bob@example.net",
        "ana@example.org",
    ]
    assert _emails(runtime, Filters(topic="no-such-topic")) == []
    assert _emails(runtime, Filters(source="/subscribe")) == ["carla_b@example.org"]
    window = Filters(signed_up_from=AT + timedelta(days=1), signed_up_before=AT + timedelta(days=7))
    assert _emails(runtime, window) == ["carla_b@example.org", "bob@example.net"]
    with runtime.sessions() as session:
        assert sources(session) == ["/subscribe", "https://partner.example/story"]


def test_pages_follow_each_other_by_id_without_gaps_or_repeats(runtime: Runtime) -> None:
    with runtime.sessions.begin() as session:
        session.add_all(subscriber(f"p{n:02}@example.org", AT) for n in range(7))
    seen: list[str] = []
    before = None
    with runtime.sessions() as session:
        for _ in range(4):
            page = search(session, Filters(), before, limit=3)
            seen.extend(row.email for row in page.rows)
            before = page.next_before
            if before is None:
                break
    assert seen == [f"p{n:02}@example.org" for n in reversed(range(7))]
    assert before is None


def test_an_address_prefix_is_a_range_on_the_address_index(runtime: Runtime) -> None:
    _people(runtime)
    assert _emails(runtime, Filters(query="Carla_b@", match="prefix")) == ["carla_b@example.org"]
    assert _emails(runtime, Filters(query="ana@ex", match="prefix")) == ["ana@example.org"]
    assert _emails(runtime, Filters(query="na@example", match="prefix")) == []
    assert _emails(runtime, Filters(query="na@example")) == ["ana@example.org"]


def test_a_substring_search_can_use_the_trigram_indexes_on_postgresql(runtime: Runtime) -> None:
    # The planner prefers a scan of a small table; with scans priced out, the plan shows
    # whether the query as built (LIKE on email, ILIKE on name, escaped) can use the indexes.
    if runtime.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only: SQLite has no trigram index")
    _people(runtime)
    with runtime.sessions() as session:
        session.execute(text("SET LOCAL enable_seqscan = off"))
        found = statement(session, Filters(query="arla_"))
        compiled = found.compile(session.bind, compile_kwargs={"literal_binds": True})
        plan = "\n".join(session.scalars(text(f"EXPLAIN {compiled}")))
        assert "ix_subscribers_email_trgm" in plan, plan
        assert "ix_subscribers_name_trgm" in plan, plan
        assert [row.email for row in session.execute(found)] == ["carla_b@example.org"]
