"""Batch tasks run side by side (as Celery runs them, minus the broker): everyone exactly once."""

from __future__ import annotations

import queue
import threading
from collections import Counter

import pytest

from newsletter.config import RelaySettings, Settings
from newsletter.deliver.relays import relays_for
from newsletter.deliver.send import send_issue
from newsletter.deliver.state import pause, start
from newsletter.deliver.tasks import run_lane, shared_relays
from newsletter.deliver.throttle import Throttle
from newsletter.errors import SendError
from newsletter.mail.transport import SmtpTransport
from newsletter.models import Issue, IssueStatus
from newsletter.runtime import Runtime
from tests.deliver.conftest import make_world, with_delivery
from tests.smtpd import SmtpServer, smtp_server


def _runtime(runtime: Runtime, **delivery: object) -> Runtime:
    return with_delivery(
        runtime, **{"connections": 2, "batch_size": 5, "claim_size": 7, **delivery}
    )


def _lanes(runtime: Runtime, issue_id: int, url: str, lanes: int = 3) -> list[str]:
    """Run `lanes` chains of tasks on threads until every chain ends, as workers would."""
    tasks: queue.Queue[int] = queue.Queue()
    for _ in range(lanes):
        tasks.put(issue_id)
    said: list[str] = []

    def worker() -> None:
        relays = relays_for(runtime.settings, lambda: SmtpTransport.from_url(url, timeout=5))
        while True:
            try:
                tasks.get(timeout=2)
            except queue.Empty:
                return
            said.append(run_lane(runtime, issue_id, lambda _: tasks.put(issue_id), relays))

    threads = [threading.Thread(target=worker) for _ in range(lanes)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return said


def test_lanes_send_everyone_once_and_the_last_marks_it_sent(
    runtime: Runtime, smtp: SmtpServer
) -> None:
    world = make_world(runtime, count=60)
    fast = _runtime(runtime)
    start(fast, world.issue_id, lambda *_: None)
    said = _lanes(fast, world.issue_id, smtp.url)
    counts = Counter(r for received in smtp.received for r in received.recipients)
    assert counts == Counter(dict.fromkeys(world.eligible, 1))
    assert sum("sent a batch" in line for line in said) >= 60 // 7
    with runtime.sessions() as session:
        issue = session.get(Issue, world.issue_id)
        assert issue is not None
        assert issue.status == IssueStatus.SENT


def test_a_pause_stops_every_lane_and_send_resumes(runtime: Runtime) -> None:
    world = make_world(runtime, count=40)
    fast = _runtime(runtime, claim_size=3)
    start(fast, world.issue_id, lambda *_: None)
    with smtp_server() as smtp:
        smtp.faults.delay = 0.01
        smtp.faults.hold_after = 5  # so the pause surely comes mid-send

        def pause_soon() -> None:
            smtp.wait_until_held()
            assert pause(fast, world.issue_id, "paused by an editor")
            smtp.release()

        pauser = threading.Thread(target=pause_soon)
        pauser.start()
        said = _lanes(fast, world.issue_id, smtp.url)
        pauser.join()
        first = Counter(r for received in smtp.received for r in received.recipients)
        assert any("is paused" in line for line in said)
        assert len(first) < len(world.eligible)
        with runtime.sessions() as session:
            issue = session.get(Issue, world.issue_id)
            assert issue is not None
            assert issue.status == IssueStatus.PAUSED
        start(fast, world.issue_id, lambda *_: None)  # what `digest send` does to resume
        _lanes(fast, world.issue_id, smtp.url)
        counts = Counter(r for received in smtp.received for r in received.recipients)
    assert counts == Counter(dict.fromkeys(world.eligible, 1))


def test_limits_across_workers_need_redis(settings: Settings) -> None:
    limited = settings.model_copy(
        update={"delivery": settings.delivery.model_copy(update={"rate_per_second": 5.0})}
    )
    with pytest.raises(SendError, match="need Redis"):
        shared_relays(limited)
    [relay] = shared_relays(settings)  # no limit: nothing to share
    assert isinstance(relay.limiter, Throttle)


def test_several_relays_share_the_list_each_within_its_own_limit(runtime: Runtime) -> None:
    world = make_world(runtime, count=40)
    with smtp_server() as fast, smtp_server() as slow:
        relays = [
            RelaySettings(name="fast", url=fast.url, connections=2),
            RelaySettings(name="slow", url=slow.url, rate_per_second=20.0, connections=1),
        ]
        configured = _runtime(runtime, relays=relays, claim_size=50)
        result = send_issue(configured, world.issue_id)
        assert result.status == IssueStatus.SENT
        got = Counter(r for server in (fast, slow) for m in server.received for r in m.recipients)
        assert got == Counter(dict.fromkeys(world.eligible, 1))
        assert fast.received
        assert slow.received
        # Paced 1/20 s apart when handed over; the first also waited for the connection to open,
        # so one interval of slack at the server.
        times = sorted(m.at for m in slow.received)
        assert times[-1] - times[0] >= (len(times) - 2) / 20.0
