"""Benchmark: what the receipts rule costs when a weekly issue's deliveries are planned.

One weekly issue planned for N subscribers (default 100,000), three ways in the same run, each
writing every reader's receipts: without the rule (the peer: deliver.plan's default seam, every
reader gets their topics' copy), with the rule when no reader has any of its stories (a query
per page of 1,000), and with the rule after a breaking-news email about one of its stories went
to everyone (every reader gets the copy without it: one more variant). Prints each median of
--rounds and its ratio to the peer.
Run: .venv/bin/python bench/receipts.py [--subscribers 100000] [--rounds 3]
     [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/EMPTY_DB]
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import one_topic_site
from sqlalchemy import delete, select, update

from newsletter import migrate
from newsletter.clock import FixedClock
from newsletter.deliver.plan import RecipientKeys, plan, same_keys
from newsletter.digest.build import build_issue
from newsletter.digest.special import WITHOUT
from newsletter.models import (
    Delivery,
    DeliveryStatus,
    Issue,
    IssueStatus,
    IssueVariant,
    StoryReceipt,
)
from newsletter.pipeline import special
from newsletter.pipeline.receipts import receipt_keys
from newsletter.pipeline.send import variant_renderer
from newsletter.runtime import Runtime
from tests import factories

NOW = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)


def _setup(runtime: Runtime, count: int) -> tuple[int, int]:
    """N readers, a week of posts, the weekly draft, and a breaking draft about its newest."""
    with runtime.sessions.begin() as session:
        topics = factories.add_topics(session, runtime.settings, NOW)
        for n in range(12):
            factories.add_post(
                session, f"story-{n}", NOW - timedelta(hours=3 + n), [topics["asylum"]]
            )
    factories.insert_readers(runtime.sessions, count, NOW)
    with runtime.sessions.begin() as session:
        weekly = build_issue(session, runtime.settings, NOW, click_key=runtime.signing_key)
    assert weekly.issue_id is not None
    breaking = special.create(
        runtime, special.SpecialDraft("breaking", post_url="https://news.example.org/story-0/")
    )
    return weekly.issue_id, breaking.issue_id


def _sent_to_everyone(runtime: Runtime, issue_id: int) -> None:
    """The breaking issue as if sent this morning: planned for every reader (with their
    receipts), then every delivery marked sent."""
    plan(runtime.sessions, issue_id, NOW, variant_renderer(runtime))
    with runtime.sessions.begin() as session:
        issue = session.get(Issue, issue_id)
        assert issue is not None
        issue.status, issue.sending_started_at, issue.sent_at = IssueStatus.SENT, NOW, NOW
        session.execute(
            update(Delivery)
            .where(Delivery.issue_id == issue_id)
            .values(status=DeliveryStatus.SENT, attempts=1, sent_at=NOW)
        )


def _timed(
    runtime: Runtime, issue_id: int, keys: Callable[[], RecipientKeys], rounds: int
) -> float:
    times = []
    for _ in range(rounds):
        with runtime.sessions.begin() as session:
            session.execute(delete(Delivery).where(Delivery.issue_id == issue_id))
            session.execute(delete(StoryReceipt).where(StoryReceipt.issue_id == issue_id))
            session.execute(
                delete(IssueVariant).where(
                    IssueVariant.issue_id == issue_id, IssueVariant.topic_key.contains(WITHOUT)
                )
            )
        began = time.perf_counter()
        plan(runtime.sessions, issue_id, NOW, variant_renderer(runtime), keys())
        times.append(time.perf_counter() - began)
    return statistics.median(times)


def main() -> None:
    args = one_topic_site.arguments(__doc__)
    with tempfile.TemporaryDirectory() as folder:
        settings = one_topic_site.settings(folder, args.database_url)
        url = settings.database_url
        runtime = Runtime.build(settings, clock=FixedClock(NOW))
        migrate.upgrade(runtime.engine)
        weekly, breaking = _setup(runtime, args.subscribers)
        peer = _timed(runtime, weekly, lambda: same_keys, args.rounds)
        quiet = _timed(runtime, weekly, receipt_keys, args.rounds)
        _sent_to_everyone(runtime, breaking)
        shared = _timed(runtime, weekly, receipt_keys, args.rounds)
        with runtime.sessions() as session:
            rows = session.scalars(select(Delivery).where(Delivery.issue_id == weekly)).all()
            variants = {row.variant_id for row in rows}
        runtime.close()
    dialect = url.split(":", 1)[0].split("+")[0]
    print(f"{args.subscribers:,} subscribers on {dialect}, median of {args.rounds}")
    print(f"  plan without the rule (peer):          {peer:7.2f} s")
    print(f"  with the rule, no reader had a story:  {quiet:7.2f} s  ({quiet / peer:.2f}x)")
    print(
        f"  with the rule, everyone had a story:   {shared:7.2f} s  ({shared / peer:.2f}x; "
        f"{len(rows):,} planned on {len(variants)} variant)"
    )


if __name__ == "__main__":
    main()
