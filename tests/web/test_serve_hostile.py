"""`newsletter serve` as a real process against hostile clients: bodies, headers, tokens."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import select
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from newsletter import catalog
from newsletter.config import SourceSettings
from newsletter.runtime import Runtime
from tests.web.live import free_port

NEWSLETTER = str(Path(sys.executable).parent / "newsletter")
KEY = "push-key-for-serve-tests-0123456789"
SOURCES = [
    {"name": "cms", "kind": "push", "api_key_sha256": hashlib.sha256(KEY.encode()).hexdigest()}
]
BODY_SIZE = 50 * 1024 * 1024
# The server's resident memory may grow this much while a BODY_SIZE body is thrown at it.
RSS_ALLOWANCE = 40 * 1024 * 1024

Server = tuple[subprocess.Popen[bytes], int, Path]


@pytest.fixture
def serve(runtime: Runtime, tmp_path: Path) -> Iterator[Callable[..., Server]]:
    """Start `newsletter serve` (output to a log file) on the test's database."""
    # The push API reads its sources from the database, as `newsletter init` seeds it.
    seeded = runtime.settings.model_copy(
        update={"sources": [SourceSettings.model_validate(source) for source in SOURCES]}
    )
    with runtime.sessions.begin() as session:
        catalog.sync(session, seeded, runtime.clock.now())
    env = {
        **os.environ,
        "NEWSLETTER_DATABASE_URL": runtime.settings.database_url,
        "NEWSLETTER_VAR_DIR": str(runtime.settings.var_dir),
        "NEWSLETTER_SITE_URL": "https://news.example.org",
        "NEWSLETTER_SOURCES": json.dumps(SOURCES),
    }
    started: list[subprocess.Popen[bytes]] = []

    def start(*extra: str) -> Server:
        port = free_port()
        log = tmp_path / f"serve-{port}.log"
        process = subprocess.Popen(
            [NEWSLETTER, "serve", "--port", str(port), *extra],
            env=env,
            stdout=log.open("wb"),
            stderr=subprocess.STDOUT,
        )
        started.append(process)
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, log.read_text()
            try:
                httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
                return process, port, log
            except httpx.TransportError:
                assert time.monotonic() < deadline, "serve did not start within 30 s"
                time.sleep(0.2)

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait()


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, so the log is flushed to its file."""
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == 0


def _memory(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) * 1024
    raise AssertionError(f"no {field} in /proc/{pid}/status")


def _throw_body(port: int, headers: dict[str, str]) -> tuple[int, int]:
    """POST up to BODY_SIZE bytes chunked (no length given); stop as soon as an answer comes.

    Returns the answer's status and how many body bytes were sent before it.
    """
    head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    chunk = b"a" * 65536
    frame = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
    sent = 0
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(
            f"POST /api/posts HTTP/1.1\r\nHost: 127.0.0.1\r\n{head}"
            "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n".encode()
        )
        sock.sendall(b'6\r\n{"x":"\r\n')
        try:
            while sent < BODY_SIZE:
                readable, _, _ = select.select([sock], [], [], 0)
                if readable:
                    break
                sock.sendall(frame)
                sent += len(chunk)
            else:
                sock.sendall(b'2\r\n"}\r\n0\r\n\r\n')
        except OSError:
            pass  # the server stopped reading and closed: its answer is waiting
        answer = sock.recv(4096)
    return int(answer.split(b" ", 2)[1]), sent


def test_a_huge_body_is_refused_unread_and_memory_stays_flat(
    serve: Callable[..., Server],
) -> None:
    process, port, _log = serve()
    # VmHWM (peak resident memory) starts again from the current size.
    Path(f"/proc/{process.pid}/clear_refs").write_text("5")
    before = _memory(process.pid, "VmRSS")

    status, sent = _throw_body(port, {})
    assert status == 401  # no key: refused before the body is read
    assert sent < BODY_SIZE
    status, sent = _throw_body(port, {"Authorization": f"Bearer {KEY}"})
    assert status == 413  # a key, and more than [web] max_body_bytes
    assert sent < BODY_SIZE

    assert _memory(process.pid, "VmHWM") - before < RSS_ALLOWANCE
    _stop(process)


def test_tokens_stay_out_of_the_access_log(serve: Callable[..., Server]) -> None:
    process, port, log = serve()
    base = f"http://127.0.0.1:{port}"
    httpx.get(f"{base}/confirm?token=SECRETVALUE1")
    httpx.post(f"{base}/unsubscribe?topic=all&token=SECRETVALUE2")
    httpx.get(f"{base}/preferences?Token=SECRETVALUE3&x=1")
    httpx.get(f"{base}/r/SECRETVALUE4/more")
    _stop(process)
    output = log.read_text()
    assert "SECRETVALUE" not in output
    # Every request is still logged, its path and the names of its parameters intact.
    assert '"GET /confirm?token=[redacted] HTTP/1.1"' in output
    assert '"POST /unsubscribe?topic=all&token=[redacted] HTTP/1.1"' in output
    assert '"GET /preferences?Token=[redacted]&x=1 HTTP/1.1"' in output
    assert '"GET /r/[redacted] HTTP/1.1"' in output


def _client_seen(port: int, log: Path, process: subprocess.Popen[bytes]) -> str:
    """The client address the app is handed (scope["client"]), as the access log shows it."""
    # Sent from 127.0.0.3, standing in for a proxy on another host than the server's.
    transport = httpx.HTTPTransport(local_address="127.0.0.3")
    with httpx.Client(transport=transport) as client:
        client.get(f"http://127.0.0.1:{port}/", headers={"X-Forwarded-For": "203.0.113.9"})
    _stop(process)
    line = next(line for line in log.read_text().splitlines() if '"GET / HTTP/1.1"' in line)
    return line.split(" - ")[0].split()[-1].rsplit(":", 1)[0]


def test_forwarded_for_is_believed_only_from_the_allowed_proxies(
    serve: Callable[..., Server],
) -> None:
    process, port, log = serve("--forwarded-allow-ips", "127.0.0.3")
    assert _client_seen(port, log, process) == "203.0.113.9"
    process, port, log = serve()  # default: 127.0.0.1 only
    assert _client_seen(port, log, process) == "127.0.0.3"


def test_a_proxy_list_uvicorn_would_misread_is_refused(tmp_path: Path) -> None:
    # uvicorn takes "proxy.local" or "10.0.0.0/33" for a literal that never matches, silently.
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSLETTER_")}

    def serve(*extra: str) -> subprocess.CompletedProcess[str]:
        command = [NEWSLETTER, "serve", "--port", "1", *extra]
        return subprocess.run(
            command, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120
        )

    result = serve("--forwarded-allow-ips", "10.0.0.5, proxy.local")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "error: --forwarded-allow-ips: 'proxy.local' is not an IP address or network; "
        "use e.g. '10.0.0.5, 172.16.0.0/12' or '*'"
    ]
    env["NEWSLETTER_WEB__FORWARDED_ALLOW_IPS"] = "10.0.0.0/33"
    result = serve()
    assert result.returncode == 2
    assert "invalid setting web.forwarded_allow_ips" in result.stderr


def _answer(sock: socket.socket) -> bytes:
    """What the server says before it closes the connection (b"" for nothing at all)."""
    received = b""
    while chunk := sock.recv(65536):
        received += chunk
    return received


def test_huge_or_slow_headers_are_cut_off(serve: Callable[..., Server]) -> None:
    process, port, _log = serve()
    address = ("127.0.0.1", port)
    # Headers beyond the server's read buffer, or more of them than it takes: 431, closed.
    huge = b"X-Huge: " + b"a" * 1_000_000 + b"\r\n"
    many = b"".join(b"X-Many-%d: a\r\n" % i for i in range(200))
    for headers in (huge, many):
        with socket.create_connection(address, timeout=30) as sock:
            # Refused before the rest is read: the write may fail, the answer is waiting.
            with contextlib.suppress(OSError):
                sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n" + headers + b"\r\n")
            assert _answer(sock).startswith(b"HTTP/1.1 431 ")

    # Headers that never end, and a kept-alive connection that sends nothing more: both are
    # closed after the header timeout, while the server goes on answering everyone else.
    slow = socket.create_connection(address, timeout=30)
    slow.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: a\r\n")
    idle = socket.create_connection(address, timeout=30)
    idle.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    assert idle.recv(65536).startswith(b"HTTP/1.1 200 ")
    started = time.monotonic()
    assert httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200
    with slow, idle:
        assert _answer(slow) == b""
        assert _answer(idle) == b""
        assert time.monotonic() - started < 20
    # A connection still open does not hold up a stop.
    with socket.create_connection(address, timeout=30):
        _stop(process)
