"""The signup policy without a browser: what is dropped, refused or queued, and what is counted."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from newsletter import catalog
from newsletter.clock import FixedClock
from newsletter.pipeline.signup import SignupForm, TooManySignups, take_signup
from newsletter.runtime import Runtime
from subscribers.errors import InvalidAddress, InvalidName, QueueFull, UnknownTopic
from subscribers.models import SignupRequest

NOW = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)


@pytest.fixture
def site(runtime: Runtime) -> Runtime:
    runtime.clock = FixedClock(NOW)
    with runtime.sessions.begin() as session:
        catalog.sync(session, runtime.settings, NOW)
    return runtime


def form(email: str, client: str = "198.51.100.7", **fields: object) -> SignupForm:
    values: dict[str, object] = {"name": "", "topics": (), "honeypot": "", **fields}
    return SignupForm(email=email, client=client, **values)  # type: ignore[arg-type]


def queued(runtime: Runtime) -> list[tuple[str, list[int]]]:
    with runtime.sessions() as session:
        rows = session.scalars(select(SignupRequest).order_by(SignupRequest.id))
        return [(row.email, sorted(row.topics)) for row in rows]


def test_a_good_form_queues_one_request_with_the_checked_address_and_topics(site: Runtime):
    assert take_signup(site, form(" Ana@Example.ORG ", name="Ana", topics=["asylum"])) is True
    [(email, topics)] = queued(site)
    assert email == "ana@example.org"
    assert len(topics) == 1


def test_the_honeypot_drops_the_signup_without_counting_it(site: Runtime):
    site.settings.subscribers.rate_limit_per_client = 1
    assert take_signup(site, form("bot@example.org", honeypot="http://spam")) is False
    assert queued(site) == []
    # The bot's try did not use up the network's allowance.
    assert take_signup(site, form("person@example.org")) is True


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"email": "not-an-address"}, InvalidAddress),
        ({"email": "a@example.org", "name": "Ana\nBcc: x@example.org"}, InvalidName),
        ({"email": "a@example.org", "topics": ["nope"]}, UnknownTopic),
    ],
)
def test_bad_input_is_refused_and_nothing_is_queued(
    site: Runtime, fields: dict[str, object], error: type[Exception]
):
    # A copy: the parameters are shared by every database the test runs on.
    extra = dict(fields)
    email = str(extra.pop("email"))
    with pytest.raises(error):
        take_signup(site, form(email, **extra))
    assert queued(site) == []


def test_the_per_client_limit_refuses_and_the_per_address_limit_drops_unseen(site: Runtime):
    site.settings.subscribers.rate_limit_per_client = 2
    site.settings.subscribers.rate_limit_per_email = 1
    assert take_signup(site, form("one@example.org")) is True
    # Another network, the same address: dropped, and the answer cannot tell.
    assert take_signup(site, form("one@example.org", client="203.0.113.9")) is False
    assert take_signup(site, form("two@example.org")) is True
    with pytest.raises(TooManySignups):
        take_signup(site, form("three@example.org"))
    assert [email for email, _ in queued(site)] == ["one@example.org", "two@example.org"]


def test_a_full_queue_refuses(site: Runtime, monkeypatch: pytest.MonkeyPatch):
    from subscribers import queue

    monkeypatch.setattr(queue, "QUEUE_MAX", 1)
    assert take_signup(site, form("a@example.org")) is True
    with pytest.raises(QueueFull):
        take_signup(site, form("b@example.org"))
    with site.sessions() as session:
        assert session.scalar(select(func.count()).select_from(SignupRequest)) == 1
