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
from newsletter.deliver.msgid import MessageIds
from newsletter.deliver.verp import verp_address
from newsletter.errors import BounceError
from newsletter.runtime import Runtime
from subscribers.lifecycle import is_suppressed
from subscribers.models import Status, Subscriber
from tests import factories
from tests.deliver.conftest import NOW

SECRET = "bounce-test-key-7f3a9c1e5b2d8f4a6c0e9b7d3f1a5c8e"  # 48 characters


def dsn(to: str, recipient: str, action: str, status: str, message_id: str = "") -> str:
    quoted = (
        f"""--B
Content-Type: text/rfc822-headers

From: newsletter@example.org
To: {recipient}
Message-ID: {message_id}
Subject: Weekly

"""
        if message_id
        else ""
    )
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

{quoted}--B--
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
            subscriber = factories.subscriber(f"{name}@example.net", NOW, name=name)
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
        arf("angry@example.net", MessageIds(SECRET).make(7, people["angry"], "example.org")),
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
    assert (complaint.kind, complaint.message_id) == (
        Kind.COMPLAINT,
        "<7.9.0123456789ab@example.org>",
    )
    assert complaint.addresses == frozenset({"y@example.net"})


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


def test_handled_maildir_messages_move_to_cur_as_read(runtime: Runtime, tmp_path: Path) -> None:
    """Maildir: new/ is for mail nobody has opened; a handled bounce is filed in cur/ with S."""
    path = _maildir(tmp_path / "maildir", _mail(_people(runtime)))
    report = process_mailbox(runtime.sessions, SECRET, path, NOW, soft_limit=2)
    handled = report.hard + report.soft + report.complaints + report.unsubscribes
    assert handled == 5
    new = sorted((path / "new").iterdir())
    cur = sorted((path / "cur").iterdir())
    # The reader's letter is left as it came: in new/, without flags, for a person to read.
    assert len(new) == 1
    assert ":" not in new[0].name
    assert "Thanks for the newsletter" in new[0].read_text()
    assert len(cur) == handled
    assert all(name.name.endswith(":2,S") for name in cur)
    assert not list((path / "tmp").iterdir())
    # The standard library reads them back the same way, as any mail reader would.
    reread = mailbox.Maildir(path, factory=None, create=False)
    subdirs = sorted(
        (message.get_subdir(), message.get_flags())
        for message in reread
        if isinstance(message, mailbox.MaildirMessage)
    )
    assert subdirs == [("cur", "S")] * handled + [("new", "")]


def test_bounces_left_in_new_as_seen_are_filed_in_cur(runtime: Runtime, tmp_path: Path) -> None:
    """What an earlier version left behind (new/ with the S flag) is tidied, not re-applied."""
    old = mailbox.MaildirMessage(message_from_string(_mail(_people(runtime))[0]))
    old.add_flag("S")  # in new/ still, as `bounces process` used to leave it
    path = _maildir(tmp_path / "maildir", [old])
    assert [name.name.endswith(":2,S") for name in (path / "new").iterdir()] == [True]

    report = process_mailbox(runtime.sessions, SECRET, path, NOW, soft_limit=2)
    assert report.already_processed == 1
    assert report.hard + report.soft + report.complaints + report.unsubscribes == 0
    assert list((path / "new").iterdir()) == []
    assert [name.name.endswith(":2,S") for name in (path / "cur").iterdir()] == [True]


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
    assert report.left_alone == []
    [line] = report.unattributed
    assert "its VERP tag does not verify; nothing changed" in line
    assert _status(runtime)["bystander"] == Status.ACTIVE


def _maildir(path: Path, messages: list[str] | list[mailbox.MaildirMessage]) -> Path:
    box = mailbox.Maildir(path)
    for message in messages:
        box.add(message_from_string(message) if isinstance(message, str) else message)
    box.close()
    return path


def _box(path: Path, texts: list[str]) -> Path:
    box = mailbox.mbox(path)
    for text in texts:
        box.add(message_from_string(text))
    box.close()
    return path


def test_forged_bounces_naming_a_real_subscriber_change_nothing(
    runtime: Runtime, tmp_path: Path
) -> None:
    """Anyone can mail the bounce address; only what we signed may name a subscriber."""
    people = _people(runtime)
    victim = "bystander@example.net"
    victim_id = people["bystander"]
    real_tag = verp_address(SECRET, victim_id, victim, "example.org").split("-")[1][:16]
    forged_id = f"<7.{victim_id}.0123456789ab@example.org>"
    forged = [
        # A DSN to the plain bounce address, naming the subscriber in its body.
        dsn("bounces@example.org", victim, "failed", "5.1.1"),
        # ... to a VERP address with someone else's id and a made-up tag.
        dsn(f"bounces+{victim_id}-0123456789abcdef@example.org", victim, "failed", "5.1.1"),
        # ... to the unsubscribe address's tag presented as a bounce tag.
        dsn(
            verp_address(SECRET, victim_id, victim, "example.org", "unsubscribe").replace(
                "unsubscribe+", "bounces+"
            ),
            victim,
            "failed",
            "5.1.1",
        ),
        # ... quoting a Message-ID of our shape with a tag that is not ours.
        dsn("bounces@example.org", victim, "failed", "5.1.1", forged_id),
        # Soft bounces add up to a hard one: none of them count either.
        dsn("bounces@example.org", victim, "delayed", "4.2.2"),
        # ARF complaints: naming the address only, or with a forged Message-ID.
        arf(victim, "<not-ours@isp.example.net>"),
        arf(victim, forged_id),
        # A mailto unsubscribe from the subscriber's own address, but not to a signed one.
        f"From: {victim}\nTo: unsubscribe@example.org\nSubject: unsubscribe\n\n",
        f"From: {victim}\nTo: <unsubscribe+{victim_id}-0123456789abcdef@example.org>\n"
        "Subject: unsubscribe\n\n",
    ]
    path = _box(tmp_path / "forged.mbox", forged)
    report = process_mailbox(runtime.sessions, SECRET, path, NOW, soft_limit=1)
    assert (report.hard, report.soft, report.complaints, report.unsubscribes) == (0, 0, 0, 0)
    assert len(report.unattributed) == len(forged)
    assert all(line.endswith("; nothing changed") for line in report.unattributed)
    assert all(victim in line for line in report.unattributed[:7])
    assert "no VERP tag or signed Message-ID of ours" in report.unattributed[0]
    assert "its VERP tag does not verify" in report.unattributed[1]
    assert "its VERP tag does not verify" in report.unattributed[2]
    assert "the Message-ID it quotes is not one we signed" in report.unattributed[3]
    assert real_tag not in "\n".join(report.unattributed)  # no signature of ours is echoed
    assert _status(runtime)["bystander"] == Status.ACTIVE
    with runtime.sessions() as session:
        assert not is_suppressed(session, victim)
        subscriber = session.scalars(select(Subscriber).where(Subscriber.email == victim)).one()
        assert subscriber.soft_bounces == 0
    # Left unread: a second run reports them again and still changes nothing.
    again = process_mailbox(runtime.sessions, SECRET, path, NOW, soft_limit=1)
    assert len(again.unattributed) == len(forged)
    assert _status(runtime)["bystander"] == Status.ACTIVE


def test_a_dsn_quoting_our_signed_message_id_is_attributed(
    runtime: Runtime, tmp_path: Path
) -> None:
    """A relay that bounces to the plain address still names the delivery by its Message-ID."""
    people = _people(runtime)
    signed = MessageIds(SECRET).make(3, people["hard"], "example.org")
    # The body names another subscriber too: only the signed Message-ID counts.
    text = dsn("bounces@example.org", "hard@example.net", "failed", "5.1.1", signed)
    text = text.replace(
        "Final-Recipient: rfc822; hard@example.net",
        (
            "Final-Recipient: rfc822; hard@example.net\n\nFinal-Recipient: rfc822; "
            "bystander@example.net\nAction: failed\nStatus: 5.1.1"
        ),
    )
    path = _box(tmp_path / "genuine.mbox", [text])
    report = process_mailbox(runtime.sessions, SECRET, path, NOW, soft_limit=3)
    assert (report.hard, report.unattributed) == (1, [])
    status = _status(runtime)
    assert (status["hard"], status["bystander"]) == (Status.BOUNCED, Status.ACTIVE)


def test_mail_sent_before_a_key_rotation_is_still_attributed(
    runtime: Runtime, tmp_path: Path
) -> None:
    people = _people(runtime)
    old = MessageIds(SECRET).make(3, people["hard"], "example.org")
    text = dsn("bounces@example.org", "hard@example.net", "failed", "5.1.1", old)
    path = _box(tmp_path / "rotated.mbox", [text])
    current = "the-key-after-rotation-5b1f0c7e9a3d2f8e6c4b"
    # Without the old key the return is not ours to act on; with it, it is.
    report = process_mailbox(runtime.sessions, [current], path, NOW, soft_limit=3)
    assert (report.hard, len(report.unattributed)) == (0, 1)
    assert _status(runtime)["hard"] == Status.ACTIVE
    report = process_mailbox(runtime.sessions, [current, SECRET], path, NOW, soft_limit=3)
    assert (report.hard, report.unattributed) == (1, [])
    assert _status(runtime)["hard"] == Status.BOUNCED


def process_command(runtime: Runtime, source: str, **env: str) -> subprocess.CompletedProcess[str]:
    """`newsletter bounces process SOURCE` run as a site runs it, signing with SECRET."""
    newsletter = str(Path(sys.executable).parent / "newsletter")
    environment = {k: v for k, v in os.environ.items() if not k.startswith("NEWSLETTER_")}
    environment |= {
        "NEWSLETTER_DATABASE_URL": runtime.settings.database_url,
        "NEWSLETTER_SECRET_KEY": SECRET,
        **env,
    }
    return subprocess.run(
        [newsletter, "bounces", "process", source],
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_command(runtime: Runtime, tmp_path: Path) -> None:
    people = _people(runtime)
    path = tmp_path / "bounces.mbox"
    box = mailbox.mbox(path)
    for text in _mail(people):
        box.add(message_from_string(text))
    box.close()
    result = process_command(runtime, str(path))
    assert result.returncode == 0, result.stderr
    assert "1 hard bounces, 2 soft bounces, 1 complaints, 1 unsubscribes" in result.stdout
    assert "left alone: not a bounce, from reader@example.net" in result.stdout
    assert "1 left alone, 0 unattributed" in result.stdout
    forged = _box(
        tmp_path / "forged.mbox",
        [dsn("bounces@example.org", "bystander@example.net", "failed", "5.1.1")],
    )
    told = process_command(runtime, str(forged))
    assert told.returncode == 0, told.stderr
    assert "0 hard bounces" in told.stdout
    assert "1 unattributed" in told.stdout
    assert (
        "  unattributed: message 0: hard bounce naming bystander@example.net, from "
        "MAILER-DAEMON@mx.example.net: Delivery Status Notification: no VERP tag or signed "
        "Message-ID of ours; nothing changed"
    ) in told.stdout.replace("\n  ", "\n  ")
    assert _status(runtime)["bystander"] == Status.ACTIVE
    missing = process_command(runtime, str(tmp_path / "nope"))
    assert missing.returncode == 1
    assert missing.stderr.strip() == f"error: {tmp_path / 'nope'}: no such maildir or mbox file"
    with pytest.raises(BounceError):
        process_mailbox(runtime.sessions, SECRET, tmp_path, NOW, 3)
