"""Collecting the demo site from a real local server: dedup, topics, backfill, edits, health."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from newsletter.clock import FixedClock
from newsletter.collect.run import collect
from newsletter.models import Post, PostSource, Source
from newsletter.runtime import Runtime
from tests.collect.conftest import NOW, demo_server, demo_sources


def _posts(runtime: Runtime) -> dict[str, Post]:
    with runtime.sessions() as session:
        posts = session.scalars(select(Post)).unique().all()
        for post in posts:
            _ = post.topics  # load while the session is open
        return {post.url.rsplit("/", 2)[-2]: post for post in posts}


def test_demo_site_is_one_post_per_story(site: str, make_runtime: Any) -> None:
    runtime = make_runtime(demo_sources(site))
    report = collect(runtime)
    counts = {r.name: (r.new, r.updated, r.duplicate, r.skipped, r.errors) for r in report.sources}
    # 11 stories on the page plus 2 on page 2; the second DHS listing folds into the first.
    assert counts["border-page"] == (12, 0, 1, 0, 0)
    # The feed and the API carry the same 10 stories: nothing new, every one matched.
    assert counts["site-feed"] == (0, 0, 10, 0, 0)
    assert counts["site-api"] == (0, 0, 10, 0, 0)
    posts = _posts(runtime)
    assert len(posts) == 12
    assert sorted(report.topics) == ["asylum", "border-enforcement"]
    assert len(report.new_post_ids) == 12

    featured = posts["beyond-a-border-solution"]
    assert featured.published_at == datetime(2023, 5, 2, 4, 0, tzinfo=UTC)  # midnight in New York
    assert featured.announced  # older than the backfill cutoff
    assert [topic.slug for topic in featured.topics] == ["asylum", "border-enforcement"]
    assert featured.teaser.endswith("overwhelmed asylum system.")
    assert featured.image_url is not None
    assert featured.image_url.endswith(".png")

    dateless = posts["dhs-detains-unauthorized-immigrants-leave-us"]
    assert dateless.first_seen_at == NOW
    assert NOW - timedelta(seconds=1) < dateless.published_at < NOW
    assert not dateless.announced
    # Dateless stories keep the order the listing gives them, page 2 after page 1.
    by_date = sorted(
        (post for post in posts.values() if not post.announced),
        key=lambda post: post.published_at,
        reverse=True,
    )
    assert [post.url.rsplit("/", 2)[-2] for post in by_date] == [
        "some-hopeful-early-signs-prosecutorial-discretion",
        "anti-immigrant-activists-hysterical-dhs-guidelines",
        "immigration-lawyers-clarify-dhs-announcement",
        "dhs-detains-unauthorized-immigrants-leave-us",
        "latino-leaders-defend-dhs-announcement",
        "prosecutorial-discretion-gay-lesbian-bi-national-couples",
        "prosecutorial-discretion-temporary-relief-bi-national-couples",
        "dhs-announces-expansion-prosecutorial-discretion",
        "new-report-dhs-way-off-target",
        "after-apprehension-basic-steps",
        "border-enforcement-budget-terms-guide",
    ]

    report_post = posts["new-report-dhs-way-off-target"]
    assert (report_post.author_name, report_post.author_role) == (
        "Greg Chen",
        "Director of Advocacy, American Immigration Lawyers Association",
    )
    assert report_post.teaser.startswith("For the last two years")
    assert report_post.teaser.endswith("…")
    assert len(report_post.teaser) <= 301

    # The API brought the body of post 5889, without its script or onclick.
    clarify = posts["immigration-lawyers-clarify-dhs-announcement"]
    assert clarify.body_html
    assert "<a" in clarify.body_html
    assert "script" not in clarify.body_html
    assert "onclick" not in clarify.body_html
    with runtime.sessions() as session:
        links = session.scalars(select(PostSource).where(PostSource.post_id == clarify.id)).all()
    assert len(links) == 3  # html page, feed and API all carry it


def test_second_run_costs_nothing_and_changes_nothing(site: str, make_runtime: Any) -> None:
    runtime = make_runtime(demo_sources(site))
    collect(runtime)
    before = _posts(runtime)
    again = collect(runtime)
    assert not again.changed
    by_name = {r.name: r for r in again.sources}
    assert by_name["border-page"].not_modified
    assert by_name["site-feed"].not_modified
    # WordPress is asked only for what changed since the newest `modified` it saw.
    assert by_name["site-api"].new + by_name["site-api"].duplicate == 0
    after = _posts(runtime)
    assert {k: p.updated_at for k, p in before.items()} == {
        k: p.updated_at for k, p in after.items()
    }


def test_edit_moves_updated_at_but_not_first_seen(tmp_path: Path, make_runtime: Any) -> None:
    site_dir = tmp_path / "site"
    feed = (demo_server.SITE / "feed.xml").read_text(encoding="utf-8")
    site_dir.mkdir()
    (site_dir / "feed.xml").write_text(feed, encoding="utf-8")
    with demo_server.serving(site_dir) as base:
        runtime = make_runtime([{"name": "site-feed", "kind": "feed", "url": f"{base}/feed.xml"}])
        first = collect(runtime)
        assert first.sources[0].new == 10
        original = _posts(runtime)["beyond-a-border-solution"]
        assert original.announced
        assert isinstance(runtime.clock, FixedClock)
        runtime.clock.advance(timedelta(days=3))
        edited = feed.replace("Beyond A Border Solution", "Beyond A Border Solution (updated)", 1)
        (site_dir / "feed.xml").write_text(edited, encoding="utf-8")
        # A new Last-Modified, not a 304: later than the file's real mtime, whatever today is.
        later = (site_dir / "feed.xml").stat().st_mtime + 3 * 86400
        os.utime(site_dir / "feed.xml", (later, later))
        second = collect(runtime)
    assert (second.sources[0].updated, second.sources[0].duplicate) == (1, 9)
    post = _posts(runtime)["beyond-a-border-solution"]
    assert post.id == original.id
    assert post.title == "Beyond A Border Solution (updated)"
    assert post.updated_at == NOW + timedelta(days=3)
    assert post.first_seen_at == original.first_seen_at == NOW
    assert post.announced  # an edit never makes an old post new for the digest
    assert second.updated_post_ids == [post.id]


def test_wordpress_follows_pages_and_asks_only_for_changes(site: str, make_runtime: Any) -> None:
    runtime = make_runtime(
        [{"name": "site-api", "kind": "wordpress", "url": site}],
        collect={"wordpress_per_page": 3},
    )
    report = collect(runtime)
    assert report.sources[0].new == 10  # 4 pages of 3
    with runtime.sessions() as session:
        source = session.scalars(select(Source)).one()
    posts = json.loads((demo_server.SITE / "wp-json/wp/v2/posts.json").read_text())
    newest = max(datetime.fromisoformat(p["modified_gmt"]).replace(tzinfo=UTC) for p in posts)
    assert source.modified_after == newest
    assert all(p.announced for p in _posts(runtime).values())  # all dated 2011 or 2023


def test_a_failing_source_stops_no_other(site: str, make_runtime: Any) -> None:
    sources = [
        {"name": "gone", "kind": "feed", "url": f"{site}/no-such-feed.xml"},
        *demo_sources(site)[:1],
    ]
    runtime = make_runtime(sources)
    report = collect(runtime)
    by_name = {r.name: r for r in report.sources}
    assert by_name["gone"].error is not None
    assert "HTTP 404" in by_name["gone"].error
    assert by_name["border-page"].new == 12
    with runtime.sessions() as session:
        gone = session.scalars(select(Source).where(Source.name == "gone")).one()
        page = session.scalars(select(Source).where(Source.name == "border-page")).one()
    assert gone.last_error
    assert gone.last_success_at is None
    assert page.last_success_at == NOW
    assert page.last_error is None
