"""The archive: sent issues only, newest first, paged; the web version has no personal links."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from newsletter.digest.build import build_issue
from newsletter.models import Issue, IssueStatus
from newsletter.runtime import Runtime
from newsletter.web import archive
from newsletter.web.app import create_app
from tests.factories import add_post, add_topics

NOW = datetime(2026, 11, 26, 14, 0, tzinfo=UTC)
WEEK = timedelta(days=7)


def _issues(runtime: Runtime, weeks: int) -> list[str]:
    keys = []
    with runtime.sessions.begin() as session:
        add_topics(session, runtime.settings, NOW)
        for week in range(weeks):
            at = NOW + week * WEEK
            add_post(session, f"story-{week}", at - timedelta(days=1), title=f"Story <{week}>")
            keys.append(build_issue(session, runtime.settings, at).key)
            issue = session.scalars(select(Issue).where(Issue.key == keys[-1])).one()
            issue.status = IssueStatus.SENT
            issue.sent_at = at
    return keys


def test_archive_lists_sent_issues_newest_first_and_pages(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(archive, "PER_PAGE", 2)
    keys = _issues(runtime, 3)
    with runtime.sessions.begin() as session:
        add_post(session, "draft-story", NOW + 3 * WEEK - timedelta(days=1))
        draft = build_issue(session, runtime.settings, NOW + 3 * WEEK)
    client = TestClient(create_app(runtime))
    first = client.get("/archive")
    assert first.status_code == 200
    assert 'rel="alternate" type="application/rss+xml" href="/feed.xml"' in first.text
    assert first.text.index(keys[2]) < first.text.index(keys[1])
    assert keys[0] not in first.text
    assert draft.key not in first.text
    assert "Story &lt;2&gt;" in first.text
    assert 'rel="next" href="/archive?page=2"' in first.text
    second = client.get("/archive?page=2")
    assert keys[0] in second.text
    assert client.get("/archive?page=9").status_code == 404


def test_archived_issue_is_the_web_version_without_personal_links(runtime: Runtime) -> None:
    key = _issues(runtime, 1)[0]
    client = TestClient(create_app(runtime))
    page = client.get(f"/archive/{key}")
    assert page.status_code == 200
    assert "Story &lt;0&gt;" in page.text
    assert "\ue000" not in page.text
    assert "Unsubscribe" not in page.text
    assert 'href="/feed.xml"' in page.text
    assert 'href="https://news.example.org/subscribe"' in page.text
    assert client.get(f"/archive/{key}").text == page.text
    # In the site's layout: the way back, the date and topics, one main landmark.
    assert 'href="/archive"' in page.text
    assert page.text.count("<main") == 1
    assert "Sent <time>November 26, 2026</time>" in page.text
    assert client.get("/archive/1999-W01").status_code == 404
