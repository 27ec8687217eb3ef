"""Collect 50 feeds with 10,000 entries in all from a local server into a fresh SQLite database.

Prints posts per second (including normalisation and dedup) against the goal of 1,000/s, as a
ratio, and the peak memory of the process. Run: .venv/bin/python bench/collect.py
"""

from __future__ import annotations

import resource
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from newsletter import catalog, migrate
from newsletter.collect.run import collect
from newsletter.config import load_settings
from newsletter.runtime import Runtime

FEEDS = 50
ENTRIES = 10_000
GOAL = 1_000.0  # posts per second
NOW = datetime(2026, 11, 26, 12, tzinfo=UTC)


def write_feeds(folder: Path) -> None:
    per_feed = ENTRIES // FEEDS
    for feed in range(FEEDS):
        items = []
        for n in range(per_feed):
            when = format_datetime(NOW - timedelta(hours=feed * per_feed + n))
            # Every 10th entry is the same story as another feed's, under a tracking URL.
            slug = f"story-{feed}-{n}" if n % 10 else f"story-{(feed + 1) % FEEDS}-{n + 1}"
            items.append(
                f"<item><title>Story {feed}-{n}: DHS&#8217;s announcement</title>"
                f"<link>https://site.example/{slug}/?utm_source=feed{feed}</link>"
                f'<guid isPermaLink="false">urn:{feed}:{n}</guid><pubDate>{when}</pubDate>'
                f"<category>Border Enforcement</category>"
                f"<description><![CDATA[<p>Teaser for story {feed}-{n}: the devil remains "
                f"in the details&#8212;attorneys and community groups continue to caution that "
                f"no one knows how fast relief will be. <a href='#'>Read More</a></p>]]>"
                f"</description></item>"
            )
        (folder / f"feed-{feed}.xml").write_text(
            '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
            f"<title>Feed {feed}</title><link>https://site.example/</link>"
            + "".join(items)
            + "</channel></rss>",
            encoding="utf-8",
        )


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        site = folder / "site"
        site.mkdir()
        write_feeds(site)
        handler = partial(_QuietHandler, directory=str(site))
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        base = f"http://127.0.0.1:{server.server_address[1]}"
        settings = load_settings(
            database_url=f"sqlite:///{folder / 'bench.db'}",
            var_dir=folder / "var",
            topics=[{"slug": "border-enforcement", "name": "Border Enforcement"}],
            sources=[
                {"name": f"feed-{n}", "kind": "feed", "url": f"{base}/feed-{n}.xml"}
                for n in range(FEEDS)
            ],
        )
        runtime = Runtime.build(settings)
        migrate.upgrade(runtime.engine)
        with runtime.sessions.begin() as session:
            catalog.sync(session, settings, runtime.clock.now())
        started = time.perf_counter()
        report = collect(runtime)
        elapsed = time.perf_counter() - started
        server.shutdown()
        runtime.close()
    entries = sum(r.new + r.updated + r.duplicate + r.skipped for r in report.sources)
    new = sum(r.new for r in report.sources)
    duplicates = sum(r.duplicate for r in report.sources)
    rate = entries / elapsed
    # ru_maxrss is in KiB on Linux, bytes on macOS.
    scale = 1024 * 1024 if sys.platform == "darwin" else 1024
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / scale
    print(
        f"collected {entries:,} entries from {FEEDS} feeds in {elapsed:.2f}s: "
        f"{new:,} new, {duplicates:,} duplicate"
    )
    print(f"posts per second: {rate:,.0f}   goal: {GOAL:,.0f}/s   ratio: {rate / GOAL:.2f}x")
    print(f"peak memory (max RSS): {peak:,.0f} MiB")


if __name__ == "__main__":
    main()
