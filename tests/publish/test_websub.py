"""WebSub publish pings: retried on failure, given up on refusal, never raised to the caller."""

from __future__ import annotations

import socket

import httpx

from newsletter.publish.websub import BackgroundNotifier, notify_hub
from tests.publish.hub import hub_server


def test_a_ping_reaches_a_real_hub_after_server_errors() -> None:
    with hub_server() as hub, httpx.Client() as client:
        hub.failures = [503, 500]
        slept: list[float] = []
        ok = notify_hub(client, hub.url, "https://news.example.org/feed.xml", sleep=slept.append)
    assert ok
    assert hub.attempts == 3
    assert slept == [1.0, 2.0]
    assert hub.pings == [
        {"hub.mode": ["publish"], "hub.url": ["https://news.example.org/feed.xml"]}
    ]


def test_a_refusal_is_not_retried() -> None:
    with hub_server() as hub, httpx.Client() as client:
        hub.failures = [400]
        assert not notify_hub(client, hub.url, "https://x.org/feed.xml", sleep=lambda _: None)
    assert hub.attempts == 1


def test_a_dead_hub_gives_up_after_the_attempts() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{probe.getsockname()[1]}/hub"  # bound, never listening
        calls: list[float] = []
        with httpx.Client(timeout=2) as client:
            ok = notify_hub(client, dead, "https://x.org/feed.xml", attempts=3, sleep=calls.append)
    assert not ok
    assert calls == [1.0, 2.0]


def test_the_background_notifier_never_waits_for_the_hub() -> None:
    with hub_server() as hub:
        hub.failures = [503]
        hub.gate.clear()  # the hub hangs until released
        notifier = BackgroundNotifier(hub.url, backoff=0.01)
        notifier.publish(["https://x.org/feed.xml", "https://x.org/atom.xml"])
        assert hub.pings == []  # publish() came back while the hub was still hanging
        hub.gate.set()
        notifier.join(10)
    assert [p["hub.url"] for p in hub.pings] == [
        ["https://x.org/feed.xml"],
        ["https://x.org/atom.xml"],
    ]
