"""Telling machines by what they do: many links of one issue at once, or the trap link.

Clients are known only in memory, by a salted hash of address and user agent that is never
stored; the memory is bounded, the oldest client forgotten first.
"""

from __future__ import annotations

import hashlib
import secrets
from collections import OrderedDict, deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from newsletter.analytics.machines import BURST, HUMAN, TRAP


@dataclass(slots=True)
class Hit:
    """One request to /r/ on its way to the counts; `verdict` may still turn to a machine's."""

    issue_id: int
    position: int
    variant_id: int
    at: datetime
    verdict: str
    subscriber_id: int | None = None


@dataclass(slots=True)
class _Seen:
    hits: deque[Hit] = field(default_factory=deque)
    # How many of `hits` are on each link: kept as hits come and go, never recounted.
    links: dict[int, int] = field(default_factory=dict)
    trapped: bool = False
    # The machine verdict every hit in `hits` already carries (None: not judged a machine now).
    marked: str | None = None


class Behaviour:
    """Re-judges a client's recent hits: a burst over many links, or a trap, makes them machines'.

    A hit is judged final once it is older than `window` (the queue holds it that long). Each
    hit costs the same however many the client made: a client's window is walked only when
    its verdict changes, not on every hit (a scanner sending thousands would make it quadratic).
    """

    def __init__(self, burst_links: int, window: timedelta, clients: int = 50_000) -> None:
        self.burst_links = burst_links
        self.window = window
        self.clients = clients
        self._salt = secrets.token_bytes(16)
        self._seen: OrderedDict[tuple[bytes, int], _Seen] = OrderedDict()

    def client(self, address: str, user_agent: str) -> bytes:
        data = f"{address}\n{user_agent[:512]}".encode()
        return hashlib.blake2b(data, key=self._salt, digest_size=12).digest()

    def judge(self, client: bytes, hit: Hit, trap: bool) -> None:
        """Record the hit; turn it, and this client's other hits on the issue, to machines'."""
        key = (client, hit.issue_id)
        seen = self._seen.get(key)
        if seen is None:
            seen = self._seen[key] = _Seen()
            if len(self._seen) > self.clients:
                self._seen.popitem(last=False)
        else:
            self._seen.move_to_end(key)
        cutoff = hit.at - self.window
        while seen.hits and seen.hits[0].at < cutoff:
            gone = seen.hits.popleft().position
            left = seen.links[gone] - 1
            if left:
                seen.links[gone] = left
            else:
                del seen.links[gone]
        seen.hits.append(hit)
        seen.links[hit.position] = seen.links.get(hit.position, 0) + 1
        seen.trapped = seen.trapped or trap
        verdict = TRAP if seen.trapped else BURST if len(seen.links) >= self.burst_links else None
        if verdict is None:
            seen.marked = None
        elif verdict == seen.marked:
            _mark((hit,), verdict)  # the others carry it already
        else:
            _mark(seen.hits, verdict)
            seen.marked = verdict


def _mark(hits: Iterable[Hit], verdict: str) -> None:
    # A prefetch or a scanner keeps its own name: it says more than "burst" or "trap".
    for hit in hits:
        if hit.verdict == HUMAN or (verdict == TRAP and hit.verdict == BURST):
            hit.verdict = verdict
