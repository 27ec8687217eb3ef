"""A story added to a draft by its address: stored once, the issue's alone, kept on rebuild."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from newsletter.clock import FixedClock
from newsletter.collect.fetch import Fetcher
from newsletter.config import CollectSettings
from newsletter.digest.build import build_issue
from newsletter.editors import review
from newsletter.errors import FetchError, ReviewError
from newsletter.models import Issue, IssueStatus, Post
from newsletter.pipeline.added_story import add_story
from newsletter.publish.channels import newest_posts
from newsletter.runtime import Runtime
from tests.collect.article_pages import open_graph_page
from tests.collect.httpserver import Reply, Server, http_server
from tests.factories import add_post, add_subscriber, add_topics

NOW = datetime(2026, 11, 26, 14, 0, tzinfo=UTC)
TITLE = "Partner Shelters Fill Up"


def _fetcher() -> Fetcher:
    return Fetcher(CollectSettings(trusted_hosts=["127.0.0.1"], retries=0))


def _draft(runtime: Runtime) -> int:
    runtime.clock = FixedClock(NOW)
    with runtime.sessions.begin() as session:
        topics = add_topics(session, runtime.settings, NOW)
        add_post(session, "our-story", NOW - timedelta(days=1), [topics["asylum"]])
        add_subscriber(session, "all@example.org", NOW)
        add_subscriber(session, "border@example.org", NOW, [topics["border-enforcement"]])
        result = build_issue(session, runtime.settings, NOW)
    assert result.issue_id is not None
    return result.issue_id


@pytest.fixture
def partner() -> Iterator[Server]:
    page = open_graph_page(TITLE, "Beds run out by noon.", "/door.jpg", NOW - timedelta(days=2))
    with http_server({"/story": Reply(page, headers={"Content-Type": "text/html"})}) as server:
        yield server


def _issue(runtime: Runtime, issue_id: int) -> Issue:
    with runtime.sessions() as session:
        issue = session.get(Issue, issue_id)
        assert issue is not None
        _ = [(e.post.title, e.post.added_by) for e in issue.posts], list(issue.variants)
        return issue


def test_a_story_is_added_once_rendered_for_everyone_and_kept_on_rebuild(
    runtime: Runtime, partner: Server
) -> None:
    issue_id = _draft(runtime)
    url = f"{partner.base}/story"
    added = add_story(runtime, issue_id, url, "ed@example.org", _fetcher())
    assert (added.title, added.already) == (TITLE, False)
    again = add_story(runtime, issue_id, url + "?utm_source=mail", "ed@example.org", _fetcher())
    assert again.already
    assert again.post_id == added.post_id
    assert partner.hits("/story") == 1  # the second time the stored post was enough

    issue = _issue(runtime, issue_id)
    assert [e.post.title for e in issue.posts][-1] == TITLE
    assert issue.posts[-1].post.added_by == "ed@example.org"
    # Without topics of its own, it reaches topic subscribers too.
    assert all(TITLE in variant.text for variant in issue.variants)
    assert {v.topic_key for v in issue.variants} >= {"", "border-enforcement"}

    with runtime.sessions.begin() as session:
        assert session.scalar(select(func.count()).select_from(Post)) == 2
        assert TITLE not in [post.title for post in newest_posts(session, 50)]
        build_issue(session, runtime.settings, NOW)  # the scheduled rebuild
    assert TITLE in [e.post.title for e in _issue(runtime, issue_id).posts]


def test_a_private_address_adds_nothing(runtime: Runtime) -> None:
    issue_id = _draft(runtime)
    with pytest.raises(FetchError, match="private address"):
        add_story(runtime, issue_id, "http://192.168.1.10/story", "ed@example.org")
    assert len(_issue(runtime, issue_id).posts) == 1


def test_an_issue_being_sent_takes_no_story(runtime: Runtime, partner: Server) -> None:
    issue_id = _draft(runtime)
    with runtime.sessions.begin() as session:
        issue = session.get(Issue, issue_id)
        assert issue is not None
        review.send_now(issue, "pub@example.org", NOW)
        issue.status, issue.sending_started_at = IssueStatus.SENDING, NOW
    with pytest.raises(ReviewError):
        add_story(runtime, issue_id, f"{partner.base}/story", "ed@example.org", _fetcher())
    assert partner.requests == []
