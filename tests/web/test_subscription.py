"""Double opt-in, one-click unsubscribe and preferences through the web app, a real SMTP server
and a real database."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import Message
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from newsletter import catalog
from newsletter.clock import FixedClock
from newsletter.config import Settings
from newsletter.runtime import Runtime
from newsletter.web.app import create_app
from subscribers.lifecycle import is_suppressed
from subscribers.links import link
from subscribers.models import Status, Subscriber
from subscribers.tokens import Purpose
from tests.smtpd import SmtpServer

NOW = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)


@pytest.fixture
def site(settings: Settings, smtp: SmtpServer) -> Iterator[Runtime]:
    """The service wired to the real SMTP server, a migrated database and a fixed clock."""
    from newsletter import migrate

    wired = settings.model_copy(update={"smtp_url": smtp.url})
    runtime = Runtime.build(wired, clock=FixedClock(NOW))
    migrate.upgrade(runtime.engine)
    with runtime.sessions.begin() as session:
        catalog.sync(session, wired, NOW)
    yield runtime
    runtime.close()


def browser(site: Runtime, **options: object) -> TestClient:
    # The site is served over https, so its cookies are Secure: the test browser uses https too.
    return TestClient(create_app(site), base_url="https://testserver", **options)  # type: ignore[arg-type]


@pytest.fixture
def client(site: Runtime) -> TestClient:
    return browser(site, headers={"Accept": "text/html"})


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "the page has no CSRF field"
    return match.group(1)


def signup(client: TestClient, email: str, **extra: object) -> str:
    token = csrf_of(client.get("/subscribe").text)
    form = {"email": email, "csrf_token": token, **extra}
    response = client.post("/subscribe", data=form)
    return response.text if response.status_code == 200 else f"{response.status_code}"


def part(message: Message, kind: str) -> str:
    for piece in message.walk():
        if piece.get_content_type() == f"text/{kind}":
            payload = piece.get_payload(decode=True)
            assert isinstance(payload, bytes)
            return payload.decode()
    raise AssertionError(f"no text/{kind} part")


def confirm_path(message: Message) -> str:
    match = re.search(r"https://news\.example\.org(/confirm\?token=\S+)", part(message, "plain"))
    assert match, "no confirmation link in the email"
    return match.group(1)


def subscriber(runtime: Runtime, email: str) -> Subscriber | None:
    with runtime.sessions() as session:
        found = session.scalar(select(Subscriber).where(Subscriber.email == email))
        if found is not None:
            _ = found.events, found.topics
        return found


def test_double_opt_in_from_form_to_active(client: TestClient, site: Runtime, smtp: SmtpServer):
    page = signup(client, " Ana@Example.ORG ", name="<b>Ana</b>", topics=["asylum"])
    assert "Check your inbox" in page
    stored = subscriber(site, "ana@example.org")
    assert stored is not None
    assert stored.status == Status.PENDING
    assert [e.cause.value for e in stored.events] == ["form"]

    [mail] = smtp.to("ana@example.org")
    message = mail.message
    assert message.get_content_type() == "multipart/alternative"
    assert message["Message-ID"]
    assert message["Date"]
    assert message["Subject"] == "Please confirm your subscription to Example Council News"
    assert mail.sender == "newsletter@example.org"
    assert "&lt;b&gt;Ana&lt;/b&gt;" in part(message, "html")
    assert "<b>Ana</b>" not in part(message, "html")
    assert "Asylum" in part(message, "plain")

    path = confirm_path(message)
    shown = client.get(path)
    assert shown.status_code == 200
    assert "Confirm my subscription" in shown.text
    # Following the link (as a mail scanner does) changes nothing.
    assert subscriber(site, "ana@example.org").status == Status.PENDING  # type: ignore[union-attr]

    token = urlsplit(path).query.removeprefix("token=")
    done = client.post("/confirm", data={"token": token, "csrf_token": csrf_of(shown.text)})
    assert done.status_code == 200
    assert "You are subscribed" in done.text
    stored = subscriber(site, "ana@example.org")
    assert stored is not None
    assert stored.status == Status.ACTIVE
    assert stored.confirmed_at == NOW
    assert [(e.to_status, e.cause.value) for e in stored.events] == [
        (Status.PENDING, "form"),
        (Status.ACTIVE, "link"),
    ]
    assert stored.events[-1].client_address == "testclient"
    # Confirming again is harmless.
    again = client.post("/confirm", data={"token": token, "csrf_token": csrf_of(shown.text)})
    assert again.status_code == 200
    assert len(subscriber(site, "ana@example.org").events) == 2  # type: ignore[union-attr]


def _neutral(html: str) -> str:
    return re.sub(r'value="[^"]+"', "", html)


def test_the_answer_never_reveals_a_known_address(
    client: TestClient, site: Runtime, smtp: SmtpServer
):
    first = signup(client, "new@example.org")
    signup(client, "known@example.org")
    path = confirm_path(smtp.to("known@example.org")[0].message)
    token = urlsplit(path).query.removeprefix("token=")
    client.post("/confirm", data={"token": token, "csrf_token": csrf_of(client.get(path).text)})
    known = signup(client, "known@example.org", name="Mallory", topics=["asylum"])
    assert _neutral(known) == _neutral(first)
    # An active subscriber is not changed, nor mailed, by someone typing its address.
    stored = subscriber(site, "known@example.org")
    assert stored is not None
    assert stored.status == Status.ACTIVE
    assert stored.name == ""
    assert stored.topics == []
    assert len(smtp.to("known@example.org")) == 1


def test_one_confirmation_per_address_per_day(client: TestClient, site: Runtime, smtp: SmtpServer):
    for _ in range(3):
        assert "Check your inbox" in signup(client, "bombed@example.org")
    assert len(smtp.to("bombed@example.org")) == 1
    assert isinstance(site.clock, FixedClock)
    site.clock.advance(timedelta(hours=25))
    signup(client, "bombed@example.org")
    assert len(smtp.to("bombed@example.org")) == 2


def test_an_smtp_failure_keeps_the_signup_and_is_logged(
    client: TestClient, site: Runtime, smtp: SmtpServer, caplog: pytest.LogCaptureFixture
):
    smtp.faults.data_reply = "451 4.3.0 Try again later"
    with caplog.at_level(logging.ERROR):
        page = signup(client, "unlucky@example.org", name="Una")
    assert "Check your inbox" in page
    stored = subscriber(site, "unlucky@example.org")
    assert stored is not None
    assert stored.status == Status.PENDING
    assert stored.name == "Una"
    assert stored.confirmation_sent_at is None
    assert "confirmation email" in caplog.text
    assert "451" in caplog.text
    # The failed send did not use up the day's one email: the next try sends it.
    smtp.faults.data_reply = None
    signup(client, "unlucky@example.org")
    assert len(smtp.to("unlucky@example.org")) == 1


def test_the_honeypot_and_a_missing_csrf_token_store_nothing(
    client: TestClient, site: Runtime, smtp: SmtpServer
):
    assert "Check your inbox" in signup(client, "bot@example.org", website="http://spam")
    refused = client.post("/subscribe", data={"email": "forged@example.org"})
    assert refused.status_code == 403
    assert subscriber(site, "bot@example.org") is None
    assert subscriber(site, "forged@example.org") is None
    assert smtp.received == []


def test_bad_addresses_and_topics_are_explained(client: TestClient, site: Runtime):
    assert signup(client, "not-an-address") == "422"
    token = csrf_of(client.get("/subscribe").text)
    page = client.post("/subscribe", data={"email": "a@b.org", "csrf_token": token, "topics": "x"})
    assert page.status_code == 422
    assert "unknown topic &#39;x&#39;" in page.text
    assert subscriber(site, "a@b.org") is None


def test_rate_limit_per_client_address(settings: Settings, smtp: SmtpServer, site: Runtime):
    site.settings.subscribers.rate_limit_per_client = 2
    client = browser(site, headers={"Accept": "text/html"})
    assert "Check your inbox" in signup(client, "one@example.org")
    assert "Check your inbox" in signup(client, "two@example.org")
    assert signup(client, "three@example.org") == "429"
    assert subscriber(site, "three@example.org") is None


def _active(site: Runtime, email: str) -> int:
    from subscribers.manage import confirm
    from subscribers.signup import signup as store

    with site.sessions.begin() as session:
        outcome = store(session, email, "", set(), NOW)
        found = session.get(Subscriber, outcome.subscriber_id)
        assert found is not None
        confirm(session, found, NOW)
        return outcome.subscriber_id


def _link(site: Runtime, purpose: Purpose, subscriber_id: int, email: str) -> str:
    url = link(
        "https://news.example.org", site.settings.signing_key(), purpose, subscriber_id, email, NOW
    )
    return url.removeprefix("https://news.example.org")


def test_one_click_unsubscribe_rfc8058(site: Runtime):
    subscriber_id = _active(site, "leaving@example.org")
    path = _link(site, Purpose.UNSUBSCRIBE, subscriber_id, "leaving@example.org")
    # A mail provider: no cookies, no CSRF token, no Accept header, must not be redirected.
    provider = browser(site, follow_redirects=False)
    page = provider.get(path, headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert "Unsubscribe" in page.text
    assert subscriber(site, "leaving@example.org").status == Status.ACTIVE  # type: ignore[union-attr]
    for _ in range(2):
        answer = provider.post(path, data={"List-Unsubscribe": "One-Click"})
        assert answer.status_code == 200
    stored = subscriber(site, "leaving@example.org")
    assert stored is not None
    assert stored.status == Status.UNSUBSCRIBED
    assert [e.detail for e in stored.events][-1] == "one-click (RFC 8058)"
    assert len(stored.events) == 3  # pending, active, unsubscribed: the second POST added nothing
    with site.sessions() as session:
        assert is_suppressed(session, "leaving@example.org")


def test_a_suppressed_address_comes_back_only_by_confirming(
    client: TestClient, site: Runtime, smtp: SmtpServer
):
    subscriber_id = _active(site, "back@example.org")
    client.post(_link(site, Purpose.UNSUBSCRIBE, subscriber_id, "back@example.org"))
    signup(client, "back@example.org")
    with site.sessions() as session:
        assert is_suppressed(session, "back@example.org")
    assert subscriber(site, "back@example.org").status == Status.PENDING  # type: ignore[union-attr]
    path = confirm_path(smtp.to("back@example.org")[0].message)
    token = urlsplit(path).query.removeprefix("token=")
    client.post("/confirm", data={"token": token, "csrf_token": csrf_of(client.get(path).text)})
    with site.sessions() as session:
        assert not is_suppressed(session, "back@example.org")
    assert subscriber(site, "back@example.org").status == Status.ACTIVE  # type: ignore[union-attr]


@pytest.mark.parametrize("route", ["/confirm", "/unsubscribe", "/preferences"])
@pytest.mark.parametrize("kind", ["altered", "forged", "wrong-purpose", "other-address"])
def test_bad_links_get_a_plain_400_and_change_nothing(site: Runtime, route: str, kind: str):
    client = browser(site, headers={"Accept": "text/html"})
    subscriber_id = _active(site, "victim@example.org")
    purpose = Purpose(route.strip("/"))
    good = _link(site, purpose, subscriber_id, "victim@example.org").split("token=")[1]
    token = {
        "altered": good[:-3] + ("xyz" if not good.endswith("xyz") else "abc"),
        "forged": link(
            "https://x", "another-secret", purpose, subscriber_id, "victim@example.org", NOW
        ).split("token=")[1],
        "wrong-purpose": _link(
            site,
            Purpose.CONFIRM if purpose != Purpose.CONFIRM else Purpose.UNSUBSCRIBE,
            subscriber_id,
            "victim@example.org",
        ).split("token=")[1],
        "other-address": _link(site, purpose, subscriber_id, "other@example.org").split("token=")[
            1
        ],
    }[kind]
    shown = client.get(f"{route}?token={token}")
    assert shown.status_code == 400
    assert "Nothing was changed" in shown.text
    csrf = csrf_of(client.get("/subscribe").text)
    posted = client.post(
        route,
        params={"token": token} if route == "/unsubscribe" else None,
        data={"token": token, "csrf_token": csrf, "pause_weeks": "4"},
    )
    assert posted.status_code == 400
    stored = subscriber(site, "victim@example.org")
    assert stored is not None
    assert stored.status == Status.ACTIVE
    assert stored.paused_until is None
    assert len(stored.events) == 2


def test_an_expired_confirmation_link_is_refused(
    client: TestClient, site: Runtime, smtp: SmtpServer
):
    signup(client, "slow@example.org")
    path = confirm_path(smtp.to("slow@example.org")[0].message)
    assert isinstance(site.clock, FixedClock)
    site.clock.advance(timedelta(days=7, minutes=1))
    page = client.get(path)
    assert page.status_code == 400
    assert "expired" in page.text
    assert subscriber(site, "slow@example.org").status == Status.PENDING  # type: ignore[union-attr]


def test_preferences_change_topics_and_pause(site: Runtime):
    client = browser(site, headers={"Accept": "text/html"})
    subscriber_id = _active(site, "reader@example.org")
    path = _link(site, Purpose.PREFERENCES, subscriber_id, "reader@example.org")
    token = path.split("token=")[1]
    page = client.get(path)
    assert page.status_code == 200
    assert 'value="asylum" checked' in page.text  # no choice yet means every topic
    saved = client.post(
        "/preferences",
        data={
            "token": token,
            "csrf_token": csrf_of(page.text),
            "topics": ["asylum"],
            "pause_weeks": "2",
            "name": "Rea",
        },
    )
    assert saved.status_code == 200
    assert "Saved: topics, paused for 2 weeks, name" in saved.text
    stored = subscriber(site, "reader@example.org")
    assert stored is not None
    assert stored.paused_until == NOW + timedelta(weeks=2)
    assert len(stored.topics) == 1
    assert stored.name == "Rea"
    assert stored.events[-1].detail.startswith("preferences: topics")
    # Without the form's CSRF field nothing changes.
    forged = browser(site).post("/preferences", data={"token": token})
    assert forged.status_code == 403
    resumed = client.post(
        "/preferences",
        data={
            "token": token,
            "csrf_token": csrf_of(saved.text),
            "topics": ["asylum", "border-enforcement"],
        },
    )
    assert "Saved: topics, resumed" in resumed.text
    stored = subscriber(site, "reader@example.org")
    assert stored is not None
    assert stored.paused_until is None
    assert stored.topics == []  # every topic chosen is stored as "all topics"
