"""One article page read by its address, through the collector's guard, from a real server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from newsletter.collect.article import checked_url, read_article
from newsletter.collect.fetch import Fetcher
from newsletter.config import Settings, load_settings
from newsletter.errors import FetchError, SourceFormatError
from tests.collect.article_pages import json_ld_page, open_graph_page
from tests.collect.httpserver import Reply, http_server

NOW = datetime(2026, 11, 26, 14, 0, tzinfo=UTC)
PUBLISHED = NOW - timedelta(days=1)


def _settings(trusted: bool = True, **collect: object) -> Settings:
    hosts = ["127.0.0.1"] if trusted else []
    return load_settings(collect={"trusted_hosts": hosts, "retries": 0, **collect})


def test_open_graph_gives_title_teaser_image_and_date() -> None:
    page = open_graph_page("Shelters Fill Up", "Beds run out by noon.", "/img/door.jpg", PUBLISHED)
    with http_server({"/story": Reply(page, headers={"Content-Type": "text/html"})}) as server:
        post = read_article(_settings(), f"{server.base}/story?utm_source=x", NOW)
    assert post.title == "Shelters Fill Up"
    assert post.teaser == "Beds run out by noon."
    assert post.image_url == f"{server.base}/img/door.jpg"
    assert post.image_alt == "A shelter's front door"
    assert post.published_at == PUBLISHED
    assert post.url == f"{server.base}/story"  # tracking parameters gone


def test_json_ld_gives_the_article_and_its_author() -> None:
    page = json_ld_page(
        "Court Rules", "A ruling on asylum.", "https://cdn.example.org/a.jpg", PUBLISHED
    )
    with http_server({"/ld": Reply(page, headers={"Content-Type": "text/html"})}) as server:
        post = read_article(_settings(), f"{server.base}/ld", NOW)
    assert (post.title, post.author_name) == ("Court Rules", "Ana Reyes")
    assert post.image_url == "https://cdn.example.org/a.jpg"
    assert post.url == f"{server.base}/ld"


def test_a_page_claiming_another_sites_address_keeps_its_own() -> None:
    page = open_graph_page("Fake", "x", "/i.jpg", PUBLISHED, url="https://victim.example.org/real")
    with http_server({"/p": Reply(page, headers={"Content-Type": "text/html"})}) as server:
        post = read_article(_settings(), f"{server.base}/p", NOW)
    assert post.url == f"{server.base}/p"


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        (Reply(b"%PDF-1.7", headers={"Content-Type": "application/pdf"}), "not an HTML page"),
        (
            Reply(b"<html><body>no article</body></html>", headers={"Content-Type": "text/html"}),
            "declares no article",
        ),
        (Reply(b"gone", 404), "HTTP 404"),
        (Reply(b"<html>" + b"x" * 5000, headers={"Content-Type": "text/html"}), "cap"),
    ],
)
def test_pages_that_are_no_article_are_refused_with_one_reason(reply: Reply, expected: str) -> None:
    with (
        http_server({"/x": reply}) as server,
        pytest.raises((FetchError, SourceFormatError), match=expected),
    ):
        read_article(_settings(max_bytes=1000), f"{server.base}/x", NOW)


def test_a_private_address_is_refused_before_any_request() -> None:
    page = open_graph_page("Inside", "x", "/i.jpg", PUBLISHED)
    with http_server({"/inside": Reply(page, headers={"Content-Type": "text/html"})}) as server:
        with pytest.raises(FetchError, match="loopback address"):
            read_article(_settings(trusted=False), f"{server.base}/inside", NOW)
        assert server.requests == []
    with pytest.raises(FetchError, match="private address"):
        read_article(
            _settings(trusted=False), "http://10.1.2.3/story", NOW, Fetcher(_settings().collect)
        )


@pytest.mark.parametrize(
    "typed", ["", "not a url", "javascript:alert(1)", "ftp://example.org/x", "https://x:99999/"]
)
def test_what_is_no_web_address_is_refused_before_fetching(typed: str) -> None:
    with pytest.raises(FetchError):
        checked_url(typed)
