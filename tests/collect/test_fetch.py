"""The HTTP seam against a real local server: limits, retries, conditional requests."""

from __future__ import annotations

import httpx
import pytest

from newsletter.collect.fetch import Fetcher
from newsletter.config import CollectSettings
from newsletter.errors import FetchError
from tests.collect.httpserver import Reply, http_server

FAST = CollectSettings(timeout=0.5, retries=2, backoff=0.01, max_bytes=10_000, max_redirects=2)


def test_retries_5xx_with_backoff_then_succeeds() -> None:
    answers = iter([Reply(b"down", 503), Reply(b"down", 502), Reply(b"ok")])
    waits: list[float] = []
    with http_server({"/f": lambda _h: next(answers)}) as server:
        fetched = Fetcher(FAST, sleep=waits.append).get(f"{server.base}/f")
    assert fetched.content == b"ok"
    assert server.hits("/f") == 3
    assert waits == [0.01, 0.02]


def test_gives_up_after_retries_on_timeouts() -> None:
    slow = http_server({"/slow": Reply(b"late", delay=1.5)})
    expected = r"timed out after 0.5s \(tried 3 times\)"
    with slow as server, pytest.raises(FetchError, match=expected):
        Fetcher(FAST, sleep=lambda _s: None).get(f"{server.base}/slow")


def test_client_errors_are_not_retried() -> None:
    with http_server({}) as server:
        with pytest.raises(FetchError, match="HTTP 404"):
            Fetcher(FAST).get(f"{server.base}/missing")
        assert server.hits("/missing") == 1


def test_size_cap_by_header_and_by_stream() -> None:
    big = b"x" * 10_001_000  # a 10 MB page
    sized = http_server({"/big": Reply(big)})
    with sized as server, pytest.raises(FetchError, match="10,001,000 bytes is over the 10,000"):
        Fetcher(FAST).get(f"{server.base}/big")
    # A server that does not say how long the body is gets cut off while streaming.
    unsized = http_server({"/unsized": Reply(big, send_length=False)})
    with unsized as server, pytest.raises(FetchError, match="more than the 10,000-byte cap"):
        Fetcher(FAST).get(f"{server.base}/unsized")


def test_redirect_cap() -> None:
    loop = {
        "/a": Reply(status=302, headers={"Location": "/b"}),
        "/b": Reply(status=302, headers={"Location": "/a"}),
    }
    with http_server(loop) as server, pytest.raises(FetchError, match="more than 2 redirects"):
        Fetcher(FAST).get(f"{server.base}/a")


def test_conditional_request_and_user_agent() -> None:
    def answer(handler: object) -> Reply:
        headers = handler.headers
        if headers.get("If-None-Match") == '"v1"':
            return Reply(status=304)
        return Reply(b"<rss/>", headers={"ETag": '"v1"', "Last-Modified": "Mon, 01 Jan 2024"})

    with http_server({"/feed": answer}) as server:
        fetcher = Fetcher(FAST)
        first = fetcher.get(f"{server.base}/feed")
        second = fetcher.get(f"{server.base}/feed", etag=first.etag)
        agents = {headers.get("User-Agent") for _path, headers in server.requests}
    assert (first.status, first.etag) == (200, '"v1"')
    assert second.not_modified
    assert second.content == b""
    assert agents == {FAST.user_agent}


def test_fake_transport_for_unit_tests() -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(200, content=b"faked"))
    assert Fetcher(FAST, transport=transport).get("http://example.invalid/").content == b"faked"


def test_a_dripping_answer_ends_at_the_request_deadline() -> None:
    # One byte every 0.2 s never trips the 5 s read timeout; the 1 s deadline ends it.
    settings = CollectSettings(timeout=5, request_deadline=1, retries=2, backoff=0.01)
    with http_server({"/drip": Reply(b"x" * 200, drip=0.2)}) as server:
        with pytest.raises(FetchError, match=r"deadline exceeded \(no complete answer within 1s"):
            Fetcher(settings, sleep=lambda _s: None).get(f"{server.base}/drip")
        assert server.hits("/drip") == 1  # a server that drips once drips again: no retry


def test_a_slow_source_ends_at_its_source_deadline() -> None:
    # Each page answers in time, but a source with many of them runs out of its own time.
    settings = CollectSettings(timeout=5, request_deadline=5, source_deadline=1)
    fetcher = Fetcher(settings)

    def read_pages(base: str) -> None:
        with fetcher.source(base):
            for _ in range(20):
                fetcher.get(f"{base}/page")

    with http_server({"/page": Reply(b"ok", delay=0.3)}) as server:
        with pytest.raises(FetchError, match="source deadline exceeded"):
            read_pages(server.base)
        assert server.hits("/page") < 20
