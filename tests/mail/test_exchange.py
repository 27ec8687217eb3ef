"""The SMTP exchange against scripted replies, for what a real server will not easily do."""

from __future__ import annotations

import io
import smtplib

import pytest

from newsletter.mail.exchange import PayloadLost, send_message

MESSAGE = b"Subject: Hi\r\n\r\n.hidden\r\nHello\r\n"
PAYLOAD = b"Subject: Hi\r\n\r\n..hidden\r\nHello\r\n.\r\n"


class FakeSocket:
    """Records each write; the server's replies are all there to read from the start."""

    def __init__(self, replies: bytes) -> None:
        self.replies = io.BytesIO(replies)
        self.writes: list[bytes] = []
        self.closed = False

    def sendall(self, data: bytes) -> None:
        self.writes.append(bytes(data))

    def makefile(self, mode: str) -> io.BytesIO:
        return self.replies

    def close(self) -> None:
        self.closed = True


def _connection(replies: bytes, *extensions: str) -> tuple[smtplib.SMTP, FakeSocket]:
    """A connection past EHLO, whose server offers `extensions`."""
    connection = smtplib.SMTP()
    sock = FakeSocket(replies)
    connection.sock = sock  # type: ignore[assignment]
    connection.ehlo_resp = b"fake"
    connection.does_esmtp = True
    connection.esmtp_features = dict.fromkeys(extensions, "")
    return connection, sock


def _lines(*replies: str) -> bytes:
    return "".join(f"{reply}\r\n" for reply in replies).encode()


def test_pipelined_one_write_for_the_envelope_one_for_the_message() -> None:
    replies = _lines("250 sender ok", "250-recipient", "250 ok", "251 forwarded", "354 go", "250 q")
    connection, sock = _connection(replies, "pipelining", "size")
    refused = send_message(connection, "b@example.org", ["r@example.org", "s@x.org"], MESSAGE)
    assert refused == {}
    assert sock.writes == [
        f"MAIL FROM:<b@example.org> SIZE={len(MESSAGE)}\r\n".encode()
        + b"RCPT TO:<r@example.org>\r\nRCPT TO:<s@x.org>\r\nDATA\r\n",
        PAYLOAD,
    ]


def test_without_pipelining_one_command_at_a_time() -> None:
    connection, sock = _connection(_lines("250 ok", "250 ok", "354 go", "250 queued"))
    assert send_message(connection, "b@example.org", ["r@example.org"], MESSAGE) == {}
    assert sock.writes == [
        b"mail FROM:<b@example.org>\r\n",
        b"rcpt TO:<r@example.org>\r\n",
        b"DATA\r\n",
        PAYLOAD,
    ]


def test_data_accepted_although_every_recipient_was_refused() -> None:
    """RFC 2920 3.1: end the transaction with an empty message, never the real one, then RSET."""
    replies = _lines("250 ok", "550 5.1.1 No such user", "354 go", "554 no recipients", "250 ok")
    connection, sock = _connection(replies, "pipelining")
    with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        send_message(connection, "b@example.org", ["gone@example.org"], MESSAGE)
    assert refused.value.recipients == {"gone@example.org": (550, b"5.1.1 No such user")}
    assert sock.writes[1:] == [b".\r\n", b"rset\r\n"]
    assert not sock.replies.read()  # every reply consumed: the connection is in step


def test_data_accepted_although_the_sender_was_refused() -> None:
    replies = _lines("451 4.3.0 later", "250 ok", "354 go", "503 no transaction", "250 ok")
    connection, sock = _connection(replies, "pipelining")
    with pytest.raises(smtplib.SMTPSenderRefused) as refused:
        send_message(connection, "b@example.org", ["r@example.org"], MESSAGE)
    assert (refused.value.smtp_code, refused.value.smtp_error) == (451, b"4.3.0 later")
    assert sock.writes[1:] == [b".\r\n", b"rset\r\n"]


def test_every_reply_of_a_refused_group_is_read_before_the_reset() -> None:
    replies = _lines("452 4.3.1 full", "503 need MAIL", "503 need RCPT", "250 reset")
    connection, sock = _connection(replies, "pipelining")
    with pytest.raises(smtplib.SMTPSenderRefused):
        send_message(connection, "b@example.org", ["r@example.org"], MESSAGE)
    assert sock.writes[1:] == [b"rset\r\n"]
    assert not sock.replies.read()


def test_some_recipients_refused_the_others_get_the_message() -> None:
    replies = _lines("250 ok", "450 4.2.1 later", "250 ok", "354 go", "250 queued")
    connection, sock = _connection(replies, "pipelining")
    refused = send_message(connection, "b@example.org", ["r@x.org", "s@x.org"], MESSAGE)
    assert refused == {"r@x.org": (450, b"4.2.1 later")}
    assert sock.writes[-1] == PAYLOAD


def test_a_421_ends_the_reading_and_closes() -> None:
    connection, sock = _connection(_lines("421 4.3.2 going down"), "pipelining")
    with pytest.raises(smtplib.SMTPSenderRefused) as closing:
        send_message(connection, "b@example.org", ["r@example.org"], MESSAGE)
    assert closing.value.smtp_code == 421
    assert sock.closed
    assert connection.sock is None


def test_a_421_to_a_recipient_reports_it() -> None:
    connection, sock = _connection(_lines("250 ok", "421 4.3.2 going down"), "pipelining")
    with pytest.raises(smtplib.SMTPRecipientsRefused) as closing:
        send_message(connection, "b@example.org", ["r@x.org", "s@x.org"], MESSAGE)
    assert closing.value.recipients == {"r@x.org": (421, b"4.3.2 going down")}
    assert sock.closed


@pytest.mark.parametrize("extensions", [("pipelining",), ()])
def test_a_drop_before_the_message_is_not_payload_lost(extensions: tuple[str, ...]) -> None:
    connection, sock = _connection(_lines("250 ok"), *extensions)
    with pytest.raises(smtplib.SMTPServerDisconnected) as dropped:
        send_message(connection, "b@example.org", ["r@example.org"], MESSAGE)
    assert not isinstance(dropped.value, PayloadLost)
    assert PAYLOAD not in sock.writes


@pytest.mark.parametrize("extensions", [("pipelining",), ()])
def test_a_drop_after_the_message_is_payload_lost(extensions: tuple[str, ...]) -> None:
    connection, sock = _connection(_lines("250 ok", "250 ok", "354 go"), *extensions)
    with pytest.raises(PayloadLost):
        send_message(connection, "b@example.org", ["r@example.org"], MESSAGE)
    assert sock.writes[-1] == PAYLOAD


def test_a_line_break_in_an_address_is_refused_before_anything_is_written() -> None:
    connection, sock = _connection(b"", "pipelining")
    with pytest.raises(ValueError, match="line break"):
        send_message(connection, "<>\r\nRSET", ["r@example.org"], MESSAGE)
    assert sock.writes == []


@pytest.mark.parametrize(
    "message",
    [
        MESSAGE,
        b".first\r\n..two\r\n.\r\nend with a dot.\r\n.",
        b"bare\nline feeds\n.dot\r.not after CR alone",
        b"",
    ],
    ids=["leading dot", "dots everywhere", "bare line feeds", "empty"],
)
def test_the_message_goes_out_as_smtplib_data_sends_it(message: bytes) -> None:
    piped, piped_sock = _connection(_lines("250 ok", "250 ok", "354 go", "250 queued"))
    send_message(piped, "b@example.org", ["r@example.org"], message)
    plain, plain_sock = _connection(_lines("354 go", "250 queued"))
    assert plain.data(message) == (250, b"queued")
    assert piped_sock.writes[-1] == plain_sock.writes[-1]
