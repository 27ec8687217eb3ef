"""A real WebSub hub on 127.0.0.1 that records publish pings, can fail on purpose, and can
fetch each pinged feed at once, as a hub does to tell its subscribers what changed."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import httpx


class Hub:
    def __init__(self, url: str) -> None:
        self.url = url
        self.pings: list[dict[str, list[str]]] = []
        self.failures: list[int] = []  # status codes to answer before accepting
        self.attempts = 0
        self.gate = threading.Event()  # cleared, the hub holds every request until it is set
        self.gate.set()
        self.fetch = False  # set, each accepted ping fetches its hub.url
        self.fetched: dict[str, bytes] = {}


@contextmanager
def hub_server() -> Iterator[Hub]:
    hub: Hub

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            form = parse_qs(self.rfile.read(length).decode())
            hub.gate.wait(30)
            hub.attempts += 1
            status = hub.failures.pop(0) if hub.failures else 204
            if status == 204:
                hub.pings.append(form)
                if hub.fetch:
                    topic = form["hub.url"][0]
                    hub.fetched[topic] = httpx.get(topic, timeout=10).content
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    hub = Hub(f"http://127.0.0.1:{server.server_address[1]}/hub")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield hub
    finally:
        server.shutdown()
        server.server_close()
