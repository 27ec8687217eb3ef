"""Feeds over real HTTP: curl's gzip and conditional GETs, and a WebSub hub fetching on a ping."""

from __future__ import annotations

import gzip
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from datetime import timedelta
from email.utils import parsedate_to_datetime
from html.parser import HTMLParser
from pathlib import Path

import feedparser
import httpx
import pytest

from newsletter import migrate
from newsletter.clock import FixedClock
from newsletter.config import load_settings
from newsletter.models import Topic
from newsletter.publish.rebuild import rebuild
from newsletter.publish.websub import BackgroundNotifier, NoNotifier
from newsletter.runtime import Runtime
from tests.publish.cases import NASTY, T0, add_posts
from tests.publish.hub import Hub, hub_server
from tests.web.live import free_port, live_server

CURL = shutil.which("curl")


@pytest.fixture
def served(database_url: str, tmp_path: Path) -> Iterator[tuple[Runtime, str, Hub]]:
    """The app on a real port its site URL names, a hub configured, feeds built."""
    with hub_server() as hub:
        port = free_port()
        settings = load_settings(
            database_url=database_url,
            var_dir=tmp_path / "var",
            site={"url": f"http://127.0.0.1:{port}"},
            feeds={"websub_hub": hub.url},
        )
        runtime = Runtime.build(settings, FixedClock(T0 + timedelta(days=1)))
        migrate.upgrade(runtime.engine)
        with runtime.sessions.begin() as session:
            add_posts(session, NASTY[:5], [Topic(slug="asylum", name="Asylum", description="")])
        rebuild(runtime, None, NoNotifier())
        with live_server(runtime, port) as url:
            yield runtime, url, hub
        runtime.close()


def _curl(*args: str) -> tuple[dict[str, str], bytes]:
    """Headers (the last response's, lower-cased) and body of one curl call."""
    if CURL is None:
        pytest.skip("curl is not installed")
    done = subprocess.run(
        [CURL, "-sS", "-D", "-", *args], capture_output=True, check=True, timeout=30
    )
    head, _, body = done.stdout.partition(b"\r\n\r\n")
    headers = {}
    for line in head.decode("latin-1").splitlines()[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    headers["status"] = head.split()[1].decode()
    return headers, body


def test_curl_gets_gzip_with_its_own_etag_and_revalidates(
    served: tuple[Runtime, str, Hub],
) -> None:
    _, url, _ = served
    for path in ("/feed.xml", "/topics/asylum/atom.xml", "/feed.json"):
        # Twice each: the first answer comes from the route, the second from the fast path.
        for _ in range(2):
            plain_headers, plain = _curl(url + path)
            packed_headers, packed = _curl("-H", "Accept-Encoding: gzip", url + path)
            assert packed_headers["content-encoding"] == "gzip", path
            assert gzip.decompress(packed) == plain
            assert int(packed_headers["content-length"]) == len(packed) < len(plain) / 2
            assert "content-encoding" not in plain_headers
            assert plain_headers["vary"] == packed_headers["vary"] == "Accept-Encoding"
            assert packed_headers["etag"] != plain_headers["etag"]
            for held in (plain_headers["etag"], packed_headers["etag"]):
                again, body = _curl("--compressed", "-H", f"If-None-Match: {held}", url + path)
                assert (again["status"], body) == ("304", b"")
                assert again["etag"] == packed_headers["etag"]
            _, decoded = _curl("--compressed", url + path)
            assert decoded == plain


def test_curl_revalidates_with_every_date_form(served: tuple[Runtime, str, Hub]) -> None:
    _, url, _ = served
    headers, _ = _curl(url + "/feed.xml")
    modified = headers["last-modified"]  # IMF-fixdate: "Tue, 03 Nov 2026 ..."
    at = parsedate_to_datetime(modified)
    forms = [
        modified,
        at.strftime("%A, %d-%b-%y %H:%M:%S GMT"),  # RFC 850
        at.strftime("%a %b ") + f"{at.day:2d}" + at.strftime(" %H:%M:%S %Y"),  # asctime
    ]
    for form in forms:
        for _ in range(2):  # the route, then the fast path
            again, body = _curl("-H", f"If-Modified-Since: {form}", url + "/feed.xml")
            assert (again["status"], body) == ("304", b""), form
    earlier = at - timedelta(seconds=1)
    asctime = earlier.strftime("%a %b ") + f"{earlier.day:2d}" + earlier.strftime(" %H:%M:%S %Y")
    assert _curl("-H", f"If-Modified-Since: {asctime}", url + "/feed.xml")[0]["status"] == "200"


def test_feed_responses_name_the_hub_and_themselves(served: tuple[Runtime, str, Hub]) -> None:
    runtime, url, hub = served
    for path in ("/feed.xml", "/atom.xml", "/feed.json", "/topics/asylum/feed.json"):
        expected = f'<{hub.url}>; rel="hub", <{runtime.settings.site.base_url}{path}>; rel="self"'
        first = httpx.get(url + path)
        assert first.headers["link"] == expected
        assert httpx.get(url + path).headers["link"] == expected  # the fast path's
        etag = first.headers["etag"]
        revalidated = httpx.get(url + path, headers={"If-None-Match": etag})
        assert revalidated.status_code == 304
        assert revalidated.headers["link"] == expected


def test_the_hub_fetches_the_new_bytes_when_pinged(served: tuple[Runtime, str, Hub]) -> None:
    runtime, url, hub = served
    hub.fetch = True
    before = httpx.get(url + "/feed.xml")  # this process now holds the feed in memory
    assert b"A story the hub must see" not in before.content
    with runtime.sessions.begin() as session:
        topic = session.query(Topic).filter_by(slug="asylum").one()
        later = T0 + timedelta(days=2)
        story = {"title": "A story the hub must see", "url": "https://demo.example.org/new"}
        times = {"published_at": later, "updated_at": later, "first_seen_at": later}
        add_posts(session, [story | times | {"content_hash": "n" * 64}], [topic])
    notifier = BackgroundNotifier(hub.url, backoff=0.01)
    changed = rebuild(runtime, {"asylum"}, notifier)
    notifier.join(30)
    base = runtime.settings.site.base_url
    assert sorted(hub.fetched) == sorted(base + path for path in changed)
    assert base + "/feed.xml" in hub.fetched
    for topic_url, body in hub.fetched.items():
        assert b"A story the hub must see" in body, topic_url
    titles = [e.title for e in feedparser.parse(hub.fetched[base + "/feed.xml"]).entries]
    assert titles[0] == "A story the hub must see"


class _Text(HTMLParser):
    """The text an HTML fragment shows, as a reader's renderer would lay it out in one line."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


NEWSBOAT = shutil.which("newsboat")


def test_newsboat_reads_the_teaser_as_written_over_gzip(
    served: tuple[Runtime, str, Hub], tmp_path: Path
) -> None:
    if NEWSBOAT is None:
        pytest.skip("newsboat is not installed (.ci/run installs it)")
    runtime, url, _ = served
    teaser = 'AT&T; said <b>not bold</b> & "quoted" &amp; more'
    with runtime.sessions.begin() as session:
        later = T0 + timedelta(days=2)
        story = {"title": "Carriers", "url": "https://demo.example.org/at-t", "teaser": teaser}
        times = {"published_at": later, "updated_at": later, "first_seen_at": later}
        add_posts(session, [story | times | {"content_hash": "t" * 64}])
    rebuild(runtime, None, NoNotifier())
    (tmp_path / "urls").write_text(url + "/feed.xml\n")
    (tmp_path / "config").write_text("")
    cache = tmp_path / "cache.db"
    command = [NEWSBOAT, "-u", str(tmp_path / "urls"), "-c", str(cache)]
    command += ["-C", str(tmp_path / "config"), "-x", "reload"]
    # Twice: newsboat keeps a feed's validators only once the feed is in its cache.
    for _ in range(2):
        subprocess.run(
            command, check=True, capture_output=True, timeout=60, env=_reader_env(tmp_path / "home")
        )
    with sqlite3.connect(cache) as db:
        [(content,)] = db.execute("SELECT content FROM rss_item WHERE title = 'Carriers'")
        [(etag,)] = db.execute("SELECT etag FROM rss_feed")
    shown = _Text()
    shown.feed(content)
    assert "".join(shown.parts) == teaser
    assert etag.endswith('-gzip"')  # newsboat asked for gzip, and keeps that ETag to revalidate


def _reader_env(home: Path) -> dict[str, str]:
    """newsboat's own home, so that it reads no one's configuration and writes nowhere else."""
    home.mkdir(exist_ok=True)
    return {"HOME": str(home), "PATH": os.environ.get("PATH", ""), "LANG": "C.UTF-8"}
