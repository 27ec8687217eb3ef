"""Signup from the newsroom's own pages: the pasted form and POST /api/subscribe, allowed
origins only, through the same policy as /subscribe."""

from __future__ import annotations

import http.server
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from newsletter.clock import FixedClock
from newsletter.config import Settings
from newsletter.runtime import Runtime
from newsletter.templating import environment
from newsletter.web.admin.signup_forms import snippets
from newsletter.web.app import create_app
from subscribers.audience import topic_cadences
from subscribers.models import SignupRequest, Subscriber
from tests.web.live import (  # noqa: F401 (browser is a fixture)
    browser,
    free_port,
    live_server,
    runtime_at,
    settings_at,
)

NOW = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)
NEWSROOM = "https://news.example.org"


def _site(settings: Settings, base_url: str, origins: list[str]) -> Runtime:
    return runtime_at(settings_at(settings, base_url, embed_origins=origins), FixedClock(NOW))


@pytest.fixture
def site(settings: Settings) -> Iterator[Runtime]:
    runtime = _site(settings, "https://letters.example.org", [NEWSROOM])
    yield runtime
    runtime.close()


def _queued(runtime: Runtime) -> list[SignupRequest]:
    with runtime.sessions() as session:
        return list(session.scalars(select(SignupRequest).order_by(SignupRequest.id)))


def test_the_pasted_form_signs_up_from_an_allowed_page(site: Runtime) -> None:
    client = TestClient(create_app(site), base_url="https://letters.example.org")
    story = f"{NEWSROOM}/2026/11/asylum-story/?utm_source=site"
    answer = client.post(
        "/subscribe/embed",
        data={"email": "reader@example.org", "topics": "asylum"},
        headers={"Origin": NEWSROOM, "Referer": story, "Accept": "text/html"},
    )
    assert answer.status_code == 200
    assert "Check your inbox" in answer.text
    assert f'href="{NEWSROOM}/2026/11/asylum-story/"' in answer.text  # the way back
    [request] = _queued(site)
    assert request.email == "reader@example.org"
    assert request.origin == {
        "page": f"{NEWSROOM}/2026/11/asylum-story/",
        "referrer": "",
        "utm_source": "site",
    }


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://evil.example"},
        {"Origin": "null", "Referer": "https://evil.example/page"},
        {"Referer": "https://news.example.org.evil.example/"},
        {},  # neither: a script, not a reader's browser on the newsroom's page
    ],
)
def test_the_pasted_form_is_refused_elsewhere(site: Runtime, headers: dict[str, str]) -> None:
    client = TestClient(create_app(site), base_url="https://letters.example.org")
    answer = client.post(
        "/subscribe/embed",
        data={"email": "victim@example.org"},
        headers={**headers, "Accept": "text/html"},
    )
    assert answer.status_code == 403
    assert "Nothing was saved" in answer.text
    assert _queued(site) == []


def _known(runtime: Runtime, email: str) -> list[str] | None:
    """A stored subscriber's topics; None while there is no such subscriber."""
    with runtime.sessions() as session:
        found = session.scalar(select(Subscriber).where(Subscriber.email == email))
        if found is None:
            return None
        return sorted(topic_cadences(session, [found.id]).get(found.id, {}))


def _api(site: Runtime, body: Any, origin: str = NEWSROOM) -> Any:
    client = TestClient(create_app(site), base_url="https://letters.example.org")
    return client.post("/api/subscribe", json=body, headers={"Origin": origin})


def test_the_api_answers_the_same_for_every_address_and_queues_one_request(
    site: Runtime,
) -> None:
    answer = _api(
        site,
        {
            "email": "Reader@Example.org",
            "topics": ["asylum"],
            "page": f"{NEWSROOM}/a",
            "utm": {"utm_medium": "app"},
        },
    )
    assert answer.status_code == 202
    assert answer.headers["access-control-allow-origin"] == NEWSROOM
    assert answer.headers["vary"] == "Origin"
    [request] = _queued(site)
    assert (request.email, request.origin) == (
        "reader@example.org",
        {"page": f"{NEWSROOM}/a", "referrer": "", "utm_medium": "app"},
    )
    bot = _api(site, {"email": "bot@example.org", "website": "http://spam.example"})
    assert bot.status_code == 202  # the honeypot answers as a signup does
    assert len(_queued(site)) == 1


@pytest.mark.parametrize(
    ("body", "status", "said"),
    [
        ({"email": "not-an-address"}, 422, {"field": "email"}),
        ({"email": "a@example.org", "topics": ["nope"]}, 422, {"field": "topics"}),
        ({"email": "a@example.org", "name": "A\nBcc: x@example.net"}, 422, {"field": "name"}),
        ({"topics": []}, 422, {"fields": ["email"]}),
        ({"email": "a@example.org", "topics": ["x"] * 51}, 422, {"fields": ["topics"]}),
    ],
)
def test_the_api_names_the_field_at_fault(
    site: Runtime, body: dict[str, Any], status: int, said: dict[str, Any]
) -> None:
    answer = _api(site, body)
    assert answer.status_code == status
    assert said.items() <= answer.json().items()
    assert "a@example.org" not in answer.text or "email" not in said.get("fields", [])
    assert _queued(site) == []


def test_the_api_refuses_bad_json_and_other_origins(site: Runtime) -> None:
    client = TestClient(create_app(site), base_url="https://letters.example.org")
    broken = client.post(
        "/api/subscribe",
        content=b'{"email": "a@example.org"',
        headers={"Origin": NEWSROOM, "Content-Type": "application/json"},
    )
    assert broken.status_code == 400
    other = _api(site, {"email": "a@example.org"}, origin="https://evil.example")
    assert other.status_code == 403
    assert "access-control-allow-origin" not in other.headers
    preflight = client.options(
        "/api/subscribe",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert preflight.status_code == 403
    assert "access-control-allow-origin" not in preflight.headers
    allowed = client.options(
        "/api/subscribe",
        headers={"Origin": NEWSROOM, "Access-Control-Request-Method": "POST"},
    )
    assert allowed.status_code == 204
    assert allowed.headers["access-control-allow-origin"] == NEWSROOM
    assert _queued(site) == []


def test_no_embed_origins_means_no_embedding(settings: Settings) -> None:
    runtime = _site(settings, "https://letters.example.org", [])
    try:
        assert _api(runtime, {"email": "a@example.org"}).status_code == 403
    finally:
        runtime.close()


def test_an_origin_setting_must_be_an_origin(settings: Settings) -> None:
    from pydantic import ValidationError

    from newsletter.config.schema import SubscriberSettings

    assert SubscriberSettings(embed_origins=["HTTPS://News.Example.org/"]).embed_origins == [
        "https://news.example.org"
    ]
    for bad in (
        "news.example.org",
        "https://news.example.org/page",
        "javascript:x",
        "https://a:b@c",
    ):
        with pytest.raises(ValidationError, match="is not an origin"):
            SubscriberSettings(embed_origins=[bad])


@contextmanager
def _newsroom_page(html: str, host: str) -> Iterator[str]:
    """A page of "the newsroom's site": another origin than the service's."""

    class Page(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = html.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Page)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://{host}:{server.server_address[1]}/story"
    finally:
        server.shutdown()


def test_the_snippet_works_in_a_real_browser_from_an_allowed_page_only(
    settings: Settings,
    browser: Any,  # noqa: F811 (the fixture)
) -> None:
    """The snippet the admin shows, pasted into pages on two other origins: 127.0.0.1 is the
    newsroom (allowed), localhost another site (refused); chromium states the Origin itself."""
    port = free_port()
    service = f"http://127.0.0.1:{port}"
    plain = settings_at(settings, service)
    [asylum] = [
        s
        for s in snippets(plain, environment(plain), {t.slug: t.name for t in plain.topics})
        if s.label == "Asylum"
    ]
    page = f"<!doctype html><html lang=en><title>Story</title><main>{asylum.html}</main></html>"
    with _newsroom_page(page, "127.0.0.1") as story, _newsroom_page(page, "localhost") as other:
        runtime = _site(settings, service, [story.rsplit("/", 1)[0]])
        try:
            with live_server(runtime, port):
                tab = browser.new_page()
                tab.goto(story)
                tab.get_by_label("Get Asylum by email").fill("reader@example.org")
                tab.get_by_role("button", name="Subscribe").click()
                tab.wait_for_load_state()
                assert tab.url == f"{service}/subscribe/embed"
                assert tab.get_by_role("heading", name="Check your inbox").is_visible()
                # The server's background sender takes the request on: wait for the subscriber.
                deadline = time.monotonic() + 20  # a hang guard only
                while _known(runtime, "reader@example.org") is None:
                    assert time.monotonic() < deadline, "the signup was never stored"
                    time.sleep(0.05)
                assert _known(runtime, "reader@example.org") == ["asylum"]
                tab.goto(other)
                tab.get_by_label("Get Asylum by email").fill("victim@example.org")
                tab.get_by_role("button", name="Subscribe").click()
                tab.wait_for_load_state()
                assert "not on a site that may use it" in tab.content()
                assert _known(runtime, "victim@example.org") is None
                assert [r.email for r in _queued(runtime)] in ([], ["reader@example.org"])
        finally:
            runtime.close()
