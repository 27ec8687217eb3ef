"""A real HTTP server for the app (uvicorn in a thread) and a real browser (Debian's chromium)."""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import uvicorn

from newsletter import catalog, migrate
from newsletter.clock import Clock
from newsletter.config import Settings
from newsletter.runtime import Runtime
from newsletter.web.app import create_app

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# Without these, chromium keeps trying to reach Google's hosts, which this network refuses.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def settings_at(settings: Settings, base_url: str, **subscribers: Any) -> Settings:
    """The settings served at `base_url`, `[subscribers]` changed as given (validated)."""
    section = settings.subscribers.model_validate(
        {**settings.subscribers.model_dump(), **subscribers}
    )
    site = settings.site.model_validate({**settings.site.model_dump(), "url": base_url})
    return settings.model_copy(update={"subscribers": section, "site": site})


def runtime_at(settings: Settings, clock: Clock) -> Runtime:
    """A migrated database with the site's topics, wired with `clock`."""
    runtime = Runtime.build(settings, clock=clock)
    migrate.upgrade(runtime.engine)
    with runtime.sessions.begin() as session:
        catalog.sync(session, settings, clock.now())
    return runtime


@contextmanager
def live_server(runtime: Runtime, port: int) -> Iterator[str]:
    """Serve the app on the port its site URL names, until the block ends."""
    server = uvicorn.Server(
        uvicorn.Config(create_app(runtime), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive(), "the server stopped during start-up"
        assert time.monotonic() < deadline, "the server did not start within 20 s"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def _browser_env() -> dict[str, str]:
    """The browser is the reader's, on the reader's clock: a shifted-clock run (libfaketime,
    see .ci/run) fakes the service's time, and chromium crawls when preloaded with it."""
    return {
        key: value
        for key, value in os.environ.items()
        if key != "LD_PRELOAD" and not key.startswith("FAKETIME")
    }


@pytest.fixture
def browser() -> Iterator[Any]:
    if CHROMIUM is None:
        pytest.skip("chromium is not installed (.ci/run installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, env=_browser_env()
        )
        try:
            yield launched
        finally:
            launched.close()
