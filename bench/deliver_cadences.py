"""bench/deliver.py --cadences: a weekly digest, then a daily one with the story stream beside it.

One database holds three sets of readers, each following one topic at one cadence: N weekly, N
daily and N/10 each-story (--count N). A weekly issue, two daily issues and a pool of single-story
issues are stored approved, each with its posts (IssuePost) and one variant keyed by the readers'
topic whose `post_ids` are set, so planning writes a receipt per reader and story as a real send
does. Each is sent by the real `newsletter digest send` command to Postfix's smtp-sink:
  1. the weekly issue alone (`--processes N`, as the plain bench), then the day before's daily
     issue alone (other posts, the same copy), to tell the kind's cost from the stream's;
  2. the daily issue (`--processes N`) while, beside it, the story issues are sent one after
     another, each by its own `digest send --processes 1`, for as long as the daily send runs
     (at least MIN_STORIES);
  3. smtp-source, the absolute peer, as many messages of the weekly's size with 20 sessions.
It prints each rate, daily/weekly (the claim: about 1), the daily send and stream together, and
checks from the database that every message it counts was sent and carried its receipts (one
per reader and story shown). Each send meets the rows of those before it (deliveries, receipts),
as on a real day; the daily sends come after the weekly one, so they meet more.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import deliver
from sqlalchemy import func, insert, literal, select
from sqlalchemy.orm import Session

from newsletter import migrate
from newsletter.config import load_settings
from newsletter.models import (
    Delivery,
    DeliveryStatus,
    Issue,
    IssueKind,
    IssuePost,
    IssueStatus,
    Post,
    StoryReceipt,
    Topic,
)
from newsletter.runtime import Runtime
from subscribers.models import Cadence, Subscriber, SubscriberTopic
from tests import factories

NOW = deliver.NOW
TOPIC = "border-enforcement"
DIGEST_POSTS = 12  # the stories the weekly and daily copies show (deliver.variant's teasers)
STORY_POOL = 60  # single-story issues stored; the stream sends as many as the daily send lasts
MIN_STORIES = 3


@dataclass(frozen=True)
class Prepared:
    weekly: int
    daily_alone: int  # the day before's daily issue, other posts, sent with nothing beside it
    daily: int
    stories: list[int]
    each_readers: int


@dataclass
class Stream:
    """What the story stream sent beside the daily send."""

    stories: int = 0
    begun_during_daily: int = 0
    messages: int = 0
    seconds: float = 0.0
    error: str | None = None

    @property
    def rate(self) -> float:
        return self.messages / self.seconds if self.seconds else 0.0


def _readers(runtime: Runtime, count: int, cadence: Cadence, topic_id: int, domain: str) -> None:
    """`count` readers at `domain`, each following the topic at `cadence` (one topic row each)."""
    factories.insert_readers(runtime.sessions, count, NOW, domain)
    chosen = select(Subscriber.id, literal(topic_id), literal(cadence.value)).where(
        Subscriber.email.like(f"%@{domain}")
    )
    with runtime.sessions.begin() as session:
        session.execute(
            insert(SubscriberTopic).from_select(["subscriber_id", "topic_id", "cadence"], chosen)
        )


def _issue(
    session: Session,
    key: str,
    kind: IssueKind,
    subject: str,
    body: tuple[str, str],
    posts: list[Post],
    period: timedelta,
) -> int:
    """An approved issue of `kind` carrying `posts`, its one copy for the topic's readers."""
    copy = factories.variant(NOW, *body, subject=subject, topic_key=TOPIC)
    copy.post_ids = ",".join(str(post.id) for post in posts)
    issue = factories.issue(
        NOW, key=key, status=IssueStatus.APPROVED, subject=subject, variants=[copy], kind=kind
    )
    issue.period_start = NOW - period
    issue.approved_at = NOW
    issue.posts = [IssuePost(post_id=post.id, position=n) for n, post in enumerate(posts)]
    session.add(issue)
    session.flush()
    return issue.id


def prepare(url: str, var: Path, count: int) -> Prepared:
    settings = load_settings(database_url=url, var_dir=var)
    runtime = Runtime.build(settings)
    migrate.upgrade(runtime.engine)
    each_readers = max(count // 10, 1)
    with runtime.sessions.begin() as session:
        topic = Topic(slug=TOPIC, name="Border enforcement")
        session.add(topic)
        session.flush()
        topic_id = topic.id
        digest_posts = [
            factories.add_post(session, f"story-{n}", NOW - timedelta(hours=n + 1), [topic])
            for n in range(DIGEST_POSTS)
        ]
        body = deliver.variant()
        weekly = _issue(
            session,
            "2026-W48",
            IssueKind.WEEKLY,
            "This week in border enforcement",
            body,
            digest_posts,
            timedelta(days=7),
        )
        daily = _issue(
            session,
            "2026-11-27-daily",
            IssueKind.DAILY,
            "Today in border enforcement",
            body,
            digest_posts,
            timedelta(hours=36),
        )
        # The same copy (so the same size), its receipts for 12 other posts.
        earlier_posts = [
            factories.add_post(session, f"earlier-{n}", NOW - timedelta(days=1, hours=n), [topic])
            for n in range(DIGEST_POSTS)
        ]
        daily_alone = _issue(
            session,
            "2026-11-26-daily",
            IssueKind.DAILY,
            "Today in border enforcement",
            body,
            earlier_posts,
            timedelta(hours=36),
        )
        stories = []
        for n in range(DIGEST_POSTS, DIGEST_POSTS + STORY_POOL):
            post = factories.add_post(session, f"story-{n}", NOW - timedelta(minutes=n), [topic])
            stories.append(
                _issue(
                    session,
                    f"2026-11-27-story-{post.id}",
                    IssueKind.STORY,
                    f"Story {n}: the new border enforcement rules",
                    deliver.variant(range(n, n + 1)),
                    [post],
                    timedelta(minutes=15),
                )
            )
    _readers(runtime, count, Cadence.WEEKLY, topic_id, "weekly.example.net")
    _readers(runtime, count, Cadence.DAILY, topic_id, "daily.example.net")
    _readers(runtime, each_readers, Cadence.EACH, topic_id, "each.example.net")
    runtime.close()
    return Prepared(weekly, daily_alone, daily, stories, each_readers)


def _send(env: dict[str, str], issue_id: int, processes: int) -> subprocess.Popen[bytes]:
    newsletter = str(Path(sys.executable).parent / "newsletter")
    command = [newsletter, "digest", "send", str(issue_id), "--processes", str(processes)]
    return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)


def _timed(env: dict[str, str], issue_id: int, processes: int, count: int) -> float:
    """Messages per second of one issue's `digest send` with nothing beside it."""
    start = time.perf_counter()
    if _send(env, issue_id, processes).wait() != 0:
        raise SystemExit(f"digest send {issue_id} failed")
    return count / (time.perf_counter() - start)


def _run_stream(
    env: dict[str, str], prepared: Prepared, daily_done: threading.Event, stream: Stream
) -> None:
    """Send story issues one after another until the daily send is done (and MIN_STORIES)."""
    start = time.perf_counter()
    for issue_id in prepared.stories:
        if daily_done.is_set() and stream.stories >= MIN_STORIES:
            break
        if not daily_done.is_set():
            stream.begun_during_daily += 1
        code = _send(env, issue_id, 1).wait()
        if code != 0:
            stream.error = f"digest send {issue_id} exited with {code}"
            break
        stream.stories += 1
        stream.messages += prepared.each_readers
    stream.seconds = time.perf_counter() - start
    if not daily_done.is_set() and stream.error is None:
        stream.error = f"all {len(prepared.stories)} stories sent before the daily send ended"


def _load() -> str:
    """The machine's load averages: other work on it slows every rate here."""
    one, five, _ = os.getloadavg()
    return f"load average {one:.2f} (1 min), {five:.2f} (5 min)"


def _tally(url: str, var: Path) -> tuple[dict[str, int], dict[str, int]]:
    """Sent deliveries and story receipts by issue kind, as the database has them."""
    runtime = Runtime.build(load_settings(database_url=url, var_dir=var))
    with runtime.sessions() as session:
        sent = session.execute(
            select(Issue.kind, func.count())
            .join(Delivery, Delivery.issue_id == Issue.id)
            .where(Delivery.status == DeliveryStatus.SENT)
            .group_by(Issue.kind)
        )
        receipts = session.execute(
            select(Issue.kind, func.count())
            .join(StoryReceipt, StoryReceipt.issue_id == Issue.id)
            .group_by(Issue.kind)
        )
        counts = {str(kind): int(n) for kind, n in sent}, {str(k): int(n) for k, n in receipts}
    runtime.close()
    return counts


def main_cadences(args: argparse.Namespace) -> None:
    count = args.count or 100_000
    processes = args.processes or os.cpu_count() or 1
    html, text = deliver.variant()
    size = len(html) * 1.1 + len(text) * 1.1 + 1500  # as deliver.main estimates it
    port = deliver.free_port()
    sink = deliver.start_sink(args.postfix, port)
    stream = Stream()
    with tempfile.TemporaryDirectory() as folder:
        var = Path(folder) / "var"
        url = args.database_url or f"sqlite:///{folder}/bench.db"
        schema = f"bench_cadences_{os.getpid()}"
        if url.startswith("postgresql"):
            url = deliver._schema_url(args.database_url, schema)
        try:
            print(f"setting up {count:,} weekly, {count:,} daily readers ...", flush=True)
            prepared = prepare(url, var, count)
            env = deliver.sender_env(url, var, port, args.connections)
            print(
                f"{count:,} readers per digest, {prepared.each_readers:,} each-story readers, "
                f"{os.cpu_count()} CPUs, {url.split(':')[0]}, Postfix smtp-sink; {_load()}",
                flush=True,
            )
            weekly = _timed(env, prepared.weekly, processes, count)
            alone = _timed(env, prepared.daily_alone, processes, count)

            daily_done = threading.Event()
            beside = threading.Thread(target=_run_stream, args=(env, prepared, daily_done, stream))
            start = time.perf_counter()
            sender = _send(env, prepared.daily, processes)
            beside.start()
            code = sender.wait()
            daily = count / (time.perf_counter() - start)
            daily_done.set()
            beside.join()
            together = (count + stream.messages) / (time.perf_counter() - start)
            if code != 0:
                raise SystemExit("daily digest send failed")
            if stream.error:
                raise SystemExit(f"story stream: {stream.error}")
            sent, receipts = _tally(url, var)
            theirs = deliver.smtp_source(args.postfix, port, count, int(size))
        finally:
            sink.terminate()
            sink.wait()
            if url.startswith("postgresql"):
                deliver._drop_schema(args.database_url, schema)
    expected = {"weekly": count, "daily": 2 * count, "story": stream.messages}
    if sent != expected:
        raise SystemExit(f"sent deliveries by kind {sent}, expected {expected}")
    shown = {kind: n * (1 if kind == "story" else DIGEST_POSTS) for kind, n in expected.items()}
    if receipts != shown:
        raise SystemExit(f"story receipts by kind {receipts}, expected {shown}")
    each = f"{processes} processes, {args.connections} connections each"
    print(f"messages:               {count:,} per digest of about {int(size):,} bytes")
    print(f"weekly digest alone:    {weekly:,.0f} msg/s ({each}), ratio {weekly / theirs:.2f}")
    print(f"daily digest alone:     {alone:,.0f} msg/s ({each}), ratio {alone / theirs:.2f}")
    print(f"daily digest + stream:  {daily:,.0f} msg/s ({each}), ratio {daily / theirs:.2f}")
    print(
        f"story stream beside it: {stream.rate:,.0f} msg/s ({stream.stories} stories × "
        f"{prepared.each_readers:,} readers in {stream.seconds:.1f} s, one `digest send "
        f"--processes 1` each, {stream.begun_during_daily} begun while the daily send ran)"
    )
    print(
        f"daily and stream:       {together:,.0f} msg/s together, from the daily send's start "
        "to the stream's end"
    )
    print(f"postfix smtp-source:    {theirs:,.0f} msg/s ({deliver.SINK_SESSIONS} sessions)")
    print(
        f"daily / weekly:         {daily / weekly:.2f} with the stream beside it "
        f"(the claim: about 1); {alone / weekly:.2f} alone"
    )
    print(f"at the end: {_load()}")
    print(f"sent, by the deliveries table: {sent}; story receipts written: {receipts}")
