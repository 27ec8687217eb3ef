"""Bounce processing from a maildir and an mbox: DSNs, soft bounces, complaints, other mail."""

from __future__ import annotations

import mailbox
import os
import subprocess
import sys
from email import message_from_string
from pathlib import Path

import pytest
from sqlalchemy import select

from newsletter.deliver.bounces import Kind, classify, process_mailbox
from newsletter.deliver.verp import verp_address
from newsletter.errors import BounceError
from newsletter.runtime import Runtime
from subscribers.lifecycle import is_suppressed
from subscribers.models import Status, Subscriber
from tests.deliver.conftest import NOW

SECRET = "bounces-test-secret-0123456789-abcdefghijklmnop"


def dsn(to: str, recipient: str, action: str, status: str) -> str:
    return f"""From: MAILER-DAEMON@mx.example.net
To: {to}
Subject: Delivery Status Notification
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B"

--B
Content-Type: text/plain

Your message could not be delivered.
--B
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.net

Final-Recipient: rfc822; {recipient}
Action: {action}
Status: {status}
Diagnostic-Code: smtp; 550 {status} mailbox problem

--B--
"""


def arf(recipient: str, message_id: str) -> str:
    return f"""From: fbl@isp.example.net
To: complaints@example.org
Subject: complaint
MIME-Version: 1.0
Content-Type: multipart/report; report-type=feedback-report; boundary="F"

--F
Content-Type: text/plain

This is an abuse report.
--F
Content-Type: message/feedback-report

Feedback-Type: abuse
User-Agent: isp-fbl/1.0
Version: 1
Original-Rcpt-To: {recipient}

--F
Content-Type: message/rfc822

From: newsletter@example.org
To: {recipient}
Message-ID: {message_id}
Subject: Weekly

Hello
--F--
"""


NOT_A_BOUNCE = """From: reader@example.net
To: bounces@example.org
Subject: Thanks for the newsletter!

Keep it up.
"""


def _people(runtime: Runtime) -> dict[str, int]:
    with runtime.sessions.begin() as session:
        people = {}
        for name in ("hard", "soft", "angry", "leaver", "bystander"):
            subscriber = Subscriber(
                email=f"{name}@example.net",
                name=name,
                status=Status.ACTIVE,
                created_at=NOW,
                updated_at=NOW,
            )
            session.add(subscriber)
            session.flush()
            people[name] = subscriber.id
    return people


def _mail(people: dict[str, int]) -> list[str]:
    def verp(name: str, prefix: str = "bounces") -> str:
        return verp_address(SECRET, people[name], f"{name}@example.net", "example.org", prefix)

    soft = dsn(verp("soft"), "soft@example.net", "delayed", "4.2.2")
    return [
        dsn(verp("hard"), "hard@example.net", "failed", "5.1.1"),
        soft,
        soft.replace("Delivery Status", "Delivery Status (2)"),
        arf("angry@example.net", f"<7.{people['angry']}.0123456789ab@example.org>"),
        f"From: leaver@example.net\nTo: <{verp('leaver', 'unsubscribe')}>\n"
        "Subject: unsubscribe\n\n",
        NOT_A_BOUNCE,
    ]


def _status(runtime: Runtime) -> dict[str, Status]:
    with runtime.sessions() as session:
        return {s.email.split("@")[0]: s.status for s in session.scalars(select(Subscriber))}


def test_classify() -> None:
    assert classify(message_from_string(NOT_A_BOUNCE)).kind == Kind.NOT_A_BOUNCE
    hard = classify(
        message_from_string(
            dsn("bounces+3-0123456789abcdef@example.org", "x@example.net", "failed", "5.1.1")
        )
    )
    assert hard.kind == Kind.HARD
    assert hard.verp == ("bounces", 3, "0123456789abcdef")
    assert hard.addresses == frozenset({"x@example.net"})
    complaint = classify(
        message_from_string(arf("y@example.net", "<7.9.0123456789ab@example.org>"))
    )
    assert (complaint.kind, complaint.subscriber_id) == (Kind.COMPLAINT, 9)


@pytest.mark.parametrize("kind", ["maildir", "mbox"])
def test_process_marks_each_subscriber_once(runtime: Runtime, tmp_path: Path, kind: str) -> None:
    people = _people(runtime)
    path = tmp_path / kind
    box: mailbox.Mailbox = mailbox.Maildir(path) if kind == "maildir" else mailbox.mbox(path)
    for text in _mail(people):
        box.add(message_from_string(text))
    box.flush()
    box.close()

    report = process_mailbox(runtime.sessions, SECRET, path, NOW, soft_limit=2)
    assert (report.hard, report.soft, report.complaints, report.unsubscribes) == (1, 2, 1, 1)
    assert len(report.left_alone) == 1
    assert "Thanks for the newsletter" in report.left_alone[0]
    status = _status(runtime)
    assert status == {
        "hard": Status.BOUNCED,
        "soft": Status.BOUNCED,  # two soft bounces reach the limit of two
        "angry": Status.COMPLAINED,
        "leaver": Status.UNSUBSCRIBED,
        "bystander": Status.ACTIVE,
    }
    with runtime.sessions() as session:
        for name in ("hard", "soft", "angry", "leaver"):
            assert is_suppressed(session, f"{name}@example.net")
        assert not is_suppressed(session, "bystander@example.net")

    again = process_mailbox(runtime.sessions, SECRET, path, NOW, soft_limit=2)
    assert (again.hard, again.soft, again.complaints, again.already_processed) == (0, 0, 0, 5)
    assert len(again.left_alone) == 1  # the letter from a reader is still there, untouched


def test_a_forged_verp_address_names_nobody(runtime: Runtime, tmp_path: Path) -> None:
    people = _people(runtime)
    forged = dsn(
        f"bounces+{people['bystander']}-0123456789abcdef@example.org",
        "other@example.com",
        "failed",
        "5.1.1",
    )
    path = tmp_path / "mbox"
    box = mailbox.mbox(path)
    box.add(message_from_string(forged))
    box.close()
    report = process_mailbox(runtime.sessions, SECRET, path, NOW, soft_limit=3)
    assert report.hard == 0
    assert len(report.left_alone) == 1
    assert _status(runtime)["bystander"] == Status.ACTIVE


def test_the_command(runtime: Runtime, tmp_path: Path) -> None:
    newsletter = str(Path(sys.executable).parent / "newsletter")
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSLETTER_")}
    env |= {
        "NEWSLETTER_DATABASE_URL": runtime.settings.database_url,
        "NEWSLETTER_SECRET_KEY": SECRET,
    }
    people = _people(runtime)
    path = tmp_path / "bounces.mbox"
    box = mailbox.mbox(path)
    for text in _mail(people):
        box.add(message_from_string(text))
    box.close()
    result = subprocess.run(
        [newsletter, "bounces", "process", str(path)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "1 hard bounces, 2 soft bounces, 1 complaints, 1 unsubscribes" in result.stdout
    assert "left alone: not a bounce, from reader@example.net" in result.stdout
    missing = subprocess.run(
        [newsletter, "bounces", "process", str(tmp_path / "nope")],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert missing.returncode == 1
    assert missing.stderr.strip() == f"error: {tmp_path / 'nope'}: no such maildir or mbox file"
    with pytest.raises(BounceError):
        process_mailbox(runtime.sessions, SECRET, tmp_path, NOW, 3)
