"""Handing finished message bytes to a mail server, or to the outbox folder when there is none."""

from __future__ import annotations

import contextlib
import os
import re
import smtplib
import ssl
import threading
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol
from urllib.parse import parse_qs, unquote, urlsplit

from newsletter.config import Settings
from newsletter.errors import DeliveryError, PermanentFailure, TemporaryFailure, TransportFault
from newsletter.mail.exchange import PayloadLost, send_message

_ENHANCED = re.compile(rb"^([245]\.\d{1,3}\.\d{1,3})\b")


class Transport(Protocol):
    """The one seam through which every message leaves the service."""

    def send(self, sender: str, recipients: Sequence[str], message: bytes) -> None:
        """Hand over one message; raise TemporaryFailure or PermanentFailure when refused."""
        ...

    def close(self) -> None: ...


class OutboxTransport:
    """Writes each message as an .eml file; a half-written file is never visible."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def send(self, sender: str, recipients: Sequence[str], message: bytes) -> None:
        """Write tmp, fsync, rename; on any failure the tmp file goes and TransportFault says why.

        A folder that cannot be written (not a directory, read-only, disk full) refuses every
        message alike: the fault is the outbox's, never the recipient's.
        """
        name = f"{uuid.uuid4().hex}.eml"
        tmp = self.folder / f".{name}.tmp"
        envelope = f"X-Envelope-From: {sender}\r\nX-Envelope-To: {', '.join(recipients)}\r\n"
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            with tmp.open("wb") as handle:
                handle.write(envelope.encode("ascii", "backslashreplace"))
                handle.write(message)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.folder / name)
        except OSError as exc:
            with contextlib.suppress(OSError):
                tmp.unlink(missing_ok=True)
            # mkdir on a file says "File exists": say what is wrong instead.
            reason = "a file, not a folder" if isinstance(exc, FileExistsError) else exc.strerror
            reason = reason or str(exc)
            raise TransportFault(f"cannot write to the outbox {self.folder}: {reason}") from None

    def close(self) -> None:
        pass


@dataclass(frozen=True)
class Sent:
    """One message a MemoryTransport took."""

    sender: str
    recipients: tuple[str, ...]
    data: bytes


class MemoryTransport:
    """Keeps each message in a list instead of sending it: the fake beside SMTP and the outbox.

    One instance may serve every connection of a relay (`connect=lambda: memory`): it is
    thread-safe, and close() leaves it open. `refuse` fails one recipient, `fail_all` the whole
    relay (as a relay that is down or refuses every message would), until `heal()`.
    """

    def __init__(self) -> None:
        self.sent: list[Sent] = []
        self.refusals: dict[str, DeliveryError] = {}
        self.fault: DeliveryError | None = None
        self.closed = 0
        self._lock = threading.Lock()

    def refuse(self, recipient: str, error: DeliveryError) -> None:
        self.refusals[recipient] = error

    def fail_all(self, error: DeliveryError) -> None:
        self.fault = error

    def heal(self) -> None:
        self.refusals.clear()
        self.fault = None

    def send(self, sender: str, recipients: Sequence[str], message: bytes) -> None:
        if self.fault is not None:
            raise _fresh(self.fault)
        for recipient in recipients:
            if recipient in self.refusals:
                raise _fresh(self.refusals[recipient])
        with self._lock:
            self.sent.append(Sent(sender, tuple(recipients), message))

    def to(self, recipient: str) -> list[Sent]:
        """The messages addressed to `recipient`."""
        with self._lock:
            return [sent for sent in self.sent if recipient in sent.recipients]

    def close(self) -> None:
        with self._lock:
            self.closed += 1


class SmtpTransport:
    """One persistent SMTP connection, opened on first use and reopened after a drop."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        implicit_tls: bool = False,
        starttls: bool = False,
        username: str | None = None,
        password: str | None = None,
        timeout: float = 30.0,
        local_hostname: str | None = None,
    ) -> None:
        self.host, self.port = host, port
        self.implicit_tls, self.starttls = implicit_tls, starttls
        self.username, self.password = username, password
        self.timeout = timeout
        self.local_hostname = local_hostname
        self._connection: smtplib.SMTP | None = None

    @classmethod
    def from_url(cls, url: str, timeout: float = 30.0) -> SmtpTransport:
        parts = urlsplit(url)
        query = parse_qs(parts.query)
        implicit_tls = parts.scheme == "smtps"
        return cls(
            parts.hostname or "localhost",
            parts.port or (465 if implicit_tls else 25),
            implicit_tls=implicit_tls,
            starttls=query.get("starttls", ["false"])[0].lower() in ("1", "true", "yes"),
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            timeout=timeout,
        )

    def _connect(self) -> smtplib.SMTP:
        """A connection, signed in; TransportFault when the relay cannot be reached or used."""
        try:
            return self._open()
        except TransportFault:
            raise
        except (OSError, smtplib.SMTPException) as exc:
            # Refused, unresolvable, no greeting, TLS or sign-in failure: no message can go.
            raise TransportFault(f"cannot connect to {self.host}:{self.port}: {exc}") from None

    def _open(self) -> smtplib.SMTP:
        context = ssl.create_default_context()
        connection: smtplib.SMTP
        if self.implicit_tls:
            connection = smtplib.SMTP_SSL(
                self.host,
                self.port,
                timeout=self.timeout,
                context=context,
                local_hostname=self.local_hostname,
            )
        else:
            connection = smtplib.SMTP(
                self.host, self.port, timeout=self.timeout, local_hostname=self.local_hostname
            )
        try:
            if self.starttls and not self.implicit_tls:
                connection.starttls(context=context)
            if self.username:
                connection.login(self.username, self.password or "")
        except smtplib.SMTPAuthenticationError as exc:
            connection.close()
            # The relay refusing our credentials says nothing about the subscriber: a fault of
            # the way out, so deliveries wait (and the issue pauses) instead of failing for good.
            raw = exc.smtp_error
            reply = (raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw).strip()
            raise TransportFault(
                f"cannot sign in to {self.host}:{self.port} as {self.username}: "
                f"{exc.smtp_code} {reply}"
            ) from None
        except BaseException:
            connection.close()
            raise
        return connection

    def send(self, sender: str, recipients: Sequence[str], message: bytes) -> None:
        # A connection the server closed while idle (silently, or with a 421) is only noticed
        # on use: retry once, fresh.
        # Only while nothing of the message was written, though (PayloadLost otherwise): the
        # server may have taken it, and the deliver loop's later retry is the lesser evil. A
        # server that does not answer in time is not an idle hang-up: no retry, no double wait.
        for attempt in (1, 2):
            reused = self._connection is not None
            try:
                if self._connection is None:
                    self._connection = self._connect()
                refused = send_message(self._connection, sender, recipients, message)
            except PayloadLost as exc:
                self._drop()
                if _timed_out(exc):
                    raise TemporaryFailure(
                        f"no reply from {self.host} within {self.timeout:g}s "
                        "after the message was sent"
                    ) from None
                raise TemporaryFailure(
                    f"connection to {self.host} dropped after the message was sent, "
                    f"before the server's reply: {exc}"
                ) from None
            except smtplib.SMTPServerDisconnected as exc:
                self._drop()
                if _timed_out(exc):
                    raise TemporaryFailure(
                        f"no reply from {self.host} within {self.timeout:g}s"
                    ) from None
                if attempt == 2:
                    raise TemporaryFailure(f"connection to {self.host} dropped: {exc}") from None
                continue
            except smtplib.SMTPRecipientsRefused as exc:
                self._drop_if_closed()
                code, reply = next(iter(exc.recipients.values()))
                raise _failure(code, reply, "recipient refused") from None
            except smtplib.SMTPResponseException as exc:
                self._drop_if_closed()
                # Postfix and others say 421 as they close a connection left idle too long;
                # on a connection we reused it answers MAIL FROM, before any of the message.
                idle = isinstance(exc, smtplib.SMTPSenderRefused) and exc.smtp_code == 421
                if idle and reused and attempt == 1:
                    continue
                raise _failure(exc.smtp_code, exc.smtp_error, "message refused") from None
            except (OSError, smtplib.SMTPException) as exc:
                self._drop()
                raise TemporaryFailure(f"cannot talk to {self.host}:{self.port}: {exc}") from None
            if refused:
                code, reply = next(iter(refused.values()))
                raise _failure(code, reply, "recipient refused")
            return

    def _drop_if_closed(self) -> None:
        """After a 421 the connection is closed: open a new one for the next message."""
        if self._connection is not None and self._connection.sock is None:
            self._drop()

    def _drop(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(OSError, smtplib.SMTPException):
                self._connection.close()
        self._connection = None

    def close(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(TimeoutError, OSError, smtplib.SMTPException):
                self._connection.quit()
        self._drop()


def _fresh(error: DeliveryError) -> DeliveryError:
    """A new exception like `error`: one instance raised in several threads shares a traceback."""
    return type(error)(str(error), code=error.code, enhanced=error.enhanced)


def _timed_out(exc: BaseException) -> bool:
    """smtplib reports a read timeout as a disconnection; the TimeoutError is in its chain."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, TimeoutError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _failure(code: int, reply: bytes | str, what: str) -> TemporaryFailure | PermanentFailure:
    raw = reply.encode() if isinstance(reply, str) else reply
    text = raw.decode("utf-8", "replace").strip()
    match = _ENHANCED.match(raw)
    enhanced = match.group(1).decode() if match else None
    kind = PermanentFailure if 500 <= code < 600 else TemporaryFailure
    return kind(f"{what}: {code} {text}", code=code, enhanced=enhanced)


def transport_from_settings(settings: Settings) -> Transport:
    """SMTP when NEWSLETTER_SMTP_URL is set, else the outbox folder under var/."""
    if settings.smtp_url:
        return SmtpTransport.from_url(settings.smtp_url, timeout=settings.delivery.timeout_seconds)
    return OutboxTransport(settings.outbox_dir)
