"""Outbound webhooks to a real HTTP receiver, checked with the Standard Webhooks library."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from sqlalchemy import select
from standardwebhooks.webhooks import Webhook

from newsletter.clock import FixedClock
from newsletter.config import Settings
from newsletter.models import IssueStatus
from newsletter.pipeline.outbound_webhooks import forget_old_deliveries, run_webhooks
from newsletter.runtime import Runtime
from newsletter.webhooks.endpoints import EndpointError, add_endpoint, enable
from newsletter.webhooks.events import EVENTS
from newsletter.webhooks.models import Attempted, Endpoint, Outcome
from newsletter.webhooks.send import DISABLE_AFTER
from subscribers import editing, operator
from subscribers.manage import confirm
from subscribers.models import Subscriber
from tests import factories


@dataclass
class Receiver:
    url: str
    answers: list[int] = field(default_factory=list)  # statuses to give, in turn; then 200
    got: list[tuple[dict[str, str], bytes]] = field(default_factory=list)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """An HTTP server that keeps what it is sent and answers as the test says."""
    state = Receiver("")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["content-length"]))
            state.got.append(({k.lower(): v for k, v in self.headers.items()}, body))
            self.send_response(state.answers.pop(0) if state.answers else 200)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks"
    yield state
    server.shutdown()


def _site(runtime: Runtime, trusted: bool = True) -> Runtime:
    """The runtime on a clock that stands still at the wall clock's now (signatures carry it,
    and the receiver's library checks it against its own)."""
    collect = runtime.settings.collect.model_copy(
        update={"trusted_hosts": ["127.0.0.1"] if trusted else []}
    )
    settings: Settings = runtime.settings.model_copy(update={"collect": collect})
    return Runtime(settings, runtime.engine, runtime.sessions, FixedClock(datetime.now(UTC)))


def _endpoint(site: Runtime, url: str, events: list[str] | None = None) -> tuple[int, str]:
    with site.sessions.begin() as session:
        endpoint, secret = add_endpoint(
            session, url, events or list(EVENTS), "pub@example.org", site.clock.now(), site.sealer
        )
        return endpoint.id, secret


def test_each_event_reaches_the_endpoint_once_signed(runtime: Runtime, receiver: Receiver) -> None:
    site = _site(runtime)
    now = site.clock.now()
    with site.sessions.begin() as session:
        before = operator.add(session, "early@example.org", "", frozenset(), now, confirmed=False)
    endpoint_id, secret = _endpoint(site, receiver.url)
    with site.sessions.begin() as session:
        ana = operator.add(session, "ana@example.org", "Ana", frozenset(), now, confirmed=False)
        person = session.get_one(Subscriber, ana)
        confirm(session, person, now)
        editing.unsubscribe(session, person, "ed@example.org", now)
        # Recorded without a change of state (an export of their data): no event.
        editing.record_export(session, person, "ed@example.org", now)
        issue = factories.issue(now, status=IssueStatus.SENT)
        issue.sent_at = now + timedelta(seconds=1)
        session.add(issue)
    assert run_webhooks(site) == "queued 4 events; delivered 4, 0 attempts failed"
    assert run_webhooks(site) == "queued 0 events; delivered 0, 0 attempts failed"
    verifier = Webhook(secret)
    bodies = [verifier.verify(body, headers) for headers, body in receiver.got]
    assert [body["type"] for body in bodies] == [
        "subscriber.created",
        "subscriber.confirmed",
        "subscriber.unsubscribed",
        "issue.sent",
    ]
    assert {body["data"]["email"] for body in bodies[:3]} == {"ana@example.org"}
    assert before != ana  # the address added before the endpoint was never sent
    assert len({headers["webhook-id"] for headers, _ in receiver.got}) == 4
    # A body altered on the way, or signed with another secret, does not verify.
    headers, body = receiver.got[0]
    with pytest.raises(Exception, match="signature"):
        verifier.verify(body.replace(b"ana@", b"eve@"), headers)
    with site.sessions() as session:
        assert session.get_one(Endpoint, endpoint_id).failures_in_row == 0


def test_settled_deliveries_leave_the_log_after_a_month(
    runtime: Runtime, receiver: Receiver
) -> None:
    site = _site(runtime)
    clock = site.clock
    assert isinstance(clock, FixedClock)
    _endpoint(site, receiver.url, ["subscriber.created"])
    with site.sessions.begin() as session:
        operator.add(session, "ana@example.org", "", frozenset(), clock.now(), confirmed=False)
        operator.add(session, "bo@example.org", "", frozenset(), clock.now(), confirmed=False)
    receiver.answers = [200, 500]  # one delivered, one waiting to be tried again
    run_webhooks(site)
    clock.advance(timedelta(days=31))
    assert forget_old_deliveries(site) == 1
    with site.sessions() as session:
        assert session.scalars(select(Attempted.outcome)).all() == [Outcome.PENDING]


def test_a_failure_is_retried_later_with_the_same_id(runtime: Runtime, receiver: Receiver) -> None:
    site = _site(runtime)
    clock = site.clock
    assert isinstance(clock, FixedClock)
    _endpoint(site, receiver.url, ["subscriber.created"])
    with site.sessions.begin() as session:
        operator.add(session, "ana@example.org", "", frozenset(), clock.now(), confirmed=False)
    receiver.answers = [500]
    assert run_webhooks(site) == "queued 1 events; delivered 0, 1 attempts failed"
    assert run_webhooks(site).endswith("delivered 0, 0 attempts failed")  # not due yet
    clock.advance(timedelta(seconds=6))
    assert run_webhooks(site).endswith("delivered 1, 0 attempts failed")
    first, second = (headers["webhook-id"] for headers, _ in receiver.got)
    assert first == second
    with site.sessions() as session:
        delivery = session.scalars(select(Attempted)).one()
        assert (delivery.outcome, delivery.attempts, delivery.last_status) == (
            Outcome.DELIVERED,
            2,
            200,
        )


def test_an_endpoint_that_keeps_failing_is_turned_off_until_enabled(
    runtime: Runtime, receiver: Receiver
) -> None:
    site = _site(runtime)
    endpoint_id, _ = _endpoint(site, receiver.url, ["subscriber.created"])
    with site.sessions.begin() as session:
        session.get_one(Endpoint, endpoint_id).failures_in_row = DISABLE_AFTER - 1
        operator.add(session, "ana@example.org", "", frozenset(), site.clock.now(), confirmed=False)
    receiver.answers = [503]
    run_webhooks(site)
    with site.sessions() as session:
        endpoint = session.get_one(Endpoint, endpoint_id)
        assert endpoint.disabled_at is not None
        assert (
            endpoint.disabled_reason
            == f"{DISABLE_AFTER} deliveries failed in a row; the last: HTTP 503"
        )
    assert run_webhooks(site) == "no webhook endpoints"
    with site.sessions.begin() as session:
        assert enable(session, endpoint_id)
    assert isinstance(site.clock, FixedClock)
    site.clock.advance(timedelta(seconds=6))
    assert run_webhooks(site).endswith("delivered 1, 0 attempts failed")


def test_an_endpoint_on_a_private_address_is_not_called_unless_trusted(
    runtime: Runtime, receiver: Receiver
) -> None:
    site = _site(runtime, trusted=False)
    _endpoint(site, receiver.url, ["subscriber.created"])
    with site.sessions.begin() as session:
        operator.add(session, "ana@example.org", "", frozenset(), site.clock.now(), confirmed=False)
    assert run_webhooks(site).endswith("delivered 0, 1 attempts failed")
    assert receiver.got == []
    with site.sessions() as session:
        error = session.scalars(select(Attempted.last_error)).one()
    assert error is not None
    assert "127.0.0.1" in error


@pytest.mark.parametrize(
    ("url", "events", "why"),
    [
        ("ftp://crm.example/hooks", ["issue.sent"], r"full http\(s\) address"),
        ("https://user:pw@crm.example/hooks", ["issue.sent"], "no password"),
        ("https://crm.example/hooks", ["nothing.happened"], "at least one event"),
    ],
)
def test_bad_endpoints_are_refused(runtime: Runtime, url: str, events: list[str], why: str) -> None:
    with runtime.sessions.begin() as session, pytest.raises(EndpointError, match=why):
        add_endpoint(session, url, events, "pub@example.org", datetime.now(UTC), runtime.sealer)


def test_the_signing_secret_is_kept_sealed(runtime: Runtime) -> None:
    endpoint_id, secret = _endpoint(_site(runtime), "https://crm.example/hooks")
    assert secret.startswith("whsec_")
    with runtime.sessions() as session:
        stored = session.get_one(Endpoint, endpoint_id).secret
    assert secret not in stored
    assert runtime.sealer.open(stored) == secret
    assert json.dumps(stored)  # plain text in the row, not bytes
