"""Double opt-in, one-click unsubscribe and preferences through the web app, a real SMTP server
and a real database."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import Message
from pathlib import Path
from urllib.parse import urlsplit

import lxml.html
import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import select

from newsletter import catalog
from newsletter.clock import FixedClock
from newsletter.config import Settings
from newsletter.confirmations import DrainReport, drain_signups
from newsletter.mail.transport import transport_from_settings
from newsletter.runtime import Runtime
from newsletter.templating import environment
from newsletter.web.app import create_app
from subscribers.lifecycle import is_suppressed, transition
from subscribers.links import link
from subscribers.models import Cause, SignupRequest, Status, Subscriber
from subscribers.tokens import Purpose
from tests import factories
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


def drain(site: Runtime) -> DrainReport:
    """What the web process's background sender does after each signup."""
    return drain_signups(
        site, environment(site.settings), lambda: transport_from_settings(site.settings)
    )


def post_signup(client: TestClient, email: str, **extra: object) -> Response:
    token = csrf_of(client.get("/subscribe").text)
    return client.post("/subscribe", data={"email": email, "csrf_token": token, **extra})


def signup(client: TestClient, email: str, **extra: object) -> str:
    """The form posted, then the queue drained as the background sender would."""
    response = post_signup(client, email, **extra)
    drain(client.app.state.runtime)  # type: ignore[attr-defined]
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
    # Nothing the visitor typed but the address reaches the email, escaped or not.
    for kind in ("plain", "html"):
        assert "Ana" not in part(message, kind)
        assert "Hello," in part(message, kind)
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


def test_an_smtp_failure_keeps_the_signup_logs_one_line_and_is_retried(
    client: TestClient, site: Runtime, smtp: SmtpServer, caplog: pytest.LogCaptureFixture
):
    smtp.faults.data_reply = "451 4.3.0 Try again later"
    with caplog.at_level(logging.WARNING):
        page = signup(client, "unlucky@example.org", name="Una")
    assert "Check your inbox" in page
    stored = subscriber(site, "unlucky@example.org")
    assert stored is not None
    assert stored.status == Status.PENDING
    assert stored.name == "Una"
    # The failed send did not use up the day's one email.
    assert stored.confirmation_sent_at is None
    [line] = [r for r in caplog.records if "confirmation email" in r.getMessage()]
    assert "451" in line.getMessage()
    assert "retrying" in line.getMessage()
    assert line.exc_info is None
    assert "token" not in caplog.text
    # Not due yet: nothing is tried again before the retry time.
    smtp.faults.data_reply = None
    assert drain(site).sent == 0
    assert isinstance(site.clock, FixedClock)
    site.clock.advance(timedelta(minutes=2))
    assert drain(site).sent == 1
    assert len(smtp.to("unlucky@example.org")) == 1
    assert drain(site) == DrainReport()  # the queue is empty


def test_an_unwritable_outbox_neither_fails_the_signup_nor_blocks_the_address(
    settings: Settings, tmp_path: Path, caplog: pytest.LogCaptureFixture
):
    from newsletter import migrate

    runtime = Runtime.build(settings, clock=FixedClock(NOW))
    migrate.upgrade(runtime.engine)
    runtime.settings.var_dir.mkdir(parents=True, exist_ok=True)
    runtime.settings.outbox_dir.write_text("a file where the outbox folder should be")
    client = browser(runtime, headers={"Accept": "text/html"})
    try:
        with caplog.at_level(logging.WARNING):
            answer = post_signup(client, "ana@example.org")
            assert answer.status_code == 200
            assert "Check your inbox" in answer.text
            report = drain(runtime)
        assert report.retrying == 1
        [line] = [r for r in caplog.records if "confirmation email" in r.getMessage()]
        assert line.exc_info is None
        assert "\n" not in line.getMessage()
        assert "token" not in caplog.text
        stored = subscriber(runtime, "ana@example.org")
        assert stored is not None
        assert stored.confirmation_sent_at is None  # the address is not held for a day
        # The disk is fixed: the retry sends it, once.
        runtime.settings.outbox_dir.unlink()
        assert isinstance(runtime.clock, FixedClock)
        runtime.clock.advance(timedelta(minutes=2))
        assert drain(runtime).sent == 1
        [mail] = list(runtime.settings.outbox_dir.glob("*.eml"))
        assert b"X-Envelope-To: ana@example.org" in mail.read_bytes()
    finally:
        runtime.close()


def test_a_retry_gives_up_after_its_last_attempt(
    client: TestClient, site: Runtime, smtp: SmtpServer, caplog: pytest.LogCaptureFixture
):
    from subscribers import queue

    smtp.faults.data_reply = "451 4.3.0 Try again later"
    signup(client, "never@example.org")
    assert isinstance(site.clock, FixedClock)
    with caplog.at_level(logging.ERROR):
        for wait in queue.RETRY_AFTER:
            site.clock.advance(wait)
            drain(site)
    assert "giving up" in caplog.text
    site.clock.advance(timedelta(days=1))
    assert drain(site) == DrainReport()
    assert smtp.to("never@example.org") == []
    # Giving up does not hold the address: a new signup is mailed.
    smtp.faults.data_reply = None
    signup(client, "never@example.org")
    assert len(smtp.to("never@example.org")) == 1


def test_the_request_only_queues_and_its_answer_is_the_same_for_every_address(
    client: TestClient, site: Runtime, smtp: SmtpServer
):
    from subscribers.models import SignupRequest

    # An active, a pending and an unsubscribed (suppressed) address, and a new one.
    _active(site, "active@example.org")
    signup(client, "pending@example.org")
    gone_id = _active(site, "gone@example.org")
    client.post(_link(site, Purpose.UNSUBSCRIBE, gone_id, "gone@example.org"))
    before = len(smtp.received)
    answers = {}
    for address in ("new@example.org", "active@example.org", "pending@example.org"):
        answer = post_signup(client, address, name="Someone", topics=["asylum"])
        answers[address] = (answer.status_code, _neutral(answer.text))
    answer = post_signup(client, "gone@example.org", name="Someone", topics=["asylum"])
    answers["gone@example.org"] = (answer.status_code, _neutral(answer.text))
    assert len(set(answers.values())) == 1, answers
    # No request sent mail: each only queued the same one row.
    assert len(smtp.received) == before
    with site.sessions() as session:
        queued = sorted(session.scalars(select(SignupRequest.email)))
    assert queued == sorted(answers)
    assert subscriber(site, "new@example.org") is None  # stored by the sender, not the request
    report = drain(site)
    # The pending address was mailed just now (one email a day); the active one is not mailed.
    assert report.sent == 2
    assert sorted(m.recipients[0] for m in smtp.received[before:]) == [
        "gone@example.org",
        "new@example.org",
    ]
    assert subscriber(site, "active@example.org").status == Status.ACTIVE  # type: ignore[union-attr]


def test_a_full_queue_refuses_signups_for_a_while(
    client: TestClient, site: Runtime, monkeypatch: pytest.MonkeyPatch
):
    from subscribers import queue

    monkeypatch.setattr(queue, "QUEUE_MAX", 2)
    for address in ("a@example.org", "b@example.org"):
        assert post_signup(client, address).status_code == 200
    full = post_signup(client, "c@example.org")
    assert full.status_code == 503
    assert "try again" in full.text
    drain(site)
    assert post_signup(client, "c@example.org").status_code == 200


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


@pytest.mark.parametrize(
    ("fields", "field", "said"),
    [
        ({"email": "not-an-address"}, "email", "must have an @-sign"),
        ({"email": "a@b.org", "name": "Ana\nB"}, "name", "one line of text"),
        ({"email": "a@b.org", "topics": "x"}, "topics", "unknown topic"),
    ],
)
def test_an_error_is_tied_to_its_field(
    client: TestClient, fields: dict[str, str], field: str, said: str
):
    """Screen readers announce the error with the field it is about (WCAG 3.3.1)."""
    token = csrf_of(client.get("/subscribe").text)
    page = client.post("/subscribe", data={**fields, "csrf_token": token})
    assert page.status_code == 422
    tree = lxml.html.fromstring(page.text)
    where = (
        tree.cssselect("fieldset.topics")[0] if field == "topics" else tree.get_element_by_id(field)
    )
    assert where.get("aria-invalid") == "true"
    described = tree.get_element_by_id(where.get("aria-describedby"))
    assert said in described.text_content()
    assert len(tree.cssselect('[aria-invalid="true"]')) == 1  # only the field at fault


def test_where_a_signup_came_from_is_kept_with_its_consent(
    client: TestClient, site: Runtime, smtp: SmtpServer
):
    landing = client.get(
        "/subscribe?utm_source=facebook&utm_campaign=year-end",
        headers={"Referer": "https://www.facebook.com/newsroom/posts/123?fbclid=private"},
    )
    form = lxml.html.fromstring(landing.text).forms[0]
    fields = dict(form.form_values())  # what a browser would submit
    fields["email"] = "from-facebook@example.org"
    assert client.post("/subscribe", data=fields).status_code == 200
    drain(site)
    stored = subscriber(site, "from-facebook@example.org")
    assert stored is not None
    assert stored.signup_source == "/subscribe"
    assert stored.signup_origin == {
        "page": "/subscribe",
        "referrer": "https://www.facebook.com/newsroom/posts/123",
        "utm_source": "facebook",
        "utm_campaign": "year-end",
    }
    assert stored.events[0].detail == (
        "signup at /subscribe, from https://www.facebook.com/newsroom/posts/123, "
        "utm_source=facebook, utm_campaign=year-end"
    )


def test_a_form_without_the_origin_fields_is_placed_by_its_referer(
    client: TestClient, site: Runtime, smtp: SmtpServer
):
    token = csrf_of(client.get("/subscribe").text)
    client.post(
        "/subscribe",
        data={"email": "story-reader@example.org", "csrf_token": token},
        headers={"Referer": "https://news.example.org/2026/11/story/?utm_medium=site"},
    )
    drain(site)
    stored = subscriber(site, "story-reader@example.org")
    assert stored is not None
    assert stored.signup_source == "https://news.example.org/2026/11/story/"
    assert stored.signup_origin is not None
    assert stored.signup_origin["utm_medium"] == "site"


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
    url = link("https://news.example.org", site.signing_key, purpose, subscriber_id, email, NOW)
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


def _unsubscribed(site: Runtime, email: str) -> tuple[TestClient, str, str]:
    """A reader who pressed Unsubscribe in their browser: the client, its token, the page."""
    subscriber_id = _active(site, email)
    path = _link(site, Purpose.UNSUBSCRIBE, subscriber_id, email)
    client = browser(site, headers={"Accept": "text/html"})
    client.get(path)
    done = client.post("/unsubscribe", data={"token": path.split("token=")[1]})
    assert "You are unsubscribed" in done.text
    return client, path.split("token=")[1], done.text


def test_an_unsubscribe_is_undone_at_once_from_its_page(site: Runtime, smtp: SmtpServer):
    client, token, page = _unsubscribed(site, "second-thoughts@example.org")
    undone = client.post("/unsubscribe/undo", data={"token": token, "csrf_token": csrf_of(page)})
    assert undone.status_code == 200
    assert "You are subscribed again" in undone.text
    stored = subscriber(site, "second-thoughts@example.org")
    assert stored is not None
    assert stored.status == Status.ACTIVE
    assert [e.to_status for e in stored.events][-2:] == [Status.PENDING, Status.ACTIVE]
    with site.sessions() as session:
        assert not is_suppressed(session, "second-thoughts@example.org")
    assert smtp.received == []  # nothing was promised, nothing needed sending
    again = client.post("/unsubscribe/undo", data={"token": token, "csrf_token": csrf_of(page)})
    assert again.status_code == 409  # active already: nothing to undo, said so


def test_an_undo_needs_the_form_and_a_fresh_own_unsubscribe(site: Runtime):
    client, token, page = _unsubscribed(site, "late@example.org")
    forged = client.post("/unsubscribe/undo", data={"token": token, "csrf_token": "forged"})
    assert forged.status_code == 403
    assert isinstance(site.clock, FixedClock)
    site.clock.advance(timedelta(days=31))
    late = client.post("/unsubscribe/undo", data={"token": token, "csrf_token": csrf_of(page)})
    assert late.status_code == 409
    assert "subscribe with the form" in late.text
    assert subscriber(site, "late@example.org").status == Status.UNSUBSCRIBED  # type: ignore[union-attr]


def test_a_bounce_is_never_undone_by_a_link(site: Runtime):
    client, token, page = _unsubscribed(site, "gone@example.org")
    with site.sessions.begin() as session:
        found = session.scalar(select(Subscriber).where(Subscriber.email == "gone@example.org"))
        assert found is not None
        transition(session, found, Status.PENDING, Cause.ADMIN, NOW, "re-added")
        transition(session, found, Status.BOUNCED, Cause.BOUNCE, NOW, "550 no such user")
    refused = client.post("/unsubscribe/undo", data={"token": token, "csrf_token": csrf_of(page)})
    assert refused.status_code == 409
    assert subscriber(site, "gone@example.org").status == Status.BOUNCED  # type: ignore[union-attr]


def test_a_bad_link_is_a_page_even_for_a_mail_provider(site: Runtime):
    """A provider's one-click POST asks for no HTML; the refusal is still the page, not JSON."""
    subscriber_id = _active(site, "kept@example.org")
    good = _link(site, Purpose.UNSUBSCRIBE, subscriber_id, "kept@example.org")
    provider = browser(site, follow_redirects=False)
    answer = provider.post(good[:-3] + "xyz", data={"List-Unsubscribe": "One-Click"})
    assert answer.status_code == 400
    assert answer.headers["content-type"].startswith("text/html")
    assert answer.headers["cache-control"] == "no-store"
    assert "Nothing was changed" in answer.text
    assert subscriber(site, "kept@example.org").status == Status.ACTIVE  # type: ignore[union-attr]


def test_the_form_check_comes_before_the_link(site: Runtime):
    """A good confirmation link posted without the form's CSRF field confirms nothing."""
    from subscribers.signup import signup as store

    with site.sessions.begin() as session:
        subscriber_id = store(session, "wait@example.org", "", set(), NOW).subscriber_id
    path = _link(site, Purpose.CONFIRM, subscriber_id, "wait@example.org")
    token = path.split("token=")[1]
    client = browser(site, headers={"Accept": "text/html"})
    client.get(path)  # the cookie half of the pair, but not the field
    refused = client.post("/confirm", data={"token": token, "csrf_token": "forged"})
    assert refused.status_code == 403
    assert "This form has expired" in refused.text
    assert subscriber(site, "wait@example.org").status == Status.PENDING  # type: ignore[union-attr]


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
        "altered": factories.altered(good),
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
    assert page.status_code == 410
    assert "This link has expired" in page.text
    assert 'href="/subscribe"' in page.text  # the way forward: sign up again
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
            "pause_weeks": "0",
        },
    )
    assert "Saved: topics, resumed" in resumed.text
    stored = subscriber(site, "reader@example.org")
    assert stored is not None
    assert stored.paused_until is None
    assert stored.topics == []  # every topic chosen is stored as "all topics"


def test_saving_a_paused_readers_name_keeps_the_pause(site: Runtime):
    """The form as the page fills it: changing only the name must not resume mail."""
    client = browser(site, headers={"Accept": "text/html"})
    subscriber_id = _active(site, "reader@example.org")
    path = _link(site, Purpose.PREFERENCES, subscriber_id, "reader@example.org")
    token = path.split("token=")[1]
    first = client.get(path)
    paused = client.post(
        "/preferences",
        data={"token": token, "csrf_token": csrf_of(first.text), "pause_weeks": "4"},
    )
    assert "paused for 4 weeks" in paused.text
    page = client.get(path)
    form = lxml.html.fromstring(page.text).get_element_by_id("pause_weeks")
    default = form.value  # what a browser submits when the reader leaves the menu alone
    assert "Resume now" in page.text
    assert default == "keep"
    renamed = client.post(
        "/preferences",
        data={
            "token": token,
            "csrf_token": csrf_of(page.text),
            "topics": ["asylum", "border-enforcement"],
            "pause_weeks": default,
            "name": "Rea",
        },
    )
    assert "Saved: name." in renamed.text
    stored = subscriber(site, "reader@example.org")
    assert stored is not None
    assert (stored.name, stored.paused_until) == ("Rea", NOW + timedelta(weeks=4))


def _save_preferences(site: Runtime, email: str, **fields: object) -> Response:
    """A new active reader opens their preferences link and posts the form with `fields`."""
    client = browser(site, headers={"Accept": "text/html"})
    path = _link(site, Purpose.PREFERENCES, _active(site, email), email)
    page = client.get(path)
    token = path.split("token=")[1]
    return client.post(
        "/preferences", data={"token": token, "csrf_token": csrf_of(page.text), **fields}
    )


@pytest.mark.parametrize("weeks", ["99", "-1", "soon"])
def test_a_pause_the_form_does_not_offer_is_refused(site: Runtime, weeks: str):
    refused = _save_preferences(site, "reader@example.org", pause_weeks=weeks)
    assert refused.status_code == 422
    assert "Traceback" not in refused.text
    assert subscriber(site, "reader@example.org").paused_until is None  # type: ignore[union-attr]


@pytest.mark.parametrize("name", ["Ana\r\nBcc: x@example.net", "Ana\nB", "Tab\tbed", "x" * 201])
def test_a_name_that_cannot_go_in_a_header_is_refused_at_signup(
    client: TestClient, site: Runtime, smtp: SmtpServer, name: str
):
    answer = post_signup(client, "ana@example.org", name=name, topics=["asylum"])
    assert answer.status_code == 422
    assert 'role="alert"' in answer.text
    assert ("one line of text" in answer.text) or ("longer than 200" in answer.text)
    assert 'value="ana@example.org"' in answer.text  # the form comes back as it was filled
    assert drain(site) == DrainReport()
    assert subscriber(site, "ana@example.org") is None
    assert smtp.received == []


def test_a_name_with_a_line_break_is_refused_at_preferences(site: Runtime):
    refused = _save_preferences(
        site,
        "reader@example.org",
        topics=["asylum"],
        pause_weeks="2",
        name="Rea\r\nBcc: x@example.net",
    )
    assert refused.status_code == 422
    assert "Nothing was saved: the name must be one line of text" in refused.text
    stored = subscriber(site, "reader@example.org")
    assert stored is not None
    assert (stored.name, stored.paused_until, stored.topics) == ("", None, [])
    assert len(stored.events) == 2


@pytest.mark.parametrize(
    ("purpose", "days", "advice"),
    [
        (Purpose.PREFERENCES, 90, "Open the preferences link at the bottom of our most recent"),
        (Purpose.UNSUBSCRIBE, 365, "use the unsubscribe link at the bottom of a more recent"),
    ],
)
def test_old_preferences_and_unsubscribe_links_expire_with_a_way_forward(
    site: Runtime, purpose: Purpose, days: int, advice: str
):
    client = browser(site, headers={"Accept": "text/html"})
    subscriber_id = _active(site, "old@example.org")
    path = _link(site, purpose, subscriber_id, "old@example.org")
    assert isinstance(site.clock, FixedClock)
    site.clock.advance(timedelta(days=days))
    assert client.get(path).status_code == 200  # still good on its last day
    site.clock.advance(timedelta(minutes=1))
    page = client.get(path)
    assert page.status_code == 410
    assert "This link has expired" in page.text
    assert advice in " ".join(page.text.split())
    posted = client.post(
        path if purpose == Purpose.UNSUBSCRIBE else "/preferences",
        data={
            "token": path.split("token=")[1],
            "csrf_token": csrf_of(client.get("/subscribe").text),
        },
    )
    assert posted.status_code == 410
    stored = subscriber(site, "old@example.org")
    assert stored is not None
    assert stored.status == Status.ACTIVE
    assert len(stored.events) == 2
    # The limits are settings.
    site.settings.subscribers.preferences_link_max_age_days = days + 1
    site.settings.subscribers.unsubscribe_link_max_age_days = days + 1
    assert client.get(path).status_code == 200


def test_links_signed_with_a_previous_key_work_after_a_rotation(site: Runtime):
    from pydantic import SecretStr

    subscriber_id = _active(site, "kept@example.org")
    old_key = site.signing_key
    path = _link(site, Purpose.PREFERENCES, subscriber_id, "kept@example.org")
    new_key = SecretStr("the-new-key-after-the-rotation-0123456789")

    def restarted(*previous: str) -> TestClient:
        """The site after a restart with the new key (a process reads its keys once)."""
        settings = site.settings.model_copy(
            update={"secret_key": new_key, "secret_keys_previous": [SecretStr(k) for k in previous]}
        )
        rotated = Runtime(settings, site.engine, site.sessions, site.clock)
        return browser(rotated, headers={"Accept": "text/html"})

    assert restarted().get(path).status_code == 400  # rotated out and not kept: refused
    page = restarted(old_key).get(path)
    assert page.status_code == 200
    # New links are signed with the new key only: they verify without the old one.
    unsubscribe = re.search(
        r'action="https://news\.example\.org(/unsubscribe\?token=[^"]+)"', page.text
    )
    assert unsubscribe
    assert restarted().get(unsubscribe.group(1)).status_code == 200


class _Dies:
    """A transport whose process dies in the middle of a send."""

    def send(self, sender: str, recipients: object, message: bytes) -> None:
        raise SystemExit("killed")

    def close(self) -> None:
        pass


def test_a_sender_that_dies_mid_send_leaves_the_confirmation_to_the_next(
    client: TestClient, site: Runtime, smtp: SmtpServer
):
    from subscribers import queue

    assert post_signup(client, "crash@example.org").status_code == 200
    with pytest.raises(SystemExit):
        drain_signups(site, environment(site.settings), _Dies)
    stored = subscriber(site, "crash@example.org")
    assert stored is not None
    assert stored.confirmation_sent_at == NOW  # claimed, never sent
    assert drain(site) == DrainReport()  # the dead sender's lease still holds
    assert isinstance(site.clock, FixedClock)
    site.clock.advance(queue.LEASE + timedelta(seconds=1))
    # Its own claim does not count as "mailed within the day": the email goes out, once.
    assert drain(site).sent == 1
    assert len(smtp.to("crash@example.org")) == 1
    assert drain(site) == DrainReport()


def test_the_confirmation_email_carries_nothing_the_visitor_typed(
    client: TestClient, site: Runtime, smtp: SmtpServer
):
    spam = "Win a prize at http://spam.example.net/claim now"
    assert "Check your inbox" in signup(client, "stranger@example.org", name=spam)
    [mail] = smtp.to("stranger@example.org")
    decoded = [part(mail.message, kind) for kind in ("plain", "html")]
    for word in ("Win", "prize", "spam.example.net", "claim"):
        assert word.encode() not in mail.data
        assert not any(word in text for text in decoded)
    # The name is kept for the newsletter itself, once the owner of the address confirms.
    assert subscriber(site, "stranger@example.org").name == spam  # type: ignore[union-attr]


def test_offering_weekly_alone_hides_how_often_and_refuses_another(
    client: TestClient, site: Runtime
) -> None:
    # Daily and per-story mail are offered only once digest.cadences lists them.
    assert site.settings.digest.cadences == ["weekly"]
    page = lxml.html.fromstring(client.get("/subscribe").text)
    assert page.cssselect("select[name=cadence]") == []
    assert page.cssselect("input[name=email]")
    home = lxml.html.fromstring(client.get("/").text)
    assert home.cssselect("select[name=cadence]") == []
    assert [a.text for a in home.cssselect("footer a[href='/subscribe']")] == ["The weekly email"]
    assert "Our new stories on the topics you choose: once a week." in home.text_content()
    topic = client.get("/topics/asylum").text
    assert "and any other topic you choose: once a week.</p>" in topic
    refused = post_signup(client, "ana@example.org", topics=["asylum"], cadence="daily")
    assert refused.status_code == 422
    assert "frequency not offered here: &#39;daily&#39;" in refused.text
    api = browser(site, headers={"Origin": "https://news.example.org"})
    answered = api.post("/api/subscribe", json={"email": "bo@example.org", "cadence": "each"})
    assert (answered.status_code, answered.json()["field"]) == (422, "cadence")
    with site.sessions() as session:
        assert session.scalars(select(SignupRequest)).all() == []
    signup(client, "cy@example.org", topics=["asylum"])  # weekly, as before cadences
