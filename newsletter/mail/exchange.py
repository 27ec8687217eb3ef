"""One message over an open smtplib connection, pipelined (RFC 2920) when the server offers it."""

from __future__ import annotations

import contextlib
import re
import smtplib
from collections.abc import Sequence

# Dot-stuffing (RFC 5321 4.5.2), as SMTP.data() does it: a line that starts with "." gets one
# more. Ours, not smtplib's private helper: data() also sends DATA, which the pipelined group
# has already sent.
_LEADING_DOT = re.compile(rb"^\.", re.MULTILINE)

Reply = tuple[int, bytes]
Refused = dict[str, Reply]


class PayloadLost(smtplib.SMTPServerDisconnected):
    """The connection broke after the message data was written: the server may have taken it."""


def send_message(
    connection: smtplib.SMTP, sender: str, recipients: Sequence[str], message: bytes
) -> Refused:
    """smtplib's sendmail(), in 2 round trips when the server offers PIPELINING, else in 4.

    The same return value and exceptions as sendmail(), and after a refusal the connection is
    reset for the next message, except that a connection lost once the message data was
    written raises PayloadLost: sending the message again could deliver it twice.
    """
    connection.ehlo_or_helo_if_needed()
    options = [f"SIZE={len(message)}"] if connection.has_extn("size") else []
    envelope = _pipelined if connection.has_extn("pipelining") else _stepwise
    try:
        refused = envelope(connection, sender, recipients, options)
        code, reply = _data(connection, message)
        if code != 250:
            raise smtplib.SMTPDataError(code, reply)
    except (smtplib.SMTPResponseException, smtplib.SMTPRecipientsRefused) as exc:
        if _closing(exc):
            connection.close()
        elif connection.sock is not None:
            # A drop here shows on the next message, before anything of it is written.
            with contextlib.suppress(smtplib.SMTPServerDisconnected):
                connection.rset()
        raise
    return refused


def _stepwise(
    connection: smtplib.SMTP, sender: str, recipients: Sequence[str], options: list[str]
) -> Refused:
    """MAIL, each RCPT, then DATA, waiting for each reply, as sendmail() does."""
    _check_sender(sender, connection.mail(sender, options))
    replies: list[Reply] = []
    for recipient in recipients:
        replies.append(connection.rcpt(recipient))
        if replies[-1][0] == 421:
            break
    refused = _check_recipients(recipients, replies)
    _check_data(connection.docmd("DATA"))
    return refused


def _pipelined(
    connection: smtplib.SMTP, sender: str, recipients: Sequence[str], options: list[str]
) -> Refused:
    """MAIL, every RCPT and DATA in one write, then all their replies in order (RFC 2920 3.1).

    One message has few recipients, so the group fits the socket buffers and a blocking write
    cannot deadlock against a server that waits for us to read its replies.
    """
    group = [f"MAIL FROM:{smtplib.quoteaddr(sender)}{''.join(' ' + o for o in options)}"]
    group += [f"RCPT TO:{smtplib.quoteaddr(recipient)}" for recipient in recipients]
    group.append("DATA")
    connection.send(b"".join(_command(connection, line) for line in group))
    # A 421 means the server hangs up after it: no further replies will come.
    mail = connection.getreply()
    if mail[0] == 421:
        _check_sender(sender, mail)
    replies: list[Reply] = []
    for _ in recipients:
        replies.append(connection.getreply())
        if replies[-1][0] == 421:
            _check_recipients(recipients, replies)
    data = connection.getreply()
    if data[0] == 354 and (mail[0] != 250 or not any(_accepted(reply) for reply in replies)):
        # A server may accept DATA although nothing before it was (RFC 2920 3.1): end that
        # transaction with an empty message, never ours, before reporting the refusal.
        connection.send(b".\r\n")
        if connection.getreply()[0] == 421:
            connection.close()
    _check_sender(sender, mail)
    refused = _check_recipients(recipients, replies)
    _check_data(data)
    return refused


def _data(connection: smtplib.SMTP, message: bytes) -> Reply:
    """After a 354: the message, dot-stuffed and ended as SMTP.data() does, and its reply."""
    payload = _LEADING_DOT.sub(b"..", message)
    if not payload.endswith(b"\r\n"):
        payload += b"\r\n"
    try:
        connection.send(payload + b".\r\n")
        return connection.getreply()
    except smtplib.SMTPServerDisconnected as exc:
        raise PayloadLost(str(exc)) from exc


def _command(connection: smtplib.SMTP, line: str) -> bytes:
    """A command as SMTP.putcmd() sends it, to be written together with others."""
    if "\r" in line or "\n" in line:
        raise ValueError(f"command contains a line break: {line!r}")
    return f"{line}\r\n".encode(connection.command_encoding)


def _accepted(reply: Reply) -> bool:
    return reply[0] in (250, 251)


def _check_sender(sender: str, reply: Reply) -> None:
    if reply[0] != 250:
        raise smtplib.SMTPSenderRefused(reply[0], reply[1], sender)


def _check_recipients(recipients: Sequence[str], replies: list[Reply]) -> Refused:
    """The refused recipients; an error if that is all of them, or the server is closing."""
    # After a 421 there are fewer replies than recipients: the rest were never answered.
    pairs = zip(recipients, replies, strict=False)
    refused = {recipient: reply for recipient, reply in pairs if not _accepted(reply)}
    if len(refused) == len(recipients) or (replies and replies[-1][0] == 421):
        raise smtplib.SMTPRecipientsRefused(refused)
    return refused


def _check_data(reply: Reply) -> None:
    if reply[0] != 354:
        raise smtplib.SMTPDataError(reply[0], reply[1])


def _closing(exc: smtplib.SMTPResponseException | smtplib.SMTPRecipientsRefused) -> bool:
    """A 421 reply: the server is closing the connection, so there is nothing to reset."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return any(code == 421 for code, _ in exc.recipients.values())
    return exc.smtp_code == 421
