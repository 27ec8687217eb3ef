"""Telling machines from readers by the request alone: prefetches and known link scanners."""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache

HUMAN = "human"
PREFETCH = "prefetch"  # HEAD, or a browser's speculative load
SCANNER = "scanner"  # a link scanner or security gateway, known by its user agent
BURST = "burst"  # many links of one issue from one client within seconds
TRAP = "trap"  # the hidden link no person sees, or a client that opened it
VERDICTS = (HUMAN, PREFETCH, SCANNER, BURST, TRAP)

# Lower-case substrings of user agents that are never a reader, each with why. Most gateways
# send a browser's user agent and are caught by behaviour (BURST, TRAP) instead; these are the
# ones that say what they are.
SCANNER_AGENTS: tuple[tuple[str, str], ...] = (
    ("barracuda", "Barracuda Email Security Gateway checks every link on delivery"),
    ("mimecast", "Mimecast URL Protect rewrites and pre-fetches links"),
    ("proofpoint", "Proofpoint URL Defense follows links to sandbox them"),
    ("safelinks", "Microsoft Defender Safe Links detonates links on delivery"),
    ("bingpreview", "Outlook and Bing link previews fetch the page"),
    ("google-safety", "Gmail's safety check fetches links it is unsure of"),
    ("googleimageproxy", "Gmail's image proxy, not a reader"),
    ("symantec", "Symantec/Broadcom email security follows links"),
    ("trendmicro", "Trend Micro email security follows links"),
    ("forcepoint", "Forcepoint email security follows links"),
    ("sophos", "Sophos email security follows links"),
    ("fortiguard", "Fortinet's FortiMail URL check"),
    ("cisco", "Cisco Secure Email (IronPort) URL filtering"),
    ("slackbot", "a chat unfurler fetching a pasted link, not a click"),
    ("facebookexternalhit", "a social unfurler fetching a pasted link, not a click"),
    ("twitterbot", "a social unfurler fetching a pasted link, not a click"),
    ("python-requests", "a script, not a mail client"),
    ("curl/", "a script, not a mail client"),
    ("wget/", "a script, not a mail client"),
    ("go-http-client", "a script, not a mail client"),
    ("headlesschrome", "an automated browser, as sandboxes use"),
    ("bot", "anything that calls itself a bot"),
    ("crawler", "anything that calls itself a crawler"),
    ("spider", "anything that calls itself a spider"),
)
# Past this length a user agent is not matched in full (nothing legitimate is so long).
_AGENT_CHARS = 512


def is_prefetch(method: str, headers: Mapping[str, str]) -> bool:
    """HEAD, or a request the browser made in advance (Purpose / Sec-Purpose: prefetch)."""
    if method == "HEAD" or method.upper() == "HEAD":
        return True
    purpose = headers.get("sec-purpose") or headers.get("purpose")
    if not purpose:  # nearly every click: no purpose header at all
        return False
    purpose = purpose.lower()
    return "prefetch" in purpose or "prerender" in purpose


def scanner_reason(user_agent: str) -> str | None:
    """Why this user agent is a machine, or None for one that may be a reader's."""
    return _agent_reason(user_agent[:_AGENT_CHARS])


# Readers come with a few hundred distinct user agents (mail apps, browsers); each is matched
# once, not on every click. Bounded in count, and in size by the cut above.
@lru_cache(maxsize=2048)
def _agent_reason(user_agent: str) -> str | None:
    agent = user_agent.lower()
    if not agent.strip():
        return "no user agent: mail clients and browsers always send one"
    for needle, why in SCANNER_AGENTS:
        if needle in agent:
            return why
    return None


def request_verdict(method: str, headers: Mapping[str, str]) -> str:
    """HUMAN, PREFETCH or SCANNER from the request alone; behaviour is judged later."""
    if is_prefetch(method, headers):
        return PREFETCH
    if scanner_reason(headers.get("user-agent", "")) is not None:
        return SCANNER
    return HUMAN
