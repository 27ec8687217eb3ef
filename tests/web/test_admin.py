"""The admin without a browser: access rules on every route, CSRF, sign-in limits, actions."""

from __future__ import annotations

import re

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import select

from newsletter.editors.models import Role
from newsletter.models import Issue, IssueStatus
from newsletter.runtime import Runtime
from newsletter.web.app import create_app
from tests.web.admin_helpers import csrf_of, make_draft, make_editor, sign_in

PUBLIC_ADMIN = {"/admin/login", "/admin/static/{name}"}


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
        path = route_path.format(issue_id=issue_id, variant_id=variant_id)
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
    approved = publisher.post(
        f"/admin/issues/{issue_id}/approve",
        data={"csrf_token": csrf_of(page.text), "send_at": "2030-01-04T10:00"},
    )
    assert approved.status_code == 200
    assert "Scheduled for Fri 04 Jan 2030, 10:00 EST" in approved.text
    with runtime.sessions() as session:
        issue = session.scalars(select(Issue)).one()
    assert issue.status == IssueStatus.APPROVED
    assert issue.approved_by == "pub@example.org"


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


def test_unknown_issue_is_404(runtime: Runtime, client: TestClient) -> None:
    make_editor(runtime, "ed@example.org", Role.EDITOR)
    sign_in(client, "ed@example.org")
    assert client.get("/admin/issues/999").status_code == 404
