"""A source that answers too slowly fails with "deadline exceeded"; the others are collected."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from newsletter.collect.run import collect
from newsletter.models import Post, Source
from newsletter.publish.websub import hub_client, notify_hub
from tests.collect.httpserver import Reply, http_server
from tests.collect.test_faults import GOOD, RSS


def test_drip_and_slow_pages_fail_alone(make_runtime: Any) -> None:
    routes: dict[str, Any] = {
        "/good.xml": Reply(GOOD, headers=RSS),
        # Well within the read timeout byte by byte, never done as a whole.
        "/drip.xml": Reply(GOOD, headers=RSS, drip=0.2),
        # A WordPress site claiming endless pages, each a little slow.
        "/slow/wp-json/wp/v2/posts": Reply(
            b"[]", headers={"X-WP-TotalPages": "100", "Content-Type": "application/json"}, delay=0.3
        ),
    }
    with http_server(routes) as server:
        runtime = make_runtime(
            [
                {"name": "drip", "kind": "feed", "url": f"{server.base}/drip.xml"},
                {"name": "slow", "kind": "wordpress", "url": f"{server.base}/slow"},
                {"name": "good", "kind": "feed", "url": f"{server.base}/good.xml"},
            ],
            collect={"timeout": 5, "request_deadline": 1, "source_deadline": 1.5},
        )
        report = collect(runtime)
    by_name = {r.name: r for r in report.sources}
    assert "deadline exceeded" in (by_name["drip"].error or "")
    assert "source deadline exceeded" in (by_name["slow"].error or "")
    assert by_name["good"].new == 1
    with runtime.sessions() as session:
        assert "The good story" in set(session.scalars(select(Post.title)))
        errors = dict(session.execute(select(Source.name, Source.last_error)).all())
    assert "deadline exceeded" in errors["drip"]
    assert errors["good"] is None


def test_a_dripping_websub_hub_is_given_up_at_the_deadline() -> None:
    # Collecting pings the hub; a hub that answers a byte at a time must not hold that forever.
    with http_server({"/hub": Reply(b"x" * 100, drip=0.2)}) as hub:
        url = f"{hub.base}/hub"
        with hub_client(url, deadline=1) as client:
            ok = notify_hub(client, url, "https://x.org/feed.xml", sleep=lambda _s: None)
    assert not ok
