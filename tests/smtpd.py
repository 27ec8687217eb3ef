"""A real SMTP server for tests (aiosmtpd in a thread) that can refuse, defer and hang up."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session, syntax


@dataclass
class Received:
    sender: str
    recipients: list[str]
    data: bytes
    at: float = field(default_factory=time.monotonic)  # when the server accepted it
    # MAIL FROM arrived with more commands behind it, unanswered: the client pipelined.
    pipelined: bool = False

    @property
    def message(self) -> Message:
        return message_from_bytes(self.data)


@dataclass
class Faults:
    """What the server does wrong; tests change these while it runs."""

    # Reply to RCPT TO for these addresses, e.g. {"x@example.org": "550 5.1.1 No such user"}.
    rcpt_replies: dict[str, str] = field(default_factory=dict)
    # Reply to DATA instead of accepting, e.g. "451 4.3.0 Try again later".
    data_reply: str | None = None
    # Reply to the DATA command itself instead of 354, so no message data is sent.
    data_command_reply: str | None = None
    # Hang up (without a reply) on every Nth DATA, counted over the server's life.
    drop_every: int | None = None
    # With drop_every: take the message first, so only the reply is lost, not the message.
    drop_keeps_message: bool = False
    # Sleep this long before answering DATA.
    delay: float = 0.0
    # Hold every DATA after this many (counted over the server's life) until `release()`:
    # a sender is then surely mid-send, however fast or slow the machine running the test.
    hold_after: int | None = None
    released: threading.Event = field(default_factory=threading.Event)


class _Handler:
    def __init__(self, faults: Faults, pipelining: bool) -> None:
        self.faults = faults
        self.pipelining = pipelining
        self.received: list[Received] = []
        self.data_commands = 0
        self.held = 0
        self.sessions: list[SMTP] = []
        self.lock = threading.Lock()

    async def handle_EHLO(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        hostname: str,
        responses: list[str],
    ) -> list[str]:
        # aiosmtpd reads pipelined commands correctly but does not say so; this hook does.
        session.host_name = hostname
        self.sessions.append(server)
        if self.pipelining:
            responses.insert(-1, "250-PIPELINING")
        return responses

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        # What is already buffered behind MAIL FROM was sent before its reply.
        envelope.pipelined = bool(server._reader._buffer)  # type: ignore[attr-defined]
        return "250 OK"

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        reply = self.faults.rcpt_replies.get(address.lower())
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        with self.lock:
            self.data_commands += 1
            count = self.data_commands
        hold_after = self.faults.hold_after
        if hold_after is not None and count > hold_after:
            with self.lock:
                self.held += 1
            while not self.faults.released.is_set():
                await asyncio.sleep(0.005)
        if self.faults.delay:
            time.sleep(self.faults.delay)
        dropping = bool(self.faults.drop_every and count % self.faults.drop_every == 0)
        if dropping and not self.faults.drop_keeps_message:
            assert server.transport is not None
            server.transport.close()
            return "421 4.4.2 closing"
        if self.faults.data_reply:
            return self.faults.data_reply
        data = envelope.original_content or b""
        pipelined = getattr(envelope, "pipelined", False)
        with self.lock:
            self.received.append(
                Received(
                    str(envelope.mail_from),
                    [str(r) for r in envelope.rcpt_tos],
                    data,
                    pipelined=pipelined,
                )
            )
        if dropping:
            assert server.transport is not None
            server.transport.close()
        return "250 2.0.0 Message accepted"


class _Smtp(SMTP):
    """aiosmtpd's server, able to refuse DATA itself, which no handler hook can."""

    @syntax("DATA")
    async def smtp_DATA(self, arg: str) -> None:
        reply = self.event_handler.faults.data_command_reply
        if reply and self.envelope is not None and self.envelope.rcpt_tos:
            await self.push(reply)
            return
        await super().smtp_DATA(arg)


class _Controller(Controller):
    def factory(self) -> SMTP:
        return _Smtp(self.handler, **self.SMTP_kwargs)


class SmtpServer:
    def __init__(self, controller: Controller, handler: _Handler) -> None:
        self.controller = controller
        self.handler = handler
        self.host = "127.0.0.1"
        self.port: int = controller.port
        self.running = True

    def stop(self) -> None:
        """Go away, as a mail server does mid-send; a second call does nothing."""
        if self.running:
            self.running = False
            self.controller.stop()

    @property
    def url(self) -> str:
        return f"smtp://{self.host}:{self.port}"

    @property
    def faults(self) -> Faults:
        return self.handler.faults

    @property
    def received(self) -> list[Received]:
        with self.handler.lock:
            return list(self.handler.received)

    @property
    def held(self) -> int:
        """How many DATA commands have waited for `release()` (see Faults.hold_after)."""
        with self.handler.lock:
            return self.handler.held

    def wait_until_held(self, count: int = 1, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout  # a hang guard only
        while self.held < count:
            assert time.monotonic() < deadline, f"{self.held} DATA held, not {count}"
            time.sleep(0.005)

    def release(self) -> None:
        """Let every held DATA (and every later one) go on."""
        self.faults.released.set()

    def hang_up(self, reply: str | None = None) -> None:
        """Close every open connection, as a server does to clients idle too long.

        With `reply` (Postfix says "421 4.4.2 ... Error: timeout exceeded") it is written first.
        """

        async def close_all() -> None:
            for session in self.handler.sessions:
                if session.transport is not None:
                    if reply is not None:
                        session.transport.write(f"{reply}\r\n".encode())
                    session.transport.close()

        asyncio.run_coroutine_threadsafe(close_all(), self.controller.loop).result(timeout=5)

    def to(self, address: str) -> list[Received]:
        return [r for r in self.received if address in r.recipients]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def smtp_server(
    faults: Faults | None = None,
    port: int | None = None,
    *,
    pipelining: bool = True,
    **kwargs: Any,
) -> Iterator[SmtpServer]:
    """A server on a free port, or on `port` to stand in for one that went away.

    It advertises PIPELINING, as Postfix, Exim and the big mailbox providers do, unless told
    not to; the transport then talks to it one command at a time.
    """
    handler = _Handler(faults or Faults(), pipelining)
    controller = _Controller(
        handler, hostname="127.0.0.1", port=port or _free_port(), decode_data=False, **kwargs
    )
    controller.start()
    server = SmtpServer(controller, handler)
    try:
        yield server
    finally:
        server.stop()
