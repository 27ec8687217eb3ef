"""The story receipts ledger: each reader's copy writes what it shows, and nothing goes twice."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from sqlalchemy import select

from newsletter.config import Settings
from newsletter.deliver.plan import plan
from newsletter.digest.build import build_issue
from newsletter.models import Delivery, IssueVariant, Post, StoryReceipt
from newsletter.pipeline import review, special
from newsletter.pipeline.receipts import receipt_keys
from newsletter.pipeline.send import variant_renderer
from newsletter.runtime import Runtime
from subscribers.models import Subscriber
from tests.pipeline.test_special import NOW, READERS, _sent, _url, _world


def _receipts(runtime: Runtime) -> dict[str, set[str]]:
    """Each reader's received stories, by address and post slug."""
    with runtime.sessions() as session:
        rows = session.execute(
            select(Subscriber.email, Post.url)
            .join(StoryReceipt, StoryReceipt.subscriber_id == Subscriber.id)
            .join(Post, Post.id == StoryReceipt.post_id)
        )
        found: dict[str, set[str]] = {}
        for email, url in rows:
            found.setdefault(email, set()).add(url.rstrip("/").rsplit("/", 1)[-1])
    return found


def test_a_copy_writes_receipts_only_for_the_stories_it_shows(settings: Settings) -> None:
    # One story a copy: the all-topics reader's second story is only counted ("1 more").
    one = settings.digest.model_copy(update={"max_posts": 1})
    runtime = _world(settings.model_copy(update={"digest": one}))
    with runtime.sessions.begin() as session:
        weekly_id = build_issue(session, runtime.settings, NOW).issue_id
    assert weekly_id is not None
    _sent(runtime, weekly_id)
    held = _receipts(runtime)
    assert held["border@example.net"] == {"the-wall"}
    assert held["asylum@example.net"] == {"the-court"}
    assert len(held["all@example.net"]) == 1
    (shown,) = held["all@example.net"]
    with runtime.sessions() as session:
        stored = session.scalars(
            select(IssueVariant.post_ids).where(
                IssueVariant.issue_id == weekly_id, IssueVariant.topic_key == ""
            )
        ).one()
    assert stored is not None
    assert "," not in stored
    # A breaking email about the story the all-topics reader only saw counted reaches them.
    other = "the-court" if shown == "the-wall" else "the-wall"
    breaking = special.create(runtime, special.SpecialDraft("breaking", post_url=_url(other)))
    mailed = _sent(runtime, breaking.issue_id)
    assert "all@example.net" in mailed
    assert _receipts(runtime)["all@example.net"] == {"the-wall", "the-court"}
    runtime.close()


def test_two_issues_planned_at_once_give_each_reader_the_story_once(
    settings: Settings,
) -> None:
    runtime = _world(settings)
    if runtime.engine.dialect.name != "postgresql":
        runtime.close()
        pytest.skip("PostgreSQL: SQLite's one writer at a time cannot interleave them")
    issues = []
    for _ in range(2):
        draft = special.create(runtime, special.SpecialDraft("breaking", post_url=_url("the-wall")))
        review.approve(runtime, draft.issue_id, "pub@example.org", NOW)
        issues.append(draft.issue_id)
    failed: list[BaseException] = []
    ready = threading.Barrier(len(issues))

    def planner(issue_id: int) -> None:
        try:
            ready.wait(timeout=30)
            plan(runtime.sessions, issue_id, NOW, variant_renderer(runtime), receipt_keys())
        except BaseException as exc:
            failed.append(exc)

    threads = [threading.Thread(target=planner, args=(issue_id,)) for issue_id in issues]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert failed == []
    with runtime.sessions() as session:
        carried = Counter(
            session.scalars(
                select(Subscriber.email)
                .join(Delivery, Delivery.subscriber_id == Subscriber.id)
                .where(Delivery.issue_id.in_(issues), Delivery.variant_id.is_not(None))
            )
        )
    # Breaking news for everyone: every reader once, from one issue or the other.
    assert carried == Counter(dict.fromkeys(READERS, 1))
    runtime.close()
