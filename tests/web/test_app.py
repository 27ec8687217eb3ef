"""The web app skeleton: health, home page, and error pages without tracebacks."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.testclient import TestClient

from newsletter.config import load_settings
from newsletter.runtime import Runtime
from newsletter.web.app import create_app


def test_healthz_reports_the_database(runtime: Runtime) -> None:
    response = TestClient(create_app(runtime)).get("/healthz")
    assert response.status_code == 200
    assert response.json()["database"] == "ok"
    assert response.headers["cache-control"] == "no-store"


def test_healthz_says_when_the_database_is_down() -> None:
    settings = load_settings(database_url="postgresql+psycopg://nobody@127.0.0.1:9/none")
    response = TestClient(create_app(Runtime.build(settings))).get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "error", "database": "unreachable"}


def test_pages_say_busy_when_the_database_is_down() -> None:
    settings = load_settings(database_url="postgresql+psycopg://nobody@127.0.0.1:9/none")
    client = TestClient(create_app(Runtime.build(settings)))
    for path in ("/", "/archive", "/topics/asylum"):
        response = client.get(path, headers={"Accept": "text/html"})
        assert response.status_code == 503, path
        assert response.headers["Retry-After"] == "5"
        assert "try again in a few seconds" in response.text
        assert "127.0.0.1" not in response.text
        assert "Traceback" not in response.text


def test_home_page_lists_topics_escaped(runtime: Runtime) -> None:
    from newsletter.models import Topic

    with runtime.sessions.begin() as session:
        session.add(Topic(slug="x", name="<b>Border</b> & Asylum", description=""))
    response = TestClient(create_app(runtime)).get("/")
    assert response.status_code == 200
    assert "&lt;b&gt;Border&lt;/b&gt; &amp; Asylum" in response.text
    assert "<b>Border</b>" not in response.text


def test_not_found_is_a_short_page_for_people_and_json_for_programs(runtime: Runtime) -> None:
    client = TestClient(create_app(runtime))
    page = client.get("/nowhere", headers={"Accept": "text/html"})
    assert page.status_code == 404
    assert "<h1>Page not found</h1>" in page.text
    assert "Error 404" in page.text
    api = client.get("/nowhere", headers={"Accept": "application/json"})
    assert api.status_code == 404
    assert api.json() == {"error": "Not Found"}


def test_an_unexpected_error_shows_no_traceback(runtime: Runtime) -> None:
    app = create_app(runtime)
    boom = APIRouter()

    @boom.get("/boom")
    def _boom() -> None:
        raise RuntimeError("secret internals")

    app.include_router(boom)
    response = TestClient(app, raise_server_exceptions=False).get(
        "/boom", headers={"Accept": "text/html"}
    )
    assert response.status_code == 500
    assert "secret internals" not in response.text
    assert "Traceback" not in response.text
    assert "Something went wrong" in response.text
