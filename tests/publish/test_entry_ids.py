"""Entry ids are minted once, when a post is first published, and kept through a domain move."""

from __future__ import annotations

from datetime import timedelta

import feedparser
from pydantic import HttpUrl
from sqlalchemy import select

from newsletter.clock import FixedClock
from newsletter.models import Post, Topic
from newsletter.publish import store
from newsletter.publish.rebuild import rebuild
from newsletter.publish.websub import NoNotifier
from newsletter.runtime import Runtime
from tests.publish.cases import NASTY, T0, add_posts

PATHS = ["/feed.xml", "/atom.xml", "/feed.json", "/topics/asylum/atom.xml"]


def _ids(runtime: Runtime) -> dict[str, list[str]]:
    """Each feed's entry ids, as feedparser reads them (RSS guid, Atom id, JSON Feed id)."""
    ids = {}
    with runtime.sessions() as session:
        for path in PATHS:
            document = store.load(session, path)
            assert document is not None
            ids[path] = [entry.id for entry in feedparser.parse(document.body).entries]
    return ids


def test_ids_survive_a_move_to_another_site_address(runtime: Runtime) -> None:
    runtime.clock = FixedClock(T0 + timedelta(days=1))
    with runtime.sessions.begin() as session:
        add_posts(session, NASTY[:3], [Topic(slug="asylum", name="Asylum", description="")])
    rebuild(runtime, None, NoNotifier())
    before = _ids(runtime)
    assert all(i.startswith("tag:news.example.org,2026-11-02:posts/") for i in before["/feed.xml"])
    with runtime.sessions() as session:
        stored = {post.entry_id for post in session.scalars(select(Post))}
    assert stored == set(before["/feed.xml"])

    runtime.settings.site.url = HttpUrl("https://moved.example.net")
    with runtime.sessions.begin() as session:
        later = T0 + timedelta(days=3)
        moved = {"title": "After the move", "url": "https://m.net/1", "content_hash": "m" * 64}
        times = {"published_at": later, "updated_at": later, "first_seen_at": later}
        new = add_posts(session, [moved | times])[0]
    rebuild(runtime, None, NoNotifier())
    after = _ids(runtime)
    assert b"moved.example.net/feed.xml" in _body(runtime, "/feed.xml")  # the feeds did move
    for path in PATHS:
        assert after[path][-len(before[path]) :] == before[path], path
    assert after["/feed.xml"][0] == "tag:moved.example.net,2026-11-05:posts/" + str(new.id)


def _body(runtime: Runtime, path: str) -> bytes:
    with runtime.sessions() as session:
        document = store.load(session, path)
    assert document is not None
    return document.body
