"""The publish stage against a real database: built once, rebuilt only when posts change."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import feedparser
from sqlalchemy import select

from newsletter.clock import FixedClock
from newsletter.models import IssueStatus, Post, Topic
from newsletter.publish import store
from newsletter.publish.rebuild import rebuild
from newsletter.publish.websub import BackgroundNotifier, NoNotifier
from newsletter.runtime import Runtime
from tests import factories
from tests.publish.cases import NASTY, T0, add_posts
from tests.publish.hub import hub_server
from tests.publish.specs import CHECKS

SITE = ["/feed.xml", "/atom.xml", "/feed.json"]
ARCHIVE = ["/archive/feed.xml"]


def _topic_paths(slug: str) -> list[str]:
    return [f"/topics/{slug}/{name}" for name in ("feed.xml", "atom.xml", "feed.json")]


def _setup(runtime: Runtime) -> None:
    runtime.clock = FixedClock(T0 + timedelta(days=1))
    with runtime.sessions.begin() as session:
        asylum = Topic(slug="asylum", name="Asylum", description="")
        border = Topic(slug="border-enforcement", name="Border Enforcement", description="")
        add_posts(session, NASTY[:4], [asylum])
        add_posts(
            session,
            [{**case, "url": f"https://b.org/{n}"} for n, case in enumerate(NASTY[4:])],
            [border],
        )


def _document(runtime: Runtime, path: str) -> store.Document:
    with runtime.sessions() as session:
        document = store.load(session, path)
    assert document is not None
    return document


def test_first_build_stores_every_feed_valid(runtime: Runtime) -> None:
    _setup(runtime)
    changed = rebuild(runtime, None, NoNotifier())
    assert sorted(changed) == sorted(
        SITE + ARCHIVE + _topic_paths("asylum") + _topic_paths("border-enforcement")
    )
    base = runtime.settings.site.base_url
    for path in changed:
        document = _document(runtime, path)
        fmt = {"xml": "rss", "json": "json"}[path.rsplit(".", 1)[1]]
        fmt = "atom" if path.endswith("atom.xml") else fmt
        CHECKS[fmt](document.body, base + path)
        assert document.media_type.endswith("; charset=utf-8")
    site = feedparser.parse(_document(runtime, "/feed.xml").body)
    assert len(site.entries) == len(NASTY)
    # Newest first.
    dates = [entry.published_parsed for entry in site.entries]
    assert dates == sorted(dates, reverse=True)
    asylum = feedparser.parse(_document(runtime, "/topics/asylum/atom.xml").body)
    assert len(asylum.entries) == 4
    assert {tag.term for entry in asylum.entries for tag in entry.tags} == {"asylum"}


def test_nothing_changes_when_nothing_changed(runtime: Runtime) -> None:
    _setup(runtime)
    rebuild(runtime, None, NoNotifier())
    before = _document(runtime, "/feed.xml")
    runtime.clock.advance(timedelta(hours=3))  # type: ignore[attr-defined]
    assert rebuild(runtime, None, NoNotifier()) == []
    after = _document(runtime, "/feed.xml")
    assert (after.etag, after.last_modified, after.body) == (
        before.etag,
        before.last_modified,
        before.body,
    )


def test_an_edit_changes_the_feeds_but_never_the_entry_id(runtime: Runtime) -> None:
    _setup(runtime)
    rebuild(runtime, None, NoNotifier())
    first = feedparser.parse(_document(runtime, "/topics/asylum/atom.xml").body)
    ids = {entry.link: entry.id for entry in first.entries}
    edited_link = first.entries[-1].link
    runtime.clock.advance(timedelta(hours=2))  # type: ignore[attr-defined]
    with runtime.sessions.begin() as session:
        post = session.scalars(select(Post).where(Post.url == edited_link)).one()
        post.title, post.url = "A corrected headline", "https://demo.example.org/moved"
        post.updated_at = runtime.clock.now()
    changed = rebuild(runtime, {"asylum"}, NoNotifier())
    assert sorted(changed) == sorted(SITE + _topic_paths("asylum"))
    second = feedparser.parse(_document(runtime, "/topics/asylum/atom.xml").body)
    moved = next(e for e in second.entries if e.link == "https://demo.example.org/moved")
    assert moved.title == "A corrected headline"
    assert moved.id == ids[edited_link]
    assert _document(runtime, "/feed.xml").last_modified == runtime.clock.now().replace(
        microsecond=0
    )


def test_the_entry_count_is_configurable(runtime: Runtime) -> None:
    _setup(runtime)
    runtime.settings.feeds.entries = 3
    rebuild(runtime, None, NoNotifier())
    assert len(feedparser.parse(_document(runtime, "/feed.xml").body).entries) == 3


def test_the_archive_lists_sent_issues_only(runtime: Runtime) -> None:
    _setup(runtime)
    with runtime.sessions.begin() as session:
        for number, status in enumerate([IssueStatus.SENT, IssueStatus.DRAFT, IssueStatus.SENT]):
            at = datetime(2026, 10, 1 + 7 * number, 14, tzinfo=UTC)
            session.add(
                factories.issue(
                    at,
                    key=f"2026-W{40 + number}",
                    status=status,
                    subject=f"Week {40 + number} & more",
                    preheader="This week at the border",
                    sent_at=at if status == IssueStatus.SENT else None,
                )
            )
    rebuild(runtime, set(), NoNotifier())
    body = _document(runtime, "/archive/feed.xml").body
    parsed = CHECKS["rss"](body, runtime.settings.site.base_url + "/archive/feed.xml")
    assert [e.title for e in parsed.entries] == ["Week 42 & more", "Week 40 & more"]
    assert parsed.entries[0].link == "https://news.example.org/archive/2026-W42"


def test_the_hub_hears_of_exactly_the_changed_feeds(runtime: Runtime) -> None:
    _setup(runtime)
    with hub_server() as hub:
        runtime.settings.feeds.websub_hub = hub.url  # type: ignore[assignment]
        notifier = BackgroundNotifier(hub.url, backoff=0.01)
        rebuild(runtime, None, notifier)
        notifier.join(10)
        hub.pings.clear()
        with runtime.sessions.begin() as session:
            post = session.scalars(select(Post).order_by(Post.id)).first()
            assert post is not None
            post.teaser = "Updated teaser"
        changed = rebuild(runtime, {"asylum"}, notifier)
        notifier.join(10)
    base = runtime.settings.site.base_url
    assert sorted(p["hub.url"][0] for p in hub.pings) == sorted(base + p for p in changed)
    assert len(changed) == 6
    atom = feedparser.parse(_document(runtime, "/atom.xml").body)
    assert [link.href for link in atom.feed.links if link.rel == "hub"] == [hub.url]


def test_a_dead_hub_never_blocks_the_rebuild(runtime: Runtime) -> None:
    _setup(runtime)
    with hub_server() as hub:
        hub.gate.clear()  # a hub that never answers
        notifier = BackgroundNotifier(hub.url, backoff=0.01)
        changed = rebuild(runtime, None, notifier)
        assert changed  # stored and returned while the hub still hangs
        assert hub.pings == []
        hub.gate.set()
        notifier.join(10)
