"""The job functions on a fake clock: build, hold or send at the local send time, resume."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import HttpUrl
from sqlalchemy import select

from newsletter import catalog
from newsletter.clock import FixedClock
from newsletter.config import SourceSettings
from newsletter.deliver.send import send_issue
from newsletter.editors import review
from newsletter.errors import CollectError, ScheduleError
from newsletter.models import Issue, IssueStatus
from newsletter.runtime import Runtime
from newsletter.schedule import jobs
from subscribers.models import RateLimit, Status, Subscriber
from subscribers.ratelimit import DatabaseStore
from tests import factories
from tests.pipeline.archive import archive_links
from tests.schedule.conftest import EDITOR, READERS, Week, fill


def _issue(runtime: Runtime) -> Issue:
    with runtime.sessions() as session:
        issue = session.scalars(select(Issue)).one()
        session.expunge(issue)
        return issue


def _build(week: Week, at: datetime) -> Issue:
    week.clock.at = at
    fill(week.runtime, at)
    summary = jobs.build(week.runtime, week.transport())
    assert "built draft" in summary
    assert "told 1 editor" in summary
    return _issue(week.runtime)


def test_build_emails_the_editors_a_link_to_the_preview(week: Week) -> None:
    issue = _build(week, datetime(2026, 3, 5, 14, 0, tzinfo=UTC))  # Thu 09:00 EST
    [notice] = week.notices()
    assert f"Draft {issue.key} is ready" in notice["Subject"]
    body = notice.get_content()
    assert f"https://news.example.org/admin/issues/{issue.id}" in body
    assert "Beyond A Border Solution" in body
    assert "Fri 06 Mar 2026 10:00 EST" in body
    assert week.digests() == []


@pytest.mark.parametrize(
    ("built", "naive_utc_slot", "local_slot_utc"),
    [
        # Built on the Saturday before clocks go forward: the next Friday 10:00 is EDT.
        (datetime(2026, 3, 7, 15, 0, tzinfo=UTC), 15, 14),
        # Built on the Saturday before clocks go back: the next Friday 10:00 is EST.
        (datetime(2026, 10, 31, 14, 0, tzinfo=UTC), 14, 15),
    ],
)
def test_an_approved_issue_goes_out_at_ten_local_across_dst(
    week: Week, built: datetime, naive_utc_slot: int, local_slot_utc: int
) -> None:
    week.runtime.settings.digest.auto_send = True
    issue = _build(week, built)
    friday = (built + timedelta(days=6)).replace(minute=0)
    stop = threading.Event()
    # A week later by UTC arithmetic is the wrong hour on one side: nothing may go out then.
    if naive_utc_slot < local_slot_utc:
        week.clock.at = friday.replace(hour=naive_utc_slot)
        assert jobs.send_due(week.runtime, week.transport(), stop) == "nothing due"
    week.clock.at = friday.replace(hour=local_slot_utc) - timedelta(minutes=1)
    assert jobs.send_due(week.runtime, week.transport(), stop) == "nothing due"
    assert week.digests() == []
    week.clock.at = friday.replace(hour=local_slot_utc)
    summary = jobs.send_due(week.runtime, week.transport(), stop)
    assert "approved automatically" in summary
    assert f"issue {issue.id}: sent; sent 3" in summary
    assert sorted(m["X-Envelope-To"] for m in week.digests()) == sorted(READERS)
    sent = _issue(week.runtime)
    assert sent.status == IssueStatus.SENT
    assert sent.sent_at is not None
    assert sent.sent_at.astimezone(week.runtime.settings.zone).hour == 10
    # The next minute's run finds nothing: sent once, never twice.
    week.clock.advance(timedelta(minutes=1))
    assert jobs.send_due(week.runtime, week.transport(), stop) == "nothing due"
    assert len(week.digests()) == 3


def test_an_unapproved_draft_is_held_and_editors_are_told_once(week: Week) -> None:
    issue = _build(week, datetime(2026, 11, 5, 14, 0, tzinfo=UTC))  # Thu 09:00 EST
    week.clock.at = datetime(2026, 11, 6, 15, 0, tzinfo=UTC)  # Fri 10:00 EST
    summary = jobs.send_due(week.runtime, week.transport(), threading.Event())
    assert f"issue {issue.key} held (no publisher approved it by its send time)" in summary
    held = _issue(week.runtime)
    assert held.status == IssueStatus.DRAFT
    assert held.held_at == week.clock.at
    assert held.status_reason
    assert held.status_reason.startswith("held:")
    notices = [m for m in week.notices() if "held" in m["Subject"]]
    assert len(notices) == 1
    assert "Fri 06 Nov 2026 10:00 EST" in notices[0].get_content()
    week.clock.advance(timedelta(minutes=1))
    assert jobs.send_due(week.runtime, week.transport(), threading.Event()) == "nothing due"
    assert len([m for m in week.notices() if "held" in m["Subject"]]) == 1
    assert week.digests() == []


def test_send_now_after_a_hold_sends(week: Week) -> None:
    _build(week, datetime(2026, 11, 5, 14, 0, tzinfo=UTC))
    week.clock.at = datetime(2026, 11, 6, 15, 0, tzinfo=UTC)
    jobs.send_due(week.runtime, week.transport(), threading.Event())
    week.clock.advance(timedelta(hours=2))
    with week.runtime.sessions.begin() as session:
        issue = session.scalars(select(Issue)).one()
        review.send_now(issue, EDITOR, week.clock.now())
    summary = jobs.send_due(week.runtime, week.transport(), threading.Event())
    assert ": sent; sent 3" in summary
    assert len(week.digests()) == 3


def test_an_approved_send_missed_beyond_the_grace_period_is_held_not_sent(week: Week) -> None:
    _build(week, datetime(2026, 11, 5, 14, 0, tzinfo=UTC))
    with week.runtime.sessions.begin() as session:
        issue = session.scalars(select(Issue)).one()
        slot = datetime(2026, 11, 6, 15, 0, tzinfo=UTC)
        review.approve(issue, EDITOR, week.clock.now(), slot)
    # The service was down from before the send time until two days later.
    week.clock.at = datetime(2026, 11, 8, 15, 0, tzinfo=UTC)
    summary = jobs.send_due(week.runtime, week.transport(), threading.Event())
    assert "held (its send time passed more than 12 hours ago" in summary
    assert week.digests() == []
    assert _issue(week.runtime).status == IssueStatus.APPROVED
    # Within the grace period instead, it goes out once.
    with week.runtime.sessions.begin() as session:
        issue = session.scalars(select(Issue)).one()
        issue.send_at = week.clock.now() - timedelta(hours=3)
    assert ": sent; sent 3" in jobs.send_due(week.runtime, week.transport(), threading.Event())


def test_a_send_interrupted_by_a_restart_resumes_without_sending_twice(week: Week) -> None:
    _build(week, datetime(2026, 3, 12, 13, 0, tzinfo=UTC))
    week.runtime.settings.delivery.connections = 1
    week.runtime.settings.delivery.batch_size = 1
    # Slow enough that the stop comes while the next message waits for its turn.
    week.runtime.settings.delivery.rate_per_second = 0.2
    with week.runtime.sessions.begin() as session:
        issue = session.scalars(select(Issue)).one()
        review.send_now(issue, EDITOR, week.clock.now())
        issue_id = issue.id
    stop = threading.Event()
    sent: list[int] = []

    class StopAfterOne:
        def __init__(self) -> None:
            self.inner = week.transport()()

        def send(self, sender: str, recipients: list[str], message: bytes) -> None:
            self.inner.send(sender, recipients, message)
            sent.append(1)
            stop.set()  # SIGTERM arrives while the first message is handed over

        def close(self) -> None:
            self.inner.close()

    result = send_issue(week.runtime, issue_id, StopAfterOne, stop=stop)
    assert result.status == IssueStatus.SENDING
    assert len(week.digests()) == 1
    assert sent == [1]
    week.runtime.settings.delivery.rate_per_second = 0
    # The next serve's send job picks it up and sends only the rest.
    summary = jobs.send_due(week.runtime, week.transport(), threading.Event())
    assert f"issue {issue_id}: sent; sent 3" in summary
    assert sorted(m["X-Envelope-To"] for m in week.digests()) == sorted(READERS)


def test_collect_job_reports_and_fails_only_when_every_source_fails(runtime: Runtime) -> None:
    # Nothing configured is not an error.
    assert jobs.collect(runtime) == "0 sources: 0 new, 0 updated posts"
    runtime.settings.sources = [
        SourceSettings(name="gone", kind="feed", url=HttpUrl("http://127.0.0.1:9/feed.xml"))
    ]
    with runtime.sessions.begin() as session:
        catalog.sync(session, runtime.settings, runtime.clock.now())
    runtime.settings.collect.retries = 0
    runtime.settings.collect.timeout = 2
    with pytest.raises(CollectError, match="gone"):
        jobs.collect(runtime)


def test_tidy_forgets_only_rate_limit_windows_that_have_ended(runtime: Runtime) -> None:
    now = datetime(2026, 3, 5, 3, 17, tzinfo=UTC)
    runtime.clock = FixedClock(now)
    window = timedelta(minutes=runtime.settings.subscribers.rate_limit_window_minutes)
    store = DatabaseStore(runtime.sessions)
    store.hit("subscribe-email:old@example.org", now - window - timedelta(minutes=1), window)
    store.hit("subscribe-email:new@example.org", now - timedelta(minutes=1), window)

    assert jobs.tidy(runtime) == (
        "forgot 1 expired rate-limit counters; deleted 0 unconfirmed signups "
        "and 0 webhook deliveries settled over 30 days ago"
    )

    with runtime.sessions() as session:
        assert list(session.scalars(select(RateLimit.key))) == ["subscribe-email:new@example.org"]
    # The address still within its window keeps its count.
    assert store.hit("subscribe-email:new@example.org", now, window) == 2


def test_entry_points_need_a_scheduler_holding_the_lease() -> None:
    with pytest.raises(ScheduleError, match="no scheduler holds the lease"):
        jobs.send_job()


def test_with_a_broker_a_due_issue_is_queued_once_for_the_workers(
    week: Week, redis_url: str, redis_prefix: str
) -> None:
    settings = week.runtime.settings
    week.runtime.settings = settings.model_copy(
        update={
            "broker_url": redis_url,
            "delivery": settings.delivery.model_copy(update={"redis_prefix": redis_prefix}),
        }
    )
    issue = _build(week, datetime(2026, 11, 26, 14, 0, tzinfo=UTC))
    with week.runtime.sessions.begin() as session:
        stored = session.get(Issue, issue.id)
        assert stored is not None
        review.approve(stored, EDITOR, week.clock.now(), week.clock.now())

    first = jobs.send_due(week.runtime, week.transport(), threading.Event())
    again = jobs.send_due(week.runtime, week.transport(), threading.Event())

    lanes = settings.delivery.lanes
    assert first == f"issue {issue.id}: queued {lanes} batch tasks for the workers"
    assert again == f"issue {issue.id}: being sent by the workers"
    assert week.digests() == []  # nothing went out from the scheduler's own process
    assert _issue(week.runtime).status == IssueStatus.SENDING
    import redis

    client = redis.Redis.from_url(redis_url)
    assert client.llen(redis_prefix) == lanes  # the Celery queue holds the batch tasks
    client.close()


def test_a_scheduled_send_lists_the_issue_in_the_archive_feed(week: Week) -> None:
    issue = _build(week, datetime(2026, 3, 12, 13, 0, tzinfo=UTC))
    with week.runtime.sessions.begin() as session:
        stored = session.get(Issue, issue.id)
        assert stored is not None
        review.send_now(stored, EDITOR, week.clock.now())
    assert archive_links(week.runtime) == []
    summary = jobs.send_due(week.runtime, week.transport(), threading.Event())
    assert f"issue {issue.id}: sent; sent 3" in summary
    assert archive_links(week.runtime) == [f"https://news.example.org/archive/{issue.key}"]


def test_tidy_deletes_only_signups_left_unconfirmed_too_long(runtime: Runtime) -> None:
    now = datetime(2026, 3, 5, 3, 17, tzinfo=UTC)
    runtime.clock = FixedClock(now)
    days = runtime.settings.subscribers.prune_unconfirmed_days
    old, recent = now - timedelta(days=days, minutes=1), now - timedelta(days=days - 1)
    with runtime.sessions.begin() as session:
        session.add_all(
            [
                factories.subscriber("stale@example.org", old, status=Status.PENDING),
                factories.subscriber("fresh@example.org", recent, status=Status.PENDING),
                factories.subscriber("reader@example.org", old),
                # Confirmed once, unsubscribed, signed up again and not yet confirmed: kept.
                factories.subscriber(
                    "back@example.org", old, status=Status.PENDING, confirmed_at=old
                ),
            ]
        )
    assert "; deleted 1 unconfirmed signups and" in jobs.tidy(runtime)
    with runtime.sessions() as session:
        left = set(session.scalars(select(Subscriber.email)))
    assert left == {"fresh@example.org", "reader@example.org", "back@example.org"}
    runtime.settings.subscribers.prune_unconfirmed_days = 0
    runtime.clock = FixedClock(now + timedelta(days=365))
    assert "; deleted 0 unconfirmed signups and" in jobs.tidy(runtime)


def test_the_clicks_job_folds_nothing_on_a_fresh_database(runtime: Runtime) -> None:
    days = runtime.settings.analytics.retention_days
    assert jobs.clicks(runtime) == (
        f"folded 0 click events older than {days} days into the hourly counts"
    )
