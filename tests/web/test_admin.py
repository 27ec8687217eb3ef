"""The admin without a browser: access rules on every route, CSRF, sign-in limits, actions."""

from __future__ import annotations

import html
import re
import sqlite3
import threading
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import select

from newsletter.clock import FixedClock
from newsletter.editors import accounts
from newsletter.editors.accounts import disable_editor
from newsletter.editors.models import Role
from newsletter.models import Issue, IssueStatus
from newsletter.runtime import Runtime
from newsletter.web.app import create_app
from tests.web.admin_helpers import (
    PASSWORD,
    confirmed,
    csrf_of,
    make_draft,
    make_editor,
    sign_in,
)

PUBLIC_ADMIN = {
    "/admin/login",
    "/admin/login/code",
    "/admin/static/{name}",
    "/admin/set-password",
}


@pytest.fixture
def client(runtime: Runtime) -> TestClient:
    return TestClient(create_app(runtime), base_url="https://news.example.org")


def _route_table(app: FastAPI) -> list[tuple[str, set[str]]]:
    """Every (path, methods) the app answers, through included routers."""
    try:  # FastAPI 0.16x composes included routers lazily; older versions flatten them.
        from fastapi.routing import iter_route_contexts
    except ImportError:
        return [(r.path, set(r.methods)) for r in app.routes if isinstance(r, APIRoute)]
    table = []
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, APIRoute) and context.path:
            table.append((context.path, set(route.methods)))
    return table


def test_every_admin_route_refuses_anonymous_users(runtime: Runtime, client: TestClient) -> None:
    issue_id = make_draft(runtime)
    variant_id = 1
    checked = 0
    for route_path, methods in _route_table(create_app(runtime)):
        if not route_path.startswith("/admin") or route_path in PUBLIC_ADMIN:
            continue
        # Any other id in a path is 1: refused before it is looked up.
        ids = defaultdict(lambda: 1, issue_id=issue_id, variant_id=variant_id)
        path = route_path.format_map(ids)
        for method in methods:
            response = client.request(method, path, follow_redirects=False)
            checked += 1
            if method in ("GET", "HEAD"):
                assert response.status_code == 303, (method, path)
                assert response.headers["location"].startswith("/admin/login?next=")
            else:
                assert response.status_code in (401, 403), (method, path, response.status_code)
    assert checked >= 8


def test_sign_in_lands_on_issues_and_sign_out_ends_it(runtime: Runtime, client: TestClient) -> None:
    make_editor(runtime, "ed@example.org", Role.EDITOR)
    make_draft(runtime)
    cookie = sign_in(client, "ed@example.org")
    page = client.get("/admin/issues")
    assert page.status_code == 200
    assert "2026-W48" in page.text
    assert "httponly" in cookie.lower()
    assert "samesite=lax" in cookie.lower()
    assert "secure" in cookie.lower()  # the site runs under https
    assert "path=/admin" in cookie.lower()
    client.post("/admin/logout", data={"csrf_token": csrf_of(page.text)})
    assert client.get("/admin/issues", follow_redirects=False).status_code == 303


def test_a_post_without_the_csrf_token_is_refused(runtime: Runtime, client: TestClient) -> None:
    make_editor(runtime, "pub@example.org", Role.PUBLISHER)
    issue_id = make_draft(runtime)
    sign_in(client, "pub@example.org")
    for token in (None, "forged-token"):
        data = {} if token is None else {"csrf_token": token}
        response = client.post(f"/admin/issues/{issue_id}/approve", data=data)
        assert response.status_code == 403
    with runtime.sessions() as session:
        assert session.get(Issue, issue_id).status == IssueStatus.DRAFT  # type: ignore[union-attr]


def test_sign_in_without_csrf_is_refused(runtime: Runtime, client: TestClient) -> None:
    make_editor(runtime, "ed@example.org", Role.EDITOR)
    response = client.post(
        "/admin/login", data={"email": "ed@example.org", "password": "correct horse battery"}
    )
    assert response.status_code == 403


def test_repeated_failed_sign_ins_are_throttled(runtime: Runtime, client: TestClient) -> None:
    make_editor(runtime, "ed@example.org", Role.EDITOR)
    token = csrf_of(client.get("/admin/login").text)
    codes = []
    for _ in range(6):
        response = client.post(
            "/admin/login",
            data={"email": "ed@example.org", "password": "wrong password", "csrf_token": token},
        )
        codes.append(response.status_code)
    assert codes == [401] * 5 + [429]
    # Even the right password waits until the window has passed.
    right = client.post(
        "/admin/login",
        data={"email": "ed@example.org", "password": "correct horse battery", "csrf_token": token},
        follow_redirects=False,
    )
    assert right.status_code == 429


def _try(client: TestClient, email: str, password: str) -> int:
    token = csrf_of(client.get("/admin/login").text)
    response = client.post(
        "/admin/login",
        data={"email": email, "password": password, "csrf_token": token},
        follow_redirects=False,
    )
    return response.status_code


def test_full_width_and_case_variants_share_the_throttle(
    runtime: Runtime, client: TestClient
) -> None:
    make_editor(runtime, "dan@example.org", Role.EDITOR)
    codes = [_try(client, "dan@example.org", "wrong password") for _ in range(5)]
    assert codes == [401] * 5
    for variant in ("dan@ｅxample.org", " DAN@example.org", "ｄａｎ@EXAMPLE.ORG"):
        assert _try(client, variant, PASSWORD) == 429


def test_parallel_sign_ins_check_at_most_the_limit_of_passwords(
    runtime: Runtime, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_editor(runtime, "ed@example.org", Role.EDITOR)
    checks: list[str] = []
    lock = threading.Lock()
    real_verify = accounts.verify_password

    def counted(stored: str, password: str) -> bool:
        with lock:
            checks.append(password)
        return real_verify(stored, password)

    monkeypatch.setattr(accounts, "verify_password", counted)
    token = csrf_of(client.get("/admin/login").text)
    start = threading.Barrier(30)

    def attempt(n: int) -> int:
        start.wait()
        response = client.post(
            "/admin/login",
            data={"email": "ed@example.org", "password": f"guess {n}", "csrf_token": token},
            follow_redirects=False,
        )
        return response.status_code

    with ThreadPoolExecutor(30) as pool:
        codes = list(pool.map(attempt, range(30)))
    assert len(checks) <= runtime.settings.admin.login_attempts
    assert codes.count(401) == len(checks)
    assert set(codes) <= {401, 429, 503}


def test_a_locked_database_refuses_the_sign_in_as_busy_and_checks_no_password(
    runtime: Runtime, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    if runtime.engine.dialect.name != "sqlite":
        pytest.skip("a SQLite file held by another writer")
    make_editor(runtime, "ed@example.org", Role.EDITOR)
    checks: list[str] = []
    real_verify = accounts.verify_password

    def counted(stored: str, password: str) -> bool:
        checks.append(password)
        return real_verify(stored, password)

    monkeypatch.setattr(accounts, "verify_password", counted)
    token = csrf_of(client.get("/admin/login").text)
    holder = sqlite3.connect(str(runtime.engine.url.database), isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process writing, longer than the busy timeout
    try:
        response = client.post(
            "/admin/login",
            data={"email": "ed@example.org", "password": PASSWORD, "csrf_token": token},
            headers={"Accept": "text/html"},
            follow_redirects=False,
        )
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert "try again in a few seconds" in response.text
    assert "Traceback" not in response.text
    assert "UPDATE" not in response.text
    assert checks == []
    assert _try(client, "ed@example.org", PASSWORD) == 303  # and once the writer is done, in
    assert checks == [PASSWORD]


def test_failures_from_another_address_do_not_lock_out_the_owner(runtime: Runtime) -> None:
    make_editor(runtime, "ed@example.org", Role.PUBLISHER)
    app = create_app(runtime)
    attacker = TestClient(app, base_url="https://news.example.org", client=("198.51.100.7", 1))
    owner = TestClient(app, base_url="https://news.example.org", client=("192.0.2.10", 1))
    assert [_try(attacker, "ed@example.org", "guess") for _ in range(7)] == [401] * 5 + [429] * 2
    assert _try(owner, "ed@example.org", PASSWORD) == 303


def test_a_browser_that_signed_in_before_is_not_locked_out_by_others(runtime: Runtime) -> None:
    runtime.settings.admin.login_attempts_per_account = 3
    make_editor(runtime, "ed@example.org", Role.PUBLISHER)
    app = create_app(runtime)
    owner = TestClient(app, base_url="https://news.example.org", client=("192.0.2.10", 1))
    sign_in(owner, "ed@example.org")
    for n in range(4):  # guesses from many addresses use up the account's shared allowance
        stranger = TestClient(app, base_url="https://news.example.org", client=(f"10.0.0.{n}", 1))
        _try(stranger, "ed@example.org", "guess")
    late = TestClient(app, base_url="https://news.example.org", client=("192.0.2.10", 1))
    assert _try(late, "ed@example.org", PASSWORD) == 429  # unknown browser, same address
    assert _try(owner, "ed@example.org", PASSWORD) == 303  # the device cookie counts alone


def _copied_session(runtime: Runtime, email: str) -> tuple[TestClient, TestClient]:
    """A signed-in client, and a second client holding a copy of its session cookie."""
    app = create_app(runtime)
    original = TestClient(app, base_url="https://news.example.org")
    sign_in(original, email)
    thief = TestClient(app, base_url="https://news.example.org")
    thief.cookies.set("newsletter_admin", original.cookies["newsletter_admin"])
    assert thief.get("/admin/issues", follow_redirects=False).status_code == 200
    return original, thief


def test_a_copied_cookie_stops_working_after_sign_out(runtime: Runtime) -> None:
    make_editor(runtime, "ed@example.org", Role.EDITOR)
    original, thief = _copied_session(runtime, "ed@example.org")
    page = original.get("/admin/issues")
    original.post("/admin/logout", data={"csrf_token": csrf_of(page.text)})
    assert thief.get("/admin/issues", follow_redirects=False).status_code == 303


def test_a_copied_cookie_stops_working_after_a_password_reset(runtime: Runtime) -> None:
    make_editor(runtime, "ed@example.org", Role.EDITOR)
    _, thief = _copied_session(runtime, "ed@example.org")
    make_editor(runtime, "ed@example.org", Role.EDITOR)  # `editors add` on an existing address
    assert thief.get("/admin/issues", follow_redirects=False).status_code == 303


def test_a_copied_cookie_stops_working_after_disable(runtime: Runtime) -> None:
    make_editor(runtime, "ed@example.org", Role.PUBLISHER)
    issue_id = make_draft(runtime)
    original, thief = _copied_session(runtime, "ed@example.org")
    token = csrf_of(thief.get(f"/admin/issues/{issue_id}").text)
    with runtime.sessions.begin() as session:
        disable_editor(session, "ed@example.org")
    assert thief.get("/admin/issues", follow_redirects=False).status_code == 303
    refused = thief.post(f"/admin/issues/{issue_id}/approve", data={"csrf_token": token})
    assert refused.status_code == 401
    assert _try(original, "ed@example.org", PASSWORD) == 401  # and cannot sign in again


def test_editors_cannot_approve_publishers_can(runtime: Runtime, client: TestClient) -> None:
    make_editor(runtime, "ed@example.org", Role.EDITOR)
    make_editor(runtime, "pub@example.org", Role.PUBLISHER)
    issue_id = make_draft(runtime)
    sign_in(client, "ed@example.org")
    page = client.get(f"/admin/issues/{issue_id}")
    assert ">Approve<" not in page.text
    refused = client.post(
        f"/admin/issues/{issue_id}/approve", data={"csrf_token": csrf_of(page.text)}
    )
    assert refused.status_code == 403

    publisher = TestClient(create_app(runtime), base_url="https://news.example.org")
    sign_in(publisher, "pub@example.org")
    page = publisher.get(f"/admin/issues/{issue_id}")
    approved = confirmed(
        publisher,
        f"/admin/issues/{issue_id}/approve",
        {"csrf_token": csrf_of(page.text), "send_at": "2030-01-04T10:00"},
    )
    assert approved.status_code == 200
    assert "Scheduled for Fri 04 Jan 2030, 10:00 EST" in approved.text
    with runtime.sessions() as session:
        issue = session.scalars(select(Issue)).one()
    assert issue.status == IssueStatus.APPROVED
    assert issue.approved_by == "pub@example.org"


def test_approve_reads_the_send_time_as_the_command_line_does(
    runtime: Runtime, client: TestClient
) -> None:
    """One rule with the CLI: "now" is accepted; an unreadable time is a 400 saying what to give."""
    runtime.clock = FixedClock(runtime.clock.now())
    make_editor(runtime, "pub@example.org", Role.PUBLISHER)
    issue_id = make_draft(runtime)
    sign_in(client, "pub@example.org")
    token = csrf_of(client.get(f"/admin/issues/{issue_id}").text)
    refused = client.post(
        f"/admin/issues/{issue_id}/approve",
        data={"csrf_token": token, "send_at": "next friday"},
        headers={"Accept": "text/html"},
    )
    # The issue's page again, inside the admin: the time as typed, the reason beside it.
    assert refused.status_code == 400
    assert "ISO 8601" in refused.text
    assert 'value="next friday"' in refused.text
    assert 'aria-describedby="send_at-error"' in refused.text
    assert "Sign out" in refused.text
    missing = client.post("/admin/issues/999/approve", data={"csrf_token": token})
    assert missing.status_code == 404
    approved = confirmed(
        client, f"/admin/issues/{issue_id}/approve", {"csrf_token": token, "send_at": "now"}
    )
    assert approved.status_code == 200
    with runtime.sessions() as session:
        issue = session.get(Issue, issue_id)
        assert issue is not None
        assert issue.status == IssueStatus.APPROVED
        assert issue.send_at == runtime.clock.now()


def test_preview_shows_variant_text_links_and_a_sandboxed_frame(
    runtime: Runtime, client: TestClient
) -> None:
    make_editor(runtime, "ed@example.org", Role.EDITOR)
    issue_id = make_draft(runtime, title="<script>alert('x')</script> Border")
    sign_in(client, "ed@example.org")
    page = client.get(f"/admin/issues/{issue_id}")
    assert page.status_code == 200
    assert "script-src 'self'" in page.headers["content-security-policy"]
    frames = re.findall(r"<iframe[^>]*>", page.text)
    assert len(frames) == 2
    assert all('sandbox=""' in frame for frame in frames)
    assert "https://demo.example.org/2023/05/beyond-a-border-solution/" in page.text
    assert "Hi Preview Reader" in page.text
    assert "<script>alert" not in page.text  # escaped in the editor's own page

    variant = client.get(f"/admin/issues/{issue_id}/variants/1.html")
    assert variant.status_code == 200
    policy = variant.headers["content-security-policy"]
    assert "sandbox" in policy
    assert "script-src" not in policy
    assert "default-src 'none'" in policy
    assert "Hi Preview Reader" in variant.text
    assert "\ue000" not in variant.text


def test_the_text_preview_shows_links_as_a_reader_sees_them(
    runtime: Runtime, client: TestClient
) -> None:
    make_editor(runtime, "ed@example.org", Role.EDITOR)
    issue_id = make_draft(runtime)
    sign_in(client, "ed@example.org")
    page = client.get(f"/admin/issues/{issue_id}")
    found = re.search(r'<pre id="text">(.*?)</pre>', page.text, re.DOTALL)
    assert found is not None
    text = html.unescape(found.group(1))
    base = runtime.settings.site.base_url
    assert "#unsubscribe-link" not in text
    assert "#preferences-link" not in text
    assert f"Unsubscribe: {base}/unsubscribe?token=" in text


def test_unknown_issue_is_404(runtime: Runtime, client: TestClient) -> None:
    make_editor(runtime, "ed@example.org", Role.EDITOR)
    sign_in(client, "ed@example.org")
    assert client.get("/admin/issues/999").status_code == 404
