"""The welcome email: once per confirmed reader, with their topics, the latest issue, donating."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

from fastapi.testclient import TestClient

from newsletter.clock import FixedClock
from newsletter.mail.transport import transport_from_settings
from newsletter.models import IssueStatus, Topic
from newsletter.runtime import Runtime
from newsletter.templating import environment
from newsletter.welcome import LEASE, WelcomeReport, drain_welcomes
from tests import factories
from tests.smtpd import SmtpServer
from tests.web.test_subscription import NOW, confirm_path, csrf_of, part, signup, subscriber
from tests.web.test_subscription import client as client
from tests.web.test_subscription import site as site


def _welcomes(site: Runtime) -> WelcomeReport:
    """What the web process's background sender does after a confirmation."""
    return drain_welcomes(
        site, environment(site.settings), lambda: transport_from_settings(site.settings)
    )


def _confirmed(client: TestClient, smtp: SmtpServer, email: str, **form: object) -> str:
    """Signed up and confirmed through the pages; the subscribed page's HTML."""
    signup(client, email, **form)
    path = confirm_path(smtp.to(email)[0].message)
    token = urlsplit(path).query.removeprefix("token=")
    done = client.post(
        "/confirm", data={"token": token, "csrf_token": csrf_of(client.get(path).text)}
    )
    assert "You are subscribed" in done.text
    return done.text


def _sent_issue(site: Runtime) -> None:
    with site.sessions.begin() as session:
        session.add(
            factories.issue(
                NOW - timedelta(days=3),
                key="2026-W47",
                status=IssueStatus.SENT,
                subject="Asylum numbers, explained",
                sent_at=NOW - timedelta(days=3),
            )
        )


def test_a_confirmed_reader_is_welcomed_once(
    client: TestClient,
    site: Runtime,
    smtp: SmtpServer,
) -> None:
    _sent_issue(site)
    _confirmed(client, smtp, "ana@example.org", name="Ana", topics=["asylum"])
    assert _welcomes(site) == WelcomeReport(sent=1)
    [_confirmation, welcome] = smtp.to("ana@example.org")
    message = welcome.message
    assert message["Subject"] == "Welcome to Example Council News"
    assert message["List-Unsubscribe"].startswith("<https://news.example.org/unsubscribe?token=")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    text, html = part(message, "plain").replace("\r\n", "\n"), part(message, "html")
    assert text.startswith("Hello Ana,\n\nWelcome")
    assert "new stories on Asylum.\n" in text
    assert '"Asylum numbers, explained":\nhttps://news.example.org/archive/2026-W47' in text
    assert "https://example.org/donate" in text
    assert "<" not in text  # plain text, not HTML
    # The preferences link in it works: it opens this reader's own preferences.
    preferences = next(w for w in text.split() if "/preferences?token=" in w)
    page = client.get(urlsplit(preferences).path + "?" + urlsplit(preferences).query)
    assert page.status_code == 200
    assert "ana@example.org" in page.text
    assert 'href="https://example.org/donate"' in html
    # Once: the next drain has nothing to send.
    assert _welcomes(site) == WelcomeReport()
    assert subscriber(site, "ana@example.org").welcome_due_at is None  # type: ignore[union-attr]


def test_without_a_sent_issue_or_topics_the_welcome_says_so(
    client: TestClient,
    site: Runtime,
    smtp: SmtpServer,
) -> None:
    _confirmed(client, smtp, "all@example.org")
    _welcomes(site)
    text = part(smtp.to("all@example.org")[-1].message, "plain")
    assert "every topic we cover" in text
    assert "latest issue" not in text


def test_a_refused_welcome_is_retried_after_its_lease_then_dropped_for_good(
    client: TestClient,
    site: Runtime,
    smtp: SmtpServer,
) -> None:
    _confirmed(client, smtp, "later@example.org")
    smtp.faults.data_reply = "451 4.3.0 Try again later"
    assert _welcomes(site) == WelcomeReport(retrying=1)
    assert _welcomes(site) == WelcomeReport()  # leased: not before the lease runs out
    smtp.faults.data_reply = None
    assert isinstance(site.clock, FixedClock)
    site.clock.advance(LEASE + timedelta(seconds=1))
    assert _welcomes(site) == WelcomeReport(sent=1)
    _confirmed(client, smtp, "gone@example.org")
    smtp.faults.rcpt_replies["gone@example.org"] = "550 5.1.1 No such user"
    assert _welcomes(site) == WelcomeReport(dropped=1)
    assert subscriber(site, "gone@example.org").welcome_due_at is None  # type: ignore[union-attr]


def test_no_welcome_when_switched_off_or_for_an_import(
    client: TestClient,
    site: Runtime,
    smtp: SmtpServer,
) -> None:
    with site.sessions.begin() as session:
        factories.add_subscriber(session, "imported@example.org", NOW)
    site.settings.subscribers.welcome_email = False
    _confirmed(client, smtp, "quiet@example.org")
    assert _welcomes(site) == WelcomeReport(dropped=1)
    assert len(smtp.to("quiet@example.org")) == 1  # the confirmation only
    assert smtp.to("imported@example.org") == []


def test_a_topic_added_in_the_admin_is_named_in_the_welcome(
    client: TestClient, site: Runtime, smtp: SmtpServer
) -> None:
    with site.sessions.begin() as session:
        session.add(Topic(slug="courts", name="The Courts", description=""))
    _confirmed(client, smtp, "judge@example.org", topics=["courts"])
    _welcomes(site)
    text = part(smtp.to("judge@example.org")[-1].message, "plain")
    assert "new stories on The Courts." in " ".join(text.split())


def test_the_latest_issue_is_named_by_the_subject_readers_got(
    client: TestClient, site: Runtime, smtp: SmtpServer
) -> None:
    """An issue's own subject is set only when an editor wrote one; else its rendering's."""
    at = NOW - timedelta(days=3)
    with site.sessions.begin() as session:
        rendered = factories.variant(
            at, "<p>h</p>", "t", subject="Rendered: the week at the border"
        )
        session.add(
            factories.issue(
                at, key="2026-W47", status=IssueStatus.SENT, sent_at=at, variants=[rendered]
            )
        )
    _confirmed(client, smtp, "reader@example.org")
    _welcomes(site)
    text = " ".join(part(smtp.to("reader@example.org")[-1].message, "plain").split())
    assert '"Rendered: the week at the border": https://news.example.org/archive/2026-W47' in text
