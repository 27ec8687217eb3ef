"""A source that breaks in any way fails alone, in one line; the good one beside it is published.

Each hostile answer is served for real next to a good feed; collect (and the scheduler's
collect job) must store and publish the good one and record the bad one's error on it.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from newsletter.collect import run
from newsletter.collect.item import Harvest, RawItem
from newsletter.models import CollectSkip, Post, Source
from newsletter.pipeline.publishing import collect_and_publish
from newsletter.schedule import jobs
from newsletter.web.app import create_app
from tests.cli.process import run as cli
from tests.collect.httpserver import Reply, http_server

RSS = {"Content-Type": "application/rss+xml"}
JSON = {"Content-Type": "application/json"}
GOOD = b"""<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>G</title>
<link>https://good.example/</link><item><title>The good story</title>
<link>https://good.example/story/</link><description>Words.</description></item>
</channel></rss>"""
FEED_VERSION = "https://jsonfeed.org/version/1.1"
DEEP = 100_000


def json_feed(items: Any) -> bytes:
    return json.dumps({"version": FEED_VERSION, "title": "J", "items": items}).encode()


def html_with_ld(block: str) -> bytes:
    return (
        f'<html><head><script type="application/ld+json">{block}</script></head>'
        "<body><p>nothing else</p></body></html>"
    ).encode()


# name → (kind, reply, what the recorded error says)
CASES: dict[str, tuple[str, Reply, str]] = {
    "to-file": (
        "feed",
        Reply(status=302, headers={"Location": "file:///etc/passwd"}),
        "refused to follow a file: link",
    ),
    "to-ftp": (
        "feed",
        Reply(status=301, headers={"Location": "ftp://x.example/f"}),
        "refused to follow a ftp: link",
    ),
    "bad-status-line": (
        "feed",
        Reply(raw=b"HTTP/1.1 two hundred OK\r\n\r\nhello"),
        "broken http answer",
    ),
    "not-http": ("feed", Reply(raw=b"SSH-2.0-OpenSSH_9.6\r\n"), "broken http answer"),
    "cut-off": (
        "feed",
        Reply(raw=b"HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n<rss version='2.0'><chan"),
        "broken http answer",
    ),
    "deep-json-feed": (
        "feed",
        Reply(
            b'{"version": "' + FEED_VERSION.encode() + b'", "items": ' + b"[" * DEEP, headers=JSON
        ),
        "nested too deeply",
    ),
    "items-a-dict": (
        "feed",
        Reply(json_feed({"a": {"title": "x"}}), headers=JSON),
        "without items",
    ),
    "deep-wordpress": ("wordpress", Reply(b"[" * DEEP, headers=JSON), "nested too deeply"),
}


def _routes() -> dict[str, Any]:
    routes: dict[str, Any] = {"/good.xml": Reply(GOOD, headers=RSS)}
    for name, (kind, reply, _why) in CASES.items():
        path = f"/{name}/wp-json/wp/v2/posts" if kind == "wordpress" else f"/{name}"
        routes[path] = reply
    # Entries of the wrong types: each is skipped with its reason, the source still read.
    routes["/odd-json-feed"] = Reply(
        json_feed(
            [
                {"id": 1, "url": "https://good.example/j1/", "title": "JSON one", "authors": 5},
                {"id": 2, "url": ["no"], "title": "JSON two", "tags": 3, "content_html": [1]},
                {"id": 3, "url": "https://good.example/j3/", "title": {"a": 1}, "author": "x"},
            ]
        ),
        headers=JSON,
    )
    routes["/odd-wp/wp-json/wp/v2/posts"] = Reply(
        json.dumps(
            [
                {"link": "https://good.example/w1/", "title": {"rendered": "WP one"}},
                {"link": 7, "title": {"rendered": "WP two"}, "_embedded": []},
                {"link": "https://good.example/w3/", "title": ["a", "list"], "content": 4},
                {"link": "https://good.example/w4/", "title": 42, "_embedded": {"author": 1}},
            ]
        ).encode(),
        headers=JSON,
    )
    routes["/deep-ld"] = Reply(
        html_with_ld("[" * 5000 + "]" * 5000), headers={"Content-Type": "text/html"}
    )
    return routes


def _sources(base: str) -> list[dict[str, Any]]:
    sources: list[dict[str, Any]] = [
        {"name": name, "kind": kind, "url": f"{base}/{name}"}
        for name, (kind, _reply, _why) in CASES.items()
    ]
    sources += [
        {"name": "odd-json-feed", "kind": "feed", "url": f"{base}/odd-json-feed"},
        {"name": "odd-wp", "kind": "wordpress", "url": f"{base}/odd-wp"},
        {"name": "deep-ld", "kind": "html", "url": f"{base}/deep-ld"},
        {"name": "good", "kind": "feed", "url": f"{base}/good.xml"},  # last: after them all
    ]
    return sources


@pytest.mark.parametrize("how", ["command", "scheduler"])
def test_each_broken_source_fails_alone(make_runtime: Any, how: str) -> None:
    with http_server(_routes()) as server:
        runtime = make_runtime(_sources(server.base), collect={"retries": 0})
        if how == "command":
            report = collect_and_publish(runtime)
            assert len(report.sources) == len(CASES) + 4
        else:
            line = jobs.collect(runtime)
            assert "failed: to-file:" in line
    with runtime.sessions() as session:
        titles = set(session.scalars(select(Post.title)))
        errors = dict(session.execute(select(Source.name, Source.last_error)).all())
    assert errors["good"] is None
    assert {"The good story", "JSON one", "WP one"} <= titles
    for name, (_kind, _reply, why) in CASES.items():
        error = errors[name] or ""
        assert why in error.lower(), (name, error)
        assert "\n" not in error
        assert "Traceback" not in error
    # Entries of the wrong types were skipped, not stored with nonsense and not a crash.
    assert not any(title.startswith(("[", "{", "42")) for title in titles)
    assert "JSON two" not in titles
    assert "WP two" not in titles
    assert errors["odd-json-feed"] is None
    assert errors["deep-ld"] is None
    feed = TestClient(create_app(runtime)).get("/feed.xml").text
    assert "The good story" in feed


def test_an_entry_of_the_wrong_types_is_skipped_not_a_crash(
    make_runtime: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The parsers hand over strings; should one miss a value, the entry alone is lost.
    odd = RawItem(title=["a", "list"], link="https://good.example/odd/")  # type: ignore[arg-type]
    fine = RawItem(title="Fine", link="https://good.example/fine/")
    harvest = Harvest(base_url="https://good.example/", items=[odd, fine])
    monkeypatch.setattr(run, "read", lambda *_args: harvest)
    runtime = make_runtime([{"name": "s", "kind": "feed", "url": "https://good.example/f"}])
    report = run.collect(runtime)
    assert (report.sources[0].new, report.sources[0].skipped) == (1, 1)
    with runtime.sessions() as session:
        assert set(session.scalars(select(Post.title))) == {"Fine"}
        reasons = set(session.scalars(select(CollectSkip.reason)))
    assert reasons == {"unreadable entry (TypeError)"}


@pytest.mark.slow  # three real `newsletter` processes
def test_the_commands_say_each_failure_in_one_line(tmp_path: Path) -> None:
    picked = ["to-file", "cut-off", "deep-json-feed"]
    with http_server(_routes()) as server:
        chosen = [s for s in _sources(server.base) if s["name"] in [*picked, "good"]]
        config = tmp_path / "newsletter.toml"
        config.write_text(
            "[collect]\nretries = 0\n"
            + "".join(
                f'[[sources]]\nname = "{s["name"]}"\nkind = "{s["kind"]}"\nurl = "{s["url"]}"\n'
                for s in chosen
            )
        )
        env = {"NEWSLETTER_CONFIG": str(config)}
        assert cli("init", env=env).returncode == 0
        collected = cli("collect", env=env)
        listed = cli("sources", env=env)
    assert collected.returncode == 1
    assert collected.stderr.startswith("error: source 'to-file' failed: ")
    assert collected.stderr.strip().endswith("(and 2 more)")
    assert len(collected.stderr.strip().splitlines()) == 1
    assert re.search(r"^good +new 1,", collected.stdout, re.MULTILINE)
    assert listed.returncode == 0
    errors = [line for line in listed.stdout.splitlines() if "last error:" in line]
    assert len(errors) == len(picked)
    assert "Traceback" not in collected.stdout + collected.stderr + listed.stdout + listed.stderr
