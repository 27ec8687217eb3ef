"""The accounts screen without a browser: publishers only, CSRF, invitations mailed, links once."""

from __future__ import annotations

import email
import re
from datetime import UTC, datetime, timedelta
from email import policy

import pytest
from fastapi.testclient import TestClient

from newsletter.clock import FixedClock
from newsletter.editors.accounts import find_editor
from newsletter.editors.models import Role
from newsletter.runtime import Runtime
from newsletter.web.accesslog import redact
from newsletter.web.app import create_app
from tests.web.admin_helpers import csrf_of, make_editor, sign_in

NOW = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)
NEW_PASSWORD = "a password of my own"


@pytest.fixture
def clock(runtime: Runtime) -> FixedClock:
    runtime.clock = FixedClock(NOW)
    return runtime.clock


@pytest.fixture
def publisher(runtime: Runtime, clock: FixedClock) -> TestClient:
    make_editor(runtime, "pub@example.org", Role.PUBLISHER)
    client = TestClient(create_app(runtime), base_url="https://news.example.org")
    sign_in(client, "pub@example.org")
    return client


def _invite(client: TestClient, address: str, role: str = "editor") -> str:
    token = csrf_of(client.get("/admin/editors").text)
    response = client.post(
        "/admin/editors/invite",
        data={"email": address, "role": role, "csrf_token": token},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    return response.headers["location"]


def _mailed_link(runtime: Runtime, address: str) -> str:
    mails = [
        email.message_from_bytes(path.read_bytes(), policy=policy.default)
        for path in sorted(runtime.settings.outbox_dir.glob("*.eml"))
    ]
    [mail] = [m for m in mails if m["To"] == address]
    assert "invited you" in mail["Subject"] or "invited" in mail["Subject"]
    body = mail.get_body(("plain",))
    assert body is not None
    match = re.search(
        r"https://news\.example\.org(/admin/set-password\?token=\S+)", body.get_content()
    )
    assert match, body.get_content()
    return match.group(1)


def test_only_publishers_see_and_use_the_accounts_screen(
    runtime: Runtime, clock: FixedClock
) -> None:
    make_editor(runtime, "ed@example.org", Role.EDITOR)
    anonymous = TestClient(create_app(runtime), base_url="https://news.example.org")
    assert anonymous.get("/admin/editors", follow_redirects=False).status_code == 303
    editor = TestClient(create_app(runtime), base_url="https://news.example.org")
    sign_in(editor, "ed@example.org")
    issues = editor.get("/admin/issues").text
    assert 'href="/admin/editors"' not in issues
    assert editor.get("/admin/editors").status_code == 403
    token = csrf_of(issues)
    for path, data in [
        ("/admin/editors/invite", {"email": "x@example.org", "role": "publisher"}),
        ("/admin/editors/role", {"email": "ed@example.org", "role": "publisher"}),
        ("/admin/editors/disable", {"email": "ed@example.org"}),
    ]:
        refused = editor.post(path, data={**data, "csrf_token": token})
        assert refused.status_code == 403, path
    with runtime.sessions() as session:
        assert find_editor(session, "ed@example.org").role == Role.EDITOR
        assert find_editor(session, "ed@example.org").active


def test_every_form_needs_the_csrf_token(runtime: Runtime, publisher: TestClient) -> None:
    make_editor(runtime, "ed@example.org", Role.EDITOR)
    for path, data in [
        ("/admin/editors/invite", {"email": "x@example.org", "role": "editor"}),
        ("/admin/editors/role", {"email": "ed@example.org", "role": "publisher"}),
        ("/admin/editors/disable", {"email": "ed@example.org"}),
        ("/admin/set-password", {"token": "t", "password": NEW_PASSWORD, "confirm": NEW_PASSWORD}),
    ]:
        assert publisher.post(path, data={**data, "csrf_token": "forged"}).status_code == 403
    with runtime.sessions() as session:
        assert find_editor(session, "ed@example.org").role == Role.EDITOR
    assert not list(runtime.settings.outbox_dir.glob("*.eml"))


def test_the_list_shows_role_status_and_last_sign_in(
    runtime: Runtime, publisher: TestClient
) -> None:
    make_editor(runtime, "ed@example.org", Role.EDITOR)
    _invite(publisher, "new@example.org")
    page = publisher.get("/admin/editors")
    assert page.status_code == 200
    assert 'href="/admin/editors"' in page.text
    rows = dict(re.findall(r'<tr data-editor="([^"]+)">(.*?)</tr>', page.text, re.S))
    assert set(rows) == {"pub@example.org", "ed@example.org", "new@example.org"}
    assert "Thu 26 Nov 2026 10:00 EST" in rows["pub@example.org"]  # signed in now, local time
    assert "never" in rows["ed@example.org"]
    assert "status-active" in rows["ed@example.org"]
    assert "status-invited" in rows["new@example.org"]
    assert "(you)" in rows["pub@example.org"]
    assert "Disable" not in rows["pub@example.org"]
    assert "Invitation mailed to new@example.org." in page.text


def test_an_invited_editor_sets_a_password_once_and_signs_in(
    runtime: Runtime, publisher: TestClient
) -> None:
    _invite(publisher, "New@Example.org", "publisher")
    link = _mailed_link(runtime, "new@example.org")
    guest = TestClient(create_app(runtime), base_url="https://news.example.org")
    form = guest.get(link)
    assert form.status_code == 200
    assert 'value="new@example.org"' in form.text
    token = link.split("token=", 1)[1]
    data = {"token": token, "csrf_token": csrf_of(form.text)}
    differ = guest.post(
        "/admin/set-password", data={**data, "password": NEW_PASSWORD, "confirm": "x" * 20}
    )
    assert differ.status_code == 400
    short = guest.post(
        "/admin/set-password", data={**data, "password": "short", "confirm": "short"}
    )
    assert short.status_code == 400
    assert "at least 12" in short.text
    done = guest.post(
        "/admin/set-password", data={**data, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    )
    assert done.status_code == 200
    assert "Your password is set" in done.text
    sign_in(guest, "new@example.org", NEW_PASSWORD)
    accounts = guest.get("/admin/editors")
    assert accounts.status_code == 200  # invited as a publisher
    data["csrf_token"] = csrf_of(accounts.text)  # signing in began a new session
    again = guest.post(
        "/admin/set-password",
        data={**data, "password": "taken over now!", "confirm": "taken over now!"},
    )
    assert again.status_code == 410
    assert "used already" in again.text
    assert guest.get(link).status_code == 410
    sign_in(guest, "new@example.org", NEW_PASSWORD)  # the second try changed nothing


def test_an_expired_link_is_refused(
    runtime: Runtime, publisher: TestClient, clock: FixedClock
) -> None:
    _invite(publisher, "new@example.org")
    link = _mailed_link(runtime, "new@example.org")
    guest = TestClient(create_app(runtime), base_url="https://news.example.org")
    csrf = csrf_of(guest.get(link).text)
    clock.advance(timedelta(hours=72))
    expired = guest.get(link)
    assert expired.status_code == 410
    assert "expired" in expired.text
    assert 'name="password"' not in expired.text
    refused = guest.post(
        "/admin/set-password",
        data={
            "token": link.split("token=")[1],
            "password": NEW_PASSWORD,
            "confirm": NEW_PASSWORD,
            "csrf_token": csrf,
        },
    )
    assert refused.status_code == 410
    with runtime.sessions() as session:
        assert find_editor(session, "new@example.org").status == "invited"


def test_an_active_address_is_not_invited(runtime: Runtime, publisher: TestClient) -> None:
    make_editor(runtime, "ed@example.org", Role.EDITOR)
    token = csrf_of(publisher.get("/admin/editors").text)
    refused = publisher.post(
        "/admin/editors/invite",
        data={"email": "ED@example.org", "role": "editor", "csrf_token": token},
    )
    assert refused.status_code == 409
    assert "already has an account" in refused.text
    bad = publisher.post(
        "/admin/editors/invite",
        data={"email": "not an address", "role": "editor", "csrf_token": token},
    )
    assert bad.status_code == 409
    assert "not a valid email address" in bad.text
    assert not list(runtime.settings.outbox_dir.glob("*.eml"))


def test_role_changes_and_disabling_take_effect_at_once(
    runtime: Runtime, publisher: TestClient
) -> None:
    make_editor(runtime, "ed@example.org", Role.EDITOR)
    other = TestClient(create_app(runtime), base_url="https://news.example.org")
    sign_in(other, "ed@example.org")
    assert other.get("/admin/editors").status_code == 403
    token = csrf_of(publisher.get("/admin/editors").text)
    promoted = publisher.post(
        "/admin/editors/role",
        data={"email": "ed@example.org", "role": "publisher", "csrf_token": token},
    )
    assert promoted.status_code == 200
    assert "ed@example.org is now publisher." in promoted.text
    assert other.get("/admin/editors").status_code == 200  # the same session, the new role
    publisher.post("/admin/editors/disable", data={"email": "ed@example.org", "csrf_token": token})
    assert other.get("/admin/issues", follow_redirects=False).status_code == 303  # signed out
    with runtime.sessions() as session:
        assert find_editor(session, "ed@example.org").status == "disabled"
    self_disable = publisher.post(
        "/admin/editors/disable", data={"email": "pub@example.org", "csrf_token": token}
    )
    assert self_disable.status_code == 409
    assert "your own account" in self_disable.text
    assert publisher.get("/admin/editors").status_code == 200


def test_the_access_log_never_holds_an_invitation_link() -> None:
    logged = redact("/admin/set-password?token=WzEsIm5vbmNlIl0.c2lnbmF0dXJl")
    assert logged == "/admin/set-password?token=[redacted]"
