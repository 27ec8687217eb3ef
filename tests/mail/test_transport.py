"""The transport against a real SMTP server, with and without PIPELINING, and the outbox folder."""

from __future__ import annotations

import errno
import os
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from newsletter.config import load_settings
from newsletter.errors import PermanentFailure, TemporaryFailure, TransportFault
from newsletter.mail import transport as transport_module
from newsletter.mail.transport import (
    OutboxTransport,
    SmtpTransport,
    transport_from_settings,
)
from tests.smtpd import SmtpServer, smtp_server

MESSAGE = b"From: a@example.org\r\nTo: b@example.org\r\nSubject: Hi\r\n\r\nHello\r\n"


@pytest.fixture(params=[True, False], ids=["pipelining", "one-by-one"])
def server(request: pytest.FixtureRequest) -> Iterator[SmtpServer]:
    """The real test server, advertising PIPELINING or not: both paths of the transport."""
    with smtp_server(pipelining=request.param) as running:
        yield running


def _message(n: int) -> bytes:
    return MESSAGE.replace(b"Hello", f"Hello {n}".encode())


def _sent(server: SmtpServer) -> Counter[str]:
    return Counter(address for received in server.received for address in received.recipients)


def test_many_messages_over_one_connection_each_once_and_intact(server: SmtpServer) -> None:
    transport = SmtpTransport.from_url(server.url)
    for n in range(50):
        transport.send("bounces@example.org", [f"r{n}@example.org"], _message(n))
    transport.close()
    assert [r.recipients for r in server.received] == [[f"r{n}@example.org"] for n in range(50)]
    assert [r.data for r in server.received] == [_message(n) for n in range(50)]
    assert server.received[0].sender == "bounces@example.org"
    assert server.received[0].message["Subject"] == "Hi"
    assert len(server.handler.sessions) == 1
    # The group MAIL, RCPT, DATA reached the server at once only when it offered PIPELINING.
    assert {r.pipelined for r in server.received} == {server.handler.pipelining}


def test_lines_starting_with_a_dot_arrive_unchanged(server: SmtpServer) -> None:
    body = b"Subject: dots\r\n\r\n.\r\n..\r\n.hidden\r\nend\r\n.\r\n"
    transport = SmtpTransport.from_url(server.url)
    transport.send("b@example.org", ["r@example.org"], body)
    transport.send("b@example.org", ["s@example.org"], b"Subject: x\r\n\r\nno final line break")
    transport.close()
    assert [r.data for r in server.received] == [
        body,
        b"Subject: x\r\n\r\nno final line break\r\n",
    ]


def test_refused_recipients_and_the_connection_carries_on(server: SmtpServer) -> None:
    server.faults.rcpt_replies = {
        "gone@example.org": "550 5.1.1 No such user",
        "full@example.org": "452 4.2.2 Mailbox full",
    }
    transport = SmtpTransport.from_url(server.url)
    for n in range(3):
        with pytest.raises(PermanentFailure) as permanent:
            transport.send("b@example.org", ["gone@example.org"], MESSAGE)
        assert (permanent.value.code, permanent.value.enhanced) == (550, "5.1.1")
        assert "recipient refused: 550 5.1.1 No such user" in str(permanent.value)
        with pytest.raises(TemporaryFailure) as temporary:
            transport.send("b@example.org", ["full@example.org"], MESSAGE)
        assert (temporary.value.code, temporary.value.enhanced) == (452, "4.2.2")
        transport.send("b@example.org", [f"ok{n}@example.org"], _message(n))
    transport.close()
    assert [r.recipients for r in server.received] == [[f"ok{n}@example.org"] for n in range(3)]
    assert [r.data for r in server.received] == [_message(n) for n in range(3)]
    assert len(server.handler.sessions) == 1  # the connection survives every refusal


def test_several_recipients_some_refused(server: SmtpServer) -> None:
    server.faults.rcpt_replies = {"gone@example.org": "550 5.1.1 No such user"}
    transport = SmtpTransport.from_url(server.url)
    transport.send("b@example.org", ["a@example.org", "c@example.org"], MESSAGE)
    with pytest.raises(PermanentFailure) as refused:
        transport.send("b@example.org", ["d@example.org", "gone@example.org"], MESSAGE)
    assert (refused.value.code, refused.value.enhanced) == (550, "5.1.1")
    with pytest.raises(PermanentFailure):
        transport.send("b@example.org", ["gone@example.org", "gone@example.org"], MESSAGE)
    transport.close()
    # As with sendmail(), the others still get the message; the failure names the refusal.
    assert [r.recipients for r in server.received] == [
        ["a@example.org", "c@example.org"],
        ["d@example.org"],
    ]


@pytest.mark.parametrize(
    ("reply", "kind"),
    [("451 4.3.0 Try again later", TemporaryFailure), ("554 5.6.0 No thanks", PermanentFailure)],
)
def test_data_refused_before_or_after_the_message(
    server: SmtpServer, reply: str, kind: type[Exception]
) -> None:
    transport = SmtpTransport.from_url(server.url)
    server.faults.data_command_reply = reply
    with pytest.raises(kind, match=f"message refused: {reply}"):
        transport.send("b@example.org", ["r1@example.org"], MESSAGE)
    server.faults.data_command_reply = None
    server.faults.data_reply = reply
    with pytest.raises(kind, match=f"message refused: {reply}"):
        transport.send("b@example.org", ["r2@example.org"], MESSAGE)
    server.faults.data_reply = None
    transport.send("b@example.org", ["r3@example.org"], MESSAGE)  # RSET left it usable
    transport.close()
    assert [r.recipients for r in server.received] == [["r3@example.org"]]
    assert len(server.handler.sessions) == 1


def test_a_closing_server_is_temporary_and_the_next_message_reconnects(
    server: SmtpServer,
) -> None:
    server.faults.rcpt_replies = {"r1@example.org": "421 4.3.2 Shutting down"}
    transport = SmtpTransport.from_url(server.url)
    with pytest.raises(TemporaryFailure, match="recipient refused: 421") as closing:
        transport.send("b@example.org", ["r1@example.org"], MESSAGE)
    assert closing.value.code == 421
    transport.send("b@example.org", ["r2@example.org"], MESSAGE)
    transport.close()
    assert [r.recipients for r in server.received] == [["r2@example.org"]]
    assert len(server.handler.sessions) == 2


def test_a_drop_every_few_messages_loses_and_repeats_nothing(server: SmtpServer) -> None:
    server.faults.drop_every = 3
    transport = SmtpTransport.from_url(server.url)
    delivered, failed, errors = [], [], []
    for n in range(12):
        address = f"r{n}@example.org"
        try:
            transport.send("b@example.org", [address], _message(n))
            delivered.append(address)
        except TemporaryFailure as exc:
            errors.append(str(exc))
            failed.append(address)
    transport.close()
    assert all("dropped after the message was sent" in error for error in errors)
    assert _sent(server) == Counter(delivered)
    # The hang-up came after the message was sent, so it was not sent again on a new connection.
    assert failed == [f"r{n}@example.org" for n in (2, 5, 8, 11)]
    assert len(server.handler.sessions) == 4


def test_a_lost_reply_is_not_answered_by_sending_again(server: SmtpServer) -> None:
    """The server took the message and hung up before saying so: a resend would duplicate it."""
    server.faults.drop_every = 2
    server.faults.drop_keeps_message = True
    transport = SmtpTransport.from_url(server.url)
    outcomes = []
    for n in range(6):
        try:
            transport.send("b@example.org", [f"r{n}@example.org"], _message(n))
            outcomes.append("sent")
        except TemporaryFailure as exc:
            outcomes.append(str(exc))
    transport.close()
    lost = "connection to 127.0.0.1 dropped after the message was sent, before the server's reply"
    assert [outcome.split(":")[0] for outcome in outcomes] == ["sent", lost] * 3
    assert _sent(server) == Counter(f"r{n}@example.org" for n in range(6))


def test_a_connection_closed_while_idle_is_reopened_and_sends_once(server: SmtpServer) -> None:
    transport = SmtpTransport.from_url(server.url)
    transport.send("b@example.org", ["r0@example.org"], _message(0))
    for n in (1, 2):
        server.hang_up()
        transport.send("b@example.org", [f"r{n}@example.org"], _message(n))
    transport.close()
    assert [r.data for r in server.received] == [_message(n) for n in range(3)]
    assert len(server.handler.sessions) == 3


def test_an_idle_connection_closed_with_a_421_is_reopened_and_sends_once(
    server: SmtpServer,
) -> None:
    transport = SmtpTransport.from_url(server.url)
    transport.send("b@example.org", ["r0@example.org"], _message(0))
    server.hang_up("421 4.4.2 mail.example.org Error: timeout exceeded")
    transport.send("b@example.org", ["r1@example.org"], _message(1))
    transport.close()
    assert [r.data for r in server.received] == [_message(0), _message(1)]
    assert len(server.handler.sessions) == 2


def test_a_421_on_a_fresh_connection_is_a_temporary_failure(server: SmtpServer) -> None:
    server.faults.rcpt_replies["r0@example.org"] = "421 4.3.2 shutting down"
    transport = SmtpTransport.from_url(server.url)
    with pytest.raises(TemporaryFailure, match="421"):
        transport.send("b@example.org", ["r0@example.org"], _message(0))
    transport.send("b@example.org", ["r1@example.org"], _message(1))
    transport.close()
    assert [r.data for r in server.received] == [_message(1)]


def test_a_server_that_goes_away_mid_send_and_comes_back(server: SmtpServer) -> None:
    transport = SmtpTransport.from_url(server.url, timeout=5)
    transport.send("b@example.org", ["r0@example.org"], MESSAGE)
    server.stop()
    # The dropped connection is retried once, fresh; that finds nobody listening.
    with pytest.raises(TransportFault, match=r"cannot connect to 127\.0\.0\.1"):
        transport.send("b@example.org", ["r1@example.org"], MESSAGE)
    with smtp_server(port=server.port, pipelining=server.handler.pipelining) as second:
        transport.send("b@example.org", ["r2@example.org"], MESSAGE)
        transport.close()
        assert [r.recipients for r in second.received] == [["r2@example.org"]]
    assert [r.recipients for r in server.received] == [["r0@example.org"]]


def test_no_reply_to_the_message_in_time_is_not_answered_by_sending_again(
    server: SmtpServer,
) -> None:
    server.faults.delay = 0.6  # the server takes the message, but only after our timeout
    transport = SmtpTransport.from_url(server.url, timeout=0.2)
    with pytest.raises(TemporaryFailure) as late:
        transport.send("b@example.org", ["r0@example.org"], MESSAGE)
    assert str(late.value) == "no reply from 127.0.0.1 within 0.2s after the message was sent"
    deadline = time.monotonic() + 5
    while not server.received and time.monotonic() < deadline:
        time.sleep(0.01)
    server.faults.delay = 0
    transport.send("b@example.org", ["r1@example.org"], MESSAGE)
    transport.close()
    assert [r.recipients for r in server.received] == [["r0@example.org"], ["r1@example.org"]]


@contextmanager
def _silent_server() -> Iterator[tuple[int, list[socket.socket]]]:
    """Greets and answers EHLO, then never says anything again: a hung mail server."""
    listener = socket.create_server(("127.0.0.1", 0))
    accepted: list[socket.socket] = []

    def serve() -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            accepted.append(client)
            client.sendall(b"220 hello\r\n")
            client.recv(1024)
            client.sendall(b"250-hello\r\n250 PIPELINING\r\n")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1], accepted
    finally:
        listener.close()
        for client in accepted:
            client.close()


def test_a_server_that_stops_answering_is_a_timeout_not_retried() -> None:
    with _silent_server() as (port, accepted):
        transport = SmtpTransport.from_url(f"smtp://127.0.0.1:{port}", timeout=0.2)
        with pytest.raises(TemporaryFailure) as hung:
            transport.send("b@example.org", ["r@example.org"], MESSAGE)
        assert str(hung.value) == "no reply from 127.0.0.1 within 0.2s"
        assert len(accepted) == 1  # an idle hang-up is retried at once; a hung server is not


def test_an_absent_server_is_a_transport_fault() -> None:
    """Nobody listening is the relay's fault, not the recipient's: TransportFault, not a 4xx."""
    transport = SmtpTransport.from_url("smtp://127.0.0.1:9", timeout=2)
    with pytest.raises(TransportFault, match=r"^cannot connect to 127\.0\.0\.1:9: ") as fault:
        transport.send("b@example.org", ["r@example.org"], MESSAGE)
    assert isinstance(fault.value, TemporaryFailure)


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


def test_an_outbox_that_is_a_file_is_a_transport_fault(tmp_path: Path) -> None:
    (tmp_path / "outbox").write_text("not a folder")
    transport = OutboxTransport(tmp_path / "outbox")
    with pytest.raises(TransportFault, match=r"^cannot write to the outbox .*outbox: a file, not"):
        transport.send("b@example.org", ["r@example.org"], MESSAGE)
    assert (tmp_path / "outbox").read_text() == "not a folder"


def test_a_full_disk_leaves_no_tmp_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """ENOSPC as a full disk says it (at the fsync): the half-written file is removed."""

    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(transport_module.os, "fsync", full)
    transport = OutboxTransport(tmp_path / "outbox")
    with pytest.raises(TransportFault, match="No space left on device"):
        transport.send("b@example.org", ["r@example.org"], MESSAGE)
    assert list((tmp_path / "outbox").iterdir()) == []
    monkeypatch.undo()
    transport.send("b@example.org", ["r@example.org"], MESSAGE)
    assert [p.suffix for p in (tmp_path / "outbox").iterdir()] == [".eml"]


def test_settings_choose_the_transport(tmp_path: Path) -> None:
    outbox = transport_from_settings(load_settings(var_dir=tmp_path))
    assert isinstance(outbox, OutboxTransport)
    assert outbox.folder == tmp_path / "outbox"
    smtp = transport_from_settings(load_settings(smtp_url="smtp://127.0.0.1:2525"))
    assert isinstance(smtp, SmtpTransport)
