"""Benchmark: what the daily digest and story-email jobs cost beside the weekly build.

N readers (default 100,000): half read the asylum topic as a daily digest, a tenth each story as
it is published, the rest weekly. A week of posts; yesterday's daily digest and the story emails
so far already planned (their receipts written, as a send writes them). Timed in the same run,
median of --rounds:
  - the weekly build (the peer: `build_issue`, compose and render every variant);
  - the daily build (`build_daily`: which posts some daily reader is owed, then the same render);
  - a minute of the story job with nothing new (`story_posts`, what runs every minute);
  - a minute with one new story (`story_posts` finding it and what readers new to the cadence
    still lack among the week's story emails).
Prints each, and the daily build and the quiet minute as ratios to the weekly build.
Run: .venv/bin/python bench/cadences.py [--subscribers 100000] [--rounds 3]
     [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/EMPTY_DB]
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import one_topic_site
from sqlalchemy import delete, insert, select, update

from newsletter import migrate
from newsletter.clock import FixedClock
from newsletter.deliver.plan import plan
from newsletter.digest.build import build_issue
from newsletter.digest.cadence import build_daily, build_story, catch_up_since, story_posts
from newsletter.editors import review
from newsletter.models import Issue, IssueStatus, Post
from newsletter.pipeline.receipts import receipt_keys
from newsletter.pipeline.send import variant_renderer
from newsletter.runtime import Runtime
from subscribers.models import Cadence, Subscriber, SubscriberTopic
from tests import factories

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)  # a Friday, 07:00 in New York


def _setup(runtime: Runtime, count: int) -> None:
    with runtime.sessions.begin() as session:
        topics = factories.add_topics(session, runtime.settings, NOW)
        for n in range(40):
            at = NOW - timedelta(hours=4 * n + 2)
            factories.add_post(session, f"story-{n}", at, [topics["asylum"]], first_seen_at=at)
        asylum = topics["asylum"].id
    factories.insert_readers(runtime.sessions, count, NOW)
    with runtime.sessions.begin() as session:
        ids = list(session.scalars(select(Subscriber.id).order_by(Subscriber.id)))
        for start in range(0, len(ids), 20_000):
            rows = []
            for n, subscriber_id in enumerate(ids[start : start + 20_000], start=start):
                often = Cadence.DAILY if n % 2 else Cadence.EACH if n % 10 == 0 else Cadence.WEEKLY
                rows.append({"subscriber_id": subscriber_id, "topic_id": asylum, "cadence": often})
            session.execute(insert(SubscriberTopic), rows)
    # Yesterday's daily digest and the week's story emails, planned: their readers' receipts.
    yesterday = NOW - timedelta(days=1)
    with runtime.sessions.begin() as session:
        daily = build_daily(session, runtime.settings, yesterday, yesterday, runtime.signing_key)
        assert daily is not None
        review.approve(daily, "bench", yesterday, yesterday)
        since = catch_up_since(session, runtime.settings, NOW)
        fresh, _ = story_posts(session, since, NOW)
        earlier = NOW - timedelta(hours=1)
        stories = [post for post in fresh if post.first_seen_at < earlier]
        story = build_story(session, runtime.settings, stories, [], since, earlier, None)
        review.approve(story, "bench", earlier, earlier)
        daily_id, story_id = daily.id, story.id
    plan(runtime.sessions, daily_id, yesterday, variant_renderer(runtime), receipt_keys())
    plan(runtime.sessions, story_id, NOW, variant_renderer(runtime), receipt_keys())
    with runtime.sessions.begin() as session:
        session.execute(
            update(Issue)
            .where(Issue.id.in_([daily_id, story_id]))
            .values(status=IssueStatus.SENT, sending_started_at=NOW, sent_at=NOW)
        )


def _timed(action: Callable[[], None], rounds: int) -> float:
    times = []
    for _ in range(rounds):
        began = time.perf_counter()
        action()
        times.append(time.perf_counter() - began)
    return statistics.median(times)


def main() -> None:
    args = one_topic_site.arguments(__doc__)
    with tempfile.TemporaryDirectory() as folder:
        settings = one_topic_site.settings(
            folder, args.database_url, digest={"cadences": ["weekly", "daily", "each"]}
        )
        url = settings.database_url
        runtime = Runtime.build(settings, clock=FixedClock(NOW))
        migrate.upgrade(runtime.engine)
        _setup(runtime, args.subscribers)

        def weekly() -> None:
            with runtime.sessions.begin() as session:
                build_issue(session, runtime.settings, NOW, click_key=runtime.signing_key)
                session.rollback()

        def daily() -> None:
            with runtime.sessions.begin() as session:
                built = build_daily(session, runtime.settings, NOW, NOW, runtime.signing_key)
                assert built is not None
                session.rollback()

        def quiet_minute() -> None:
            with runtime.sessions() as session:
                fresh, _ = story_posts(session, catch_up_since(session, settings, NOW), NOW)
                assert fresh == []

        def new_story() -> None:
            with runtime.sessions.begin() as session:
                asylum = factories.add_topics(session, runtime.settings, NOW)["asylum"]
                factories.add_post(session, "breaking", NOW, [asylum], first_seen_at=NOW)
                fresh, _ = story_posts(session, catch_up_since(session, settings, NOW), NOW)
                assert len(fresh) == 1
                session.rollback()

        peer = _timed(weekly, args.rounds)
        daily_s = _timed(daily, args.rounds)
        quiet = _timed(quiet_minute, args.rounds)
        story = _timed(new_story, args.rounds)
        with runtime.sessions.begin() as session:
            session.execute(delete(Post).where(Post.url.contains("/breaking/")))
        runtime.close()
    dialect = url.split(":", 1)[0].split("+")[0]
    print(f"{args.subscribers:,} subscribers on {dialect}, median of {args.rounds}")
    print(f"  weekly build (peer):                  {peer:8.3f} s")
    print(f"  daily build:                          {daily_s:8.3f} s  ({daily_s / peer:.2f}x)")
    print(f"  story job, a minute with nothing new: {quiet:8.3f} s  ({quiet / peer:.3f}x)")
    print(f"  story job, a minute with a new story: {story:8.3f} s  ({story / peer:.2f}x)")


if __name__ == "__main__":
    main()
