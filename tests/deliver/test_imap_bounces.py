"""The bounce mailbox on a real IMAP server (Dovecot): the same findings as a maildir's, and
handled messages flagged \\Seen on the server so a second run counts nothing twice."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from imap_tools import AND, MailBox

from newsletter.config import load_settings
from newsletter.deliver.imap_bounces import process_imap
from newsletter.errors import BounceError
from newsletter.runtime import Runtime
from newsletter.schedule.triggers import job_specs
from subscribers.models import Status
from tests.deliver.conftest import NOW
from tests.deliver.dovecot import DOVECOT, PASSWORD, USER, Dovecot, dovecot
from tests.deliver.test_bounces import SECRET, _mail, _people, _status, process_command

pytestmark = pytest.mark.skipif(DOVECOT is None, reason="dovecot-imapd is not installed")


@pytest.fixture
def server() -> Iterator[Dovecot]:
    with dovecot() as running:
        yield running


def _unseen_subjects(server: Dovecot) -> list[str]:
    with MailBox("127.0.0.1", server.port, ssl_context=server.context()).login(
        USER, PASSWORD
    ) as box:
        return sorted(m.subject for m in box.fetch(AND(seen=False), mark_seen=False))


def test_bounces_over_imap_are_applied_once_and_flagged_seen(
    runtime: Runtime, server: Dovecot
) -> None:
    for text in _mail(_people(runtime)):
        server.deliver(text)

    report = process_imap(runtime.sessions, SECRET, server.url(), NOW, 2, server.context())
    assert (report.hard, report.soft, report.complaints, report.unsubscribes) == (1, 2, 1, 1)
    assert len(report.left_alone) == 1
    assert _status(runtime) == {
        "hard": Status.BOUNCED,
        "soft": Status.BOUNCED,
        "angry": Status.COMPLAINED,
        "leaver": Status.UNSUBSCRIBED,
        "bystander": Status.ACTIVE,
    }
    # Only the reader's letter is still unread on the server.
    assert _unseen_subjects(server) == ["Thanks for the newsletter!"]

    again = process_imap(runtime.sessions, SECRET, server.url(), NOW, 2, server.context())
    assert (again.hard, again.soft, again.complaints, again.unsubscribes) == (0, 0, 0, 0)
    assert len(again.left_alone) == 1


def test_a_wrong_password_or_an_untrusted_certificate_is_one_line(
    runtime: Runtime, server: Dovecot
) -> None:
    with pytest.raises(BounceError) as refused:
        process_imap(runtime.sessions, SECRET, server.url("wrong-pass"), NOW, 2, server.context())
    assert "wrong-pass" not in str(refused.value)
    assert "\n" not in str(refused.value)
    # The system's trusted certificates do not include the test server's: refused, not read.
    with pytest.raises(BounceError) as untrusted:
        process_imap(runtime.sessions, SECRET, server.url(), NOW, 2)
    assert PASSWORD not in str(untrusted.value)
    assert "CERTIFICATE" in str(untrusted.value).upper()


def test_the_command_and_the_schedule_take_an_imap_url(runtime: Runtime, server: Dovecot) -> None:
    people = _people(runtime)
    for text in _mail(people):
        server.deliver(text)
    # The default TLS context trusts the test server through SSL_CERT_FILE, as a site would
    # through its system's certificates.
    result = process_command(runtime, server.url(), SSL_CERT_FILE=str(server.cafile))
    assert result.returncode == 0, result.stderr
    assert "1 hard bounces, 2 soft bounces, 1 complaints, 1 unsubscribes" in result.stdout
    assert PASSWORD not in result.stdout
    assert f"imaps://{USER}:***@127.0.0.1" in result.stdout

    settings = load_settings(schedule={"bounce_mailbox": server.url()})
    described = {spec.id: spec.what for spec in job_specs(settings)}["bounces"]
    assert PASSWORD not in described


def test_a_bounce_mailbox_url_needs_imap_and_credentials() -> None:
    from newsletter.errors import ConfigError

    for bad in ("pop3://u:p@host/INBOX", "imaps://host/INBOX", "imaps://user@host/INBOX"):
        with pytest.raises(ConfigError, match="bounce_mailbox"):
            load_settings(schedule={"bounce_mailbox": bad})
    assert load_settings(schedule={"bounce_mailbox": "/var/mail/b"}).schedule.bounce_mailbox == (
        "/var/mail/b"
    )
