"""Request bodies: capped before they are read, keys checked first, input never echoed or logged."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterator

import pytest
from fastapi import APIRouter, Form
from fastapi.testclient import TestClient

from newsletter import catalog, migrate
from newsletter.config import Settings, SourceSettings, WebSettings
from newsletter.runtime import Runtime
from newsletter.web.app import create_app

KEY = "push-key-for-limit-tests-0123456789"
AUTH = {"Authorization": f"Bearer {KEY}"}
MARK = "SUBMITTED-VALUE-7f3a"


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    source = SourceSettings(
        name="cms", kind="push", api_key_sha256=hashlib.sha256(KEY.encode()).hexdigest()
    )
    limited = settings.model_copy(
        update={
            "sources": [source],
            "web": WebSettings(max_body_bytes=50_000, max_form_bytes=2_000),
        }
    )
    runtime = Runtime.build(limited)
    migrate.upgrade(runtime.engine)
    with runtime.sessions.begin() as session:
        catalog.sync(session, limited, runtime.clock.now())
    yield TestClient(create_app(runtime), raise_server_exceptions=False)
    runtime.close()


def _chunks(size: int, piece: bytes = b"a" * 1000) -> Iterator[bytes]:
    """A body sent chunked, so no Content-Length tells the server how big it is."""
    yield b'{"title": "'
    for _ in range(size // len(piece)):
        yield piece
    yield b'"}'


def test_an_oversized_post_is_refused_with_or_without_a_length(client: TestClient) -> None:
    big = b'{"title": "' + b"a" * 60_000 + b'"}'
    declared = client.post("/api/posts", content=big, headers=AUTH)
    assert declared.status_code == 413
    streamed = client.post("/api/posts", content=_chunks(60_000), headers=AUTH)
    assert streamed.status_code == 413
    assert streamed.json() == {"error": "Content Too Large"}


def test_the_key_is_checked_before_the_body_is_read(client: TestClient) -> None:
    # Neither JSON nor small: without a key the answer is 401 all the same, the body unread.
    response = client.post("/api/posts", content=_chunks(40_000, b"\xff" * 1000))
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


def test_a_post_under_the_cap_is_read(client: TestClient) -> None:
    post = {"title": "Big", "url": "https://example.org/big", "content_html": "a" * 30_000}
    # Far larger than a form may be, smaller than a post's own cap.
    response = client.post("/api/posts", json=post, headers=AUTH)
    assert response.status_code == 201


def test_forms_have_a_far_smaller_cap(client: TestClient) -> None:
    form = {"email": "reader@example.org", "name": "x" * 3_000}
    for path in ("/subscribe", "/confirm", "/unsubscribe", "/preferences", "/admin/login"):
        assert client.post(path, data=form).status_code == 413, path
    streamed = client.post(
        "/subscribe",
        content=(b"name=" + b"x" * 1000 for _ in range(5)),
        headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": "text/html"},
    )
    assert streamed.status_code == 413
    assert "<h1>That is more than we can take</h1>" in streamed.text


def test_a_422_names_the_fields_but_not_what_was_sent(client: TestClient) -> None:
    post = {"title": "", "url": f"not a url {MARK}", f"extra-{MARK}": 1, "categories": [MARK * 40]}
    response = client.post("/api/posts", json=post, headers=AUTH)
    assert response.status_code == 422
    error = response.json()["error"]
    assert MARK not in response.text
    assert "title:" in error
    assert "url:" in error
    assert "(unknown)" in error


def test_a_422_from_a_form_does_not_quote_it(client: TestClient) -> None:
    app = client.app
    extra = APIRouter()

    @extra.post("/count")
    def count(number: int = Form()) -> dict[str, int]:
        return {"number": number}

    app.include_router(extra)  # type: ignore[attr-defined]
    response = client.post("/count", data={"number": MARK})
    assert response.status_code == 422
    assert MARK not in response.text
    assert "number" in response.json()["error"]


def test_a_lone_surrogate_is_a_clear_400_and_nothing_is_logged(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    body = json.dumps({"title": f"{MARK} ", "url": f"https://example.org/{MARK}"})
    body = body.replace(f"{MARK} ", f"{MARK} \\ud800")  # a lone surrogate, escaped as JSON
    response = client.post(
        "/api/posts", content=body, headers={**AUTH, "Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json() == {"error": "the body is not valid JSON (UTF-8, no lone surrogates)"}
    assert MARK not in caplog.text
    assert "Traceback" not in caplog.text
