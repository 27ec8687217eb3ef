"""Machines known by the request alone: prefetches, scanners by user agent, no user agent."""

from __future__ import annotations

import pytest

from newsletter.analytics.machines import (
    HUMAN,
    PREFETCH,
    SCANNER,
    SCANNER_AGENTS,
    request_verdict,
    scanner_reason,
)

READERS = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Mobile/15E148",
    "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.18129; Pro)",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14.7; rv:133.0) Gecko/20100101 Firefox/133.0",
)


@pytest.mark.parametrize(("needle", "why"), SCANNER_AGENTS)
def test_each_listed_scanner_is_a_machine_with_its_reason(needle: str, why: str) -> None:
    agent = f"Mozilla/5.0 (compatible; {needle.upper()} 2.1)"
    assert request_verdict("GET", {"user-agent": agent}) == SCANNER
    assert scanner_reason(agent) is not None


@pytest.mark.parametrize("agent", READERS)
def test_readers_mail_apps_are_readers(agent: str) -> None:
    # Asked twice: the second answer comes from the cache and must be the same.
    assert request_verdict("GET", {"user-agent": agent}) == HUMAN
    assert request_verdict("GET", {"user-agent": agent}) == HUMAN


def test_no_user_agent_is_a_machine() -> None:
    assert request_verdict("GET", {}) == SCANNER
    assert request_verdict("GET", {"user-agent": "   "}) == SCANNER


@pytest.mark.parametrize(
    ("method", "headers"),
    [
        ("HEAD", {}),
        ("head", {}),
        ("GET", {"sec-purpose": "prefetch;prerender"}),
        ("GET", {"purpose": "Prefetch"}),
    ],
)
def test_prefetches_are_told_apart(method: str, headers: dict[str, str]) -> None:
    assert request_verdict(method, {"user-agent": READERS[0], **headers}) == PREFETCH


def test_only_the_start_of_a_huge_user_agent_is_read() -> None:
    """A scanner's word past 512 characters is not looked for: nothing so long is a mail app."""
    padding = "x" * 512
    assert request_verdict("GET", {"user-agent": READERS[0][:40] + padding + " bot"}) == HUMAN
    assert request_verdict("GET", {"user-agent": " bot" + padding}) == SCANNER
