"""The counters this process keeps for /metrics; the rest is read from the database when scraped."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter

# The service's own registry: nothing of the library's process defaults, and nothing twice
# when tests build many apps in one process.
REGISTRY = CollectorRegistry()
FEED_ANSWERS = Counter(
    "newsletter_feed_requests",
    "Feed requests answered by this process, by HTTP status (304: the reader had it already).",
    ["status"],
    registry=REGISTRY,
)
SIGNUPS = Counter(
    "newsletter_signups",
    "Signups taken by this process (each queued for a confirmation email).",
    registry=REGISTRY,
)
CONFIRMATIONS = Counter(
    "newsletter_confirmations",
    "Subscribers who confirmed their address through this process.",
    registry=REGISTRY,
)
