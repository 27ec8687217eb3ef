"""The send engine on its fakes (memory store, memory transport): fast, no server, no database.

The same behaviour against real SMTP, databases and processes: test_send.py, test_kill.py,
test_relay_faults.py, test_lanes.py and test_workers.py.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import timedelta

import pytest

from newsletter.clock import FixedClock
from newsletter.config import DeliverySettings
from newsletter.deliver.batch import Sender
from newsletter.deliver.breaker import Breaker
from newsletter.deliver.memory_store import MemoryDeliveryStore
from newsletter.deliver.message import IssueMessage, Rendered
from newsletter.deliver.plan import Counts
from newsletter.deliver.relays import Relay
from newsletter.deliver.store import Job, Outcome, Retry
from newsletter.deliver.tally import Progress, Tally
from newsletter.deliver.throttle import Throttle
from newsletter.digest.placeholders import html_marker, marker
from newsletter.errors import DeliveryError, PermanentFailure, TemporaryFailure, TransportFault
from newsletter.mail.transport import MemoryTransport
from newsletter.models import DeliveryStatus
from tests.deliver.conftest import NOW
from tests.deliver.test_message import SETUP

ISSUE = 7


def _message() -> IssueMessage:
    html = f"<p>Dear {html_marker('name')}</p><a href='{html_marker('unsubscribe_url')}'>x</a>"
    text = f"Dear {marker('name')}\nLeave: {marker('unsubscribe_url')}\n"
    return IssueMessage(SETUP, ISSUE, "This week", html, text, NOW)


def _store(count: int, settings: DeliverySettings) -> MemoryDeliveryStore:
    store = MemoryDeliveryStore(Retry(settings, NOW + timedelta(hours=24)))
    for n in range(count):
        store.add(n + 1, f"reader{n}@example.org", name=f"Reader {n}")
    return store


def _send(
    store: MemoryDeliveryStore,
    transport: MemoryTransport,
    settings: DeliverySettings,
    on_progress: Callable[[Progress], None] | None = None,
    stop: threading.Event | None = None,
) -> Sender:
    """What send_issue does, over the fakes: batches until none is claimed or the sender halts."""
    relay = Relay("default", lambda: transport, Throttle(), settings.connections)
    sender = Sender(
        store,
        {1: _message()},
        [relay],
        "local:test",
        settings,
        FixedClock(NOW),
        issue_id=ISSUE,
        on_progress=on_progress,
        stop=stop,
    )
    with sender:
        while not sender.halted and sender.run_batch():
            pass
    return sender


def _settings(**changes: object) -> DeliverySettings:
    base = {"connections": 3, "batch_size": 4, "claim_size": 7, "pause_after_failures": 5}
    return DeliverySettings.model_validate(base | changes)


def _received(transport: MemoryTransport) -> Counter[str]:
    return Counter(r for sent in transport.sent for r in sent.recipients)


def test_everyone_once_and_each_delivery_recorded() -> None:
    settings = _settings()
    store, transport = _store(25, settings), MemoryTransport()
    sender = _send(store, transport, settings)
    assert sender.pause_reason is None
    assert _received(transport) == Counter({f"reader{n}@example.org": 1 for n in range(25)})
    assert store.counts() == Counts(sent=25)
    assert transport.closed == settings.connections  # every connection closed at the end
    [sent] = transport.to("reader3@example.org")
    assert b"To: Reader 3 <reader3@example.org>" in sent.data
    assert store.rows[4].message_id is not None
    assert {row.claimed_by for row in store.rows.values()} == {None}


def test_who_left_since_planning_is_skipped_and_never_mailed() -> None:
    settings = _settings()
    store, transport = _store(6, settings), MemoryTransport()
    store.leave(2)
    store.add(99, "orphan@example.org", variant_id=5)  # its rendered version is gone
    _send(store, transport, settings)
    assert "reader1@example.org" not in _received(transport)
    assert "orphan@example.org" not in _received(transport)
    assert store.counts() == Counts(sent=5, skipped=2)
    assert store.rows[2].last_error == "not sent: subscriber is unsubscribed"
    assert store.rows[7].last_error == "not sent: its rendered version was deleted"


def test_a_missing_address_fails_and_bounces_while_the_rest_go() -> None:
    settings = _settings()
    store, transport = _store(10, settings), MemoryTransport()
    transport.refuse("reader4@example.org", PermanentFailure("550 5.1.1 no", 550, "5.1.1"))
    sender = _send(store, transport, settings)
    assert sender.pause_reason is None
    assert store.counts() == Counts(sent=9, failed=1)
    assert store.bounced == {5}


def test_one_policy_refusal_among_successes_is_the_recipients() -> None:
    settings = _settings(pause_after_failures=2)
    store, transport = _store(10, settings), MemoryTransport()
    transport.refuse("reader0@example.org", PermanentFailure("554 5.7.1 no", 554, "5.7.1"))
    sender = _send(store, transport, settings)
    assert sender.pause_reason is None
    assert store.counts() == Counts(sent=9, failed=1)
    assert store.bounced == set()


def test_a_relay_that_refuses_everything_pauses_and_leaves_everyone_pending() -> None:
    settings = _settings(pause_after_failures=5)
    store, transport = _store(20, settings), MemoryTransport()
    transport.fail_all(TransportFault("cannot connect to relay.example.org:25: refused"))
    sender = _send(store, transport, settings)
    assert sender.pause_reason is not None
    assert "failures in a row from the mail server" in sender.pause_reason
    assert "cannot connect to relay.example.org:25" in sender.pause_reason
    assert f"newsletter digest send {ISSUE}" in sender.pause_reason
    assert store.counts() == Counts(pending=20)
    assert {row.attempts for row in store.rows.values()} == {0}
    # Once the relay is back, a new sender sends everyone exactly once.
    transport.heal()
    assert _send(store, transport, settings).pause_reason is None
    assert _received(transport) == Counter({f"reader{n}@example.org": 1 for n in range(20)})


def test_a_list_smaller_than_the_pause_limit_pauses_once_all_of_it_failed() -> None:
    # One batch holds the whole list: a batch's end records what the breaker still holds.
    settings = _settings(pause_after_failures=50, claim_size=50)
    store, transport = _store(8, settings), MemoryTransport()
    transport.fail_all(TemporaryFailure("451 4.3.0 try later", 451, "4.3.0"))
    sender = _send(store, transport, settings)
    assert sender.pause_reason is not None
    assert "paused after 8 failures" in sender.pause_reason
    assert store.counts() == Counts(pending=8)


def test_stopped_mid_send_records_everything_handed_over() -> None:
    settings = _settings(connections=2)
    store = _store(40, settings)
    stop = threading.Event()

    class Stopping(MemoryTransport):
        def send(self, sender: str, recipients: Sequence[str], message: bytes) -> None:
            super().send(sender, recipients, message)
            if len(self.sent) == 10:
                stop.set()

    transport = Stopping()
    _send(store, transport, settings, stop=stop)
    counts = store.counts()
    assert counts.sent == len(transport.sent)
    assert 10 <= counts.sent < 40
    assert counts.pending == 40 - counts.sent


def test_progress_counts_the_whole_issue() -> None:
    settings = _settings()
    store, transport = _store(12, settings), MemoryTransport()
    store.settle(12, DeliveryStatus.SKIPPED, "skipped before this run")
    seen: list[Progress] = []
    sender = _send(store, transport, settings, on_progress=seen.append)
    sender.report()
    last = seen[-1]
    assert (last.total, last.sent, last.skipped, last.failed, last.retrying) == (12, 11, 1, 0, 0)
    assert last.rate > 0


# -- the breaker ----------------------------------------------------------------------------


def _outcome(n: int, error: DeliveryError | None = None) -> Outcome:
    rendered = Rendered("bounces@example.org", f"<{n}@example.org>", b"")
    job = Job(n, n, 0, rendered, f"reader{n}@example.org", DeliveryStatus.PENDING)
    return Outcome(job, error, sent=True)


RELAY_DOWN = TransportFault("cannot connect")
POLICY = PermanentFailure("554 5.7.1 relay access denied", 554, "5.7.1")


def test_the_breaker_holds_relay_failures_until_a_success_shows_they_were_the_recipients() -> None:
    breaker = Breaker(3, ISSUE)
    first, second, ok = _outcome(1, POLICY), _outcome(2, RELAY_DOWN), _outcome(3)
    assert breaker.take(first) == []
    assert breaker.take(second) == []
    assert breaker.take(ok) == [first, second, ok]
    assert breaker.reason is None
    assert breaker.settle() == []


def test_a_recipients_own_refusal_also_releases_what_was_held() -> None:
    breaker = Breaker(3, ISSUE)
    held = _outcome(1, RELAY_DOWN)
    unknown = _outcome(2, PermanentFailure("550 5.1.1 no such user", 550, "5.1.1"))
    breaker.take(held)
    assert breaker.take(unknown) == [held, unknown]


def test_the_breaker_trips_after_limit_failures_in_a_row_and_keeps_them_pending() -> None:
    breaker = Breaker(3, ISSUE)
    for n in range(1, 4):
        assert breaker.take(_outcome(n, RELAY_DOWN)) == []
    assert breaker.reason is not None
    assert "paused after 3 failures in a row" in breaker.reason
    assert "(last: cannot connect)" in breaker.reason
    # Held failures are never recorded once it tripped: a resume sends them.
    ok = _outcome(9)
    assert breaker.take(ok) == [ok]
    breaker.take(_outcome(10, RELAY_DOWN))
    assert breaker.settle() == []


# -- the tally ------------------------------------------------------------------------------


def test_the_tally_moves_counts_and_reports_them() -> None:
    seen: list[Progress] = []
    tally = Tally(seen.append)
    tally.reset(Counts(pending=5, skipped=1))
    tally.moves([(DeliveryStatus.PENDING, DeliveryStatus.SENT)] * 3)
    tally.move(DeliveryStatus.PENDING, DeliveryStatus.DEFERRED)
    tally.move(DeliveryStatus.DEFERRED, DeliveryStatus.FAILED)
    tally.report(force=True)
    [progress] = seen
    assert (progress.total, progress.sent, progress.failed, progress.retrying) == (6, 3, 1, 0)
    assert progress.skipped == 1
    assert tally.sent_this_run == 3


def test_a_tally_nobody_reads_reports_nothing() -> None:
    tally = Tally()
    tally.move(DeliveryStatus.PENDING, DeliveryStatus.SENT)
    tally.report(force=True)  # no on_progress: nothing to call, nothing raised
    assert not tally.wanted


# -- the memory transport -------------------------------------------------------------------


def test_the_memory_transport_refuses_one_recipient_or_everyone_until_healed() -> None:
    transport = MemoryTransport()
    transport.refuse("b@example.org", PermanentFailure("550 5.1.1 no", 550, "5.1.1"))
    transport.send("s@example.org", ["a@example.org"], b"one")
    with pytest.raises(PermanentFailure) as refused:
        transport.send("s@example.org", ["b@example.org"], b"two")
    assert refused.value.enhanced == "5.1.1"
    transport.fail_all(TransportFault("relay down"))
    with pytest.raises(TransportFault, match=r"^relay down$"):
        transport.send("s@example.org", ["a@example.org"], b"three")
    transport.heal()
    transport.send("s@example.org", ["b@example.org"], b"four")
    assert [sent.data for sent in transport.sent] == [b"one", b"four"]
    assert [sent.data for sent in transport.to("b@example.org")] == [b"four"]
