"""Two-factor sign-in without a browser: enrolment, the code step, replay, limits, enforcement."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, unquote, urlparse

import pyotp
import pytest
from fastapi.testclient import TestClient

from newsletter.clock import FixedClock
from newsletter.editors.accounts import find_editor
from newsletter.editors.models import Role
from newsletter.runtime import Runtime
from newsletter.web.app import create_app
from tests.web.admin_helpers import PASSWORD, csrf_of, make_draft, make_editor, sign_in

NOW = datetime(2026, 11, 26, 15, 0, 10, tzinfo=UTC)
STEP = timedelta(seconds=30)


@pytest.fixture
def clock(runtime: Runtime) -> FixedClock:
    runtime.clock = FixedClock(NOW)
    return runtime.clock


def _client(runtime: Runtime) -> TestClient:
    return TestClient(create_app(runtime), base_url="https://news.example.org")


@pytest.fixture
def editor(runtime: Runtime, clock: FixedClock) -> TestClient:
    """ed@example.org, an editor, signed in with the password alone."""
    make_editor(runtime, "ed@example.org", Role.EDITOR)
    client = _client(runtime)
    sign_in(client, "ed@example.org")
    return client


def _require_two_factor(runtime: Runtime) -> None:
    admin = runtime.settings.admin.model_copy(update={"require_two_factor": True})
    runtime.settings = runtime.settings.model_copy(update={"admin": admin})


def _enrol(client: TestClient, at: datetime) -> tuple[pyotp.TOTP, list[str]]:
    """Set up two-factor sign-in from the account page; the app's TOTP and the recovery codes."""
    page = client.get("/admin/account")
    assert "Set up two-factor sign-in" in page.text
    client.post("/admin/account/two-factor/start", data={"csrf_token": csrf_of(page.text)})
    setup = client.get("/admin/account").text
    assert "<svg" in setup
    match = re.search(r'href="(otpauth://[^"]+)"', setup)
    assert match
    uri = unquote(match.group(1).replace("&amp;", "&"))
    secret = parse_qs(urlparse(uri).query)["secret"][0]
    totp = pyotp.TOTP(secret)
    token = csrf_of(setup)
    wrong = client.post(
        "/admin/account/two-factor/confirm", data={"code": "000000", "csrf_token": token}
    )
    assert wrong.status_code == 400
    assert "does not match" in wrong.text
    done = client.post(
        "/admin/account/two-factor/confirm", data={"code": totp.at(at), "csrf_token": token}
    )
    assert done.status_code == 200
    codes = re.findall(r"<li><code>([A-Z0-9-]{19})</code></li>", done.text)
    assert len(codes) == 10
    after = client.get("/admin/account").text
    assert secret not in after  # never shown again
    assert "otpauth://" not in after
    assert "10 recovery codes left" in after
    return totp, codes


def _password(client: TestClient, email: str = "ed@example.org") -> str:
    """The first step; returns where it sends the browser."""
    token = csrf_of(client.get("/admin/login").text)
    response = client.post(
        "/admin/login",
        data={"email": email, "password": PASSWORD, "csrf_token": token, "next": "/admin/issues"},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    return str(response.headers["location"])


def _code(client: TestClient, code: str) -> int:
    token = csrf_of(client.get("/admin/login/code").text)
    response = client.post(
        "/admin/login/code", data={"code": code, "csrf_token": token}, follow_redirects=False
    )
    return response.status_code


def test_an_enrolled_editor_signs_in_with_a_code_once(
    runtime: Runtime, clock: FixedClock, editor: TestClient
) -> None:
    client = editor
    totp, _ = _enrol(client, clock.now())
    clock.advance(2 * STEP)
    browser = _client(runtime)
    assert _password(browser) == "/admin/login/code"
    with runtime.sessions() as session:  # the password alone is no sign-in
        assert find_editor(session, "ed@example.org").last_login_at == NOW
    assert browser.get("/admin/issues", follow_redirects=False).status_code == 303
    assert _code(browser, "123456") == 401
    code = totp.at(clock.now())
    assert _code(browser, code) == 303
    assert browser.get("/admin/issues").status_code == 200
    with runtime.sessions() as session:
        assert find_editor(session, "ed@example.org").last_login_at == clock.now()
    # The same code again, within its window, from another browser that knows the password.
    clock.advance(timedelta(seconds=5))
    thief = _client(runtime)
    _password(thief)
    assert _code(thief, code) == 401


def test_a_recovery_code_signs_in_once(
    runtime: Runtime, clock: FixedClock, editor: TestClient
) -> None:
    client = editor
    _, codes = _enrol(client, clock.now())
    first = _client(runtime)
    _password(first)
    assert _code(first, codes[3].lower()) == 303
    again = _client(runtime)
    _password(again)
    assert _code(again, codes[3]) == 401
    assert "9 recovery codes left" in first.get("/admin/account").text


def test_codes_count_against_the_sign_in_limits(
    runtime: Runtime, clock: FixedClock, editor: TestClient
) -> None:
    client = editor
    totp, _ = _enrol(client, clock.now())
    clock.advance(2 * STEP)
    guesser = _client(runtime)
    _password(guesser)  # the password passes, and is counted: 1 of 5
    answers = [_code(guesser, f"{n:06d}") for n in range(4)]
    assert answers == [401] * 4
    assert _code(guesser, "999999") == 429
    assert _code(guesser, totp.at(clock.now())) == 429  # even the right one, until the wait


def test_the_code_step_expires(runtime: Runtime, clock: FixedClock, editor: TestClient) -> None:
    client = editor
    totp, _ = _enrol(client, clock.now())
    slow = _client(runtime)
    _password(slow)
    token = csrf_of(slow.get("/admin/login/code").text)
    clock.advance(timedelta(seconds=301))
    late = slow.post("/admin/login/code", data={"code": totp.at(clock.now()), "csrf_token": token})
    assert late.status_code == 401
    assert "took too long" in late.text
    assert slow.get("/admin/login/code", follow_redirects=False).status_code == 303


def test_required_two_factor_allows_nothing_but_enrolment(
    runtime: Runtime, clock: FixedClock
) -> None:
    _require_two_factor(runtime)
    make_editor(runtime, "pub@example.org", Role.PUBLISHER)
    issue_id = make_draft(runtime)
    client = _client(runtime)
    assert _password(client, "pub@example.org") == "/admin/account"
    page = client.get("/admin/account")
    assert "requires two-factor sign-in" in page.text
    for path in ("/admin/issues", f"/admin/issues/{issue_id}", "/admin/editors"):
        refused = client.get(path, follow_redirects=False)
        assert refused.status_code == 303, path
        assert refused.headers["location"] == "/admin/account"
    approve = client.post(
        f"/admin/issues/{issue_id}/approve", data={"csrf_token": csrf_of(page.text)}
    )
    assert approve.status_code == 403
    totp, _ = _enrol(client, clock.now())
    assert client.get("/admin/issues").status_code == 200
    page = client.get("/admin/account").text
    assert "Turn two-factor sign-in off" not in page
    clock.advance(2 * STEP)
    off = client.post(
        "/admin/account/two-factor/off",
        data={"code": totp.at(clock.now()), "csrf_token": csrf_of(page)},
    )
    assert off.status_code == 400
    assert "requires two-factor" in off.text


def test_turning_off_and_new_codes_need_a_current_code(
    runtime: Runtime, clock: FixedClock, editor: TestClient
) -> None:
    client = editor
    totp, old = _enrol(client, clock.now())
    token = csrf_of(client.get("/admin/account").text)
    refused = client.post(
        "/admin/account/two-factor/recovery-codes", data={"code": "000000", "csrf_token": token}
    )
    assert refused.status_code == 400
    clock.advance(STEP)
    renewed = client.post(
        "/admin/account/two-factor/recovery-codes",
        data={"code": totp.at(clock.now()), "csrf_token": token},
    )
    new = re.findall(r"<li><code>([A-Z0-9-]{19})</code></li>", renewed.text)
    assert len(new) == 10
    assert not set(new) & set(old)
    clock.advance(STEP)
    off = client.post(
        "/admin/account/two-factor/off",
        data={"code": totp.at(clock.now()), "csrf_token": token},
        follow_redirects=False,
    )
    assert off.status_code == 303
    assert "Set up two-factor sign-in" in client.get("/admin/account").text
    plain = _client(runtime)
    assert _password(plain) == "/admin/issues"  # the password is enough again


def test_the_account_forms_need_the_csrf_token(
    runtime: Runtime, clock: FixedClock, editor: TestClient
) -> None:
    client = editor
    for path in (
        "/admin/account/two-factor/start",
        "/admin/account/two-factor/confirm",
        "/admin/account/two-factor/recovery-codes",
        "/admin/account/two-factor/off",
        "/admin/login/code",
    ):
        response = client.post(path, data={"code": "123456", "csrf_token": "forged"})
        assert response.status_code == 403, path
    with runtime.sessions() as session:
        assert find_editor(session, "ed@example.org").totp_pending is None
