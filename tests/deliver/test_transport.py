"""The transport against a real SMTP server, and the outbox folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from newsletter.config import load_settings
from newsletter.deliver.transport import (
    OutboxTransport,
    SmtpTransport,
    transport_from_settings,
)
from newsletter.errors import PermanentFailure, TemporaryFailure
from tests.smtpd import SmtpServer

MESSAGE = b"From: a@example.org\r\nTo: b@example.org\r\nSubject: Hi\r\n\r\nHello\r\n"


def test_sends_over_one_persistent_connection(smtp: SmtpServer) -> None:
    transport = SmtpTransport.from_url(smtp.url)
    for n in range(3):
        transport.send("bounces@example.org", [f"r{n}@example.org"], MESSAGE)
    transport.close()
    assert [r.recipients for r in smtp.received] == [[f"r{n}@example.org"] for n in range(3)]
    assert smtp.received[0].sender == "bounces@example.org"
    assert smtp.received[0].message["Subject"] == "Hi"


def test_permanent_and_temporary_refusals_are_told_apart(smtp: SmtpServer) -> None:
    smtp.faults.rcpt_replies = {
        "gone@example.org": "550 5.1.1 No such user",
        "full@example.org": "452 4.2.2 Mailbox full",
    }
    transport = SmtpTransport.from_url(smtp.url)
    with pytest.raises(PermanentFailure) as permanent:
        transport.send("b@example.org", ["gone@example.org"], MESSAGE)
    assert (permanent.value.code, permanent.value.enhanced) == (550, "5.1.1")
    with pytest.raises(TemporaryFailure) as temporary:
        transport.send("b@example.org", ["full@example.org"], MESSAGE)
    assert temporary.value.code == 452
    transport.send("b@example.org", ["ok@example.org"], MESSAGE)  # the connection survives
    assert [r.recipients for r in smtp.received] == [["ok@example.org"]]


def test_reconnects_after_the_server_hangs_up(smtp: SmtpServer) -> None:
    smtp.faults.drop_every = 2
    transport = SmtpTransport.from_url(smtp.url)
    delivered = 0
    for n in range(4):
        try:
            transport.send("b@example.org", [f"r{n}@example.org"], MESSAGE)
            delivered += 1
        except TemporaryFailure:
            pass
    transport.close()
    assert len(smtp.received) == delivered
    assert delivered >= 2


def test_an_absent_server_is_a_temporary_failure() -> None:
    transport = SmtpTransport.from_url("smtp://127.0.0.1:9", timeout=2)
    with pytest.raises(TemporaryFailure, match=r"cannot talk to 127\.0\.0\.1:9"):
        transport.send("b@example.org", ["r@example.org"], MESSAGE)


def test_url_options() -> None:
    transport = SmtpTransport.from_url("smtps://user%40x:p%3Ass@mail.example.org")
    assert (transport.host, transport.port, transport.implicit_tls) == (
        "mail.example.org",
        465,
        True,
    )
    assert (transport.username, transport.password) == ("user@x", "p:ss")
    plain = SmtpTransport.from_url("smtp://mail.example.org:587?starttls=true")
    assert (plain.port, plain.starttls, plain.implicit_tls) == (587, True, False)


def test_outbox_writes_whole_files(tmp_path: Path) -> None:
    transport = OutboxTransport(tmp_path / "outbox")
    transport.send("b@example.org", ["r@example.org"], MESSAGE)
    files = list((tmp_path / "outbox").iterdir())
    assert len(files) == 1
    assert files[0].suffix == ".eml"
    content = files[0].read_bytes()
    assert content.startswith(b"X-Envelope-From: b@example.org\r\nX-Envelope-To: r@example.org")
    assert content.endswith(MESSAGE)


def test_settings_choose_the_transport(tmp_path: Path) -> None:
    outbox = transport_from_settings(load_settings(var_dir=tmp_path))
    assert isinstance(outbox, OutboxTransport)
    assert outbox.folder == tmp_path / "outbox"
    smtp = transport_from_settings(load_settings(smtp_url="smtp://127.0.0.1:2525"))
    assert isinstance(smtp, SmtpTransport)
