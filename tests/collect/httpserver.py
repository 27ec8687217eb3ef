"""A real HTTP server on 127.0.0.1 that answers from a table of routes, faults included."""

from __future__ import annotations

import ssl
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit


@dataclass
class Reply:
    body: bytes = b""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    # Without Content-Length the body ends when the connection closes (HTTP/1.0).
    send_length: bool = True
    # Sent as it is instead of a proper answer, then the connection closes: a bad status line,
    # a body shorter than its Content-Length.
    raw: bytes | None = None
    # Seconds between the body's bytes, sent one at a time: a server that never quite stops.
    drip: float = 0.0


Route = Reply | Callable[[BaseHTTPRequestHandler], Reply]
# Waiting on an event that is never set, not time.sleep: under libfaketime with the monotonic
# clock left alone (the suite's shifted-clock run), time.sleep fails with EINVAL.
_pause = threading.Event().wait


@dataclass
class Server:
    base: str
    routes: dict[str, Route]
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)

    def hits(self, path: str) -> int:
        return sum(1 for seen, _ in self.requests if urlsplit(seen).path == path)


@contextmanager
def http_server(routes: dict[str, Route], tls: ssl.SSLContext | None = None) -> Iterator[Server]:
    """Serves routes on 127.0.0.1 (over TLS with a server context given as tls)."""
    state = Server("", routes)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state.requests.append((self.path, dict(self.headers.items())))
            route = state.routes.get(urlsplit(self.path).path)
            reply = (route(self) if callable(route) else route) or Reply(b"not found", 404)
            if reply.delay:
                _pause(reply.delay)
            try:
                if reply.raw is not None:
                    self.wfile.write(reply.raw)
                    self.close_connection = True
                    return
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                if reply.send_length and "Content-Length" not in reply.headers:
                    self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                if reply.drip:
                    for byte in reply.body:
                        self.wfile.write(bytes([byte]))
                        self.wfile.flush()
                        _pause(reply.drip)
                else:
                    self.wfile.write(reply.body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (timeouts, size caps): that is the point

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.do_GET()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    scheme = "https" if tls is not None else "http"
    state.base = f"{scheme}://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
