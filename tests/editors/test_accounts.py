"""Editor accounts: argon2 hashes, uniform failures, and sign-in rate limits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from newsletter.editors.accounts import AccountError, RateLimiter, add_editor, authenticate
from newsletter.editors.models import Role
from newsletter.runtime import Runtime

NOW = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)
PASSWORD = "correct horse battery"


def test_passwords_are_argon2_and_checked(runtime: Runtime) -> None:
    with runtime.sessions.begin() as session:
        editor = add_editor(session, "Ed@Example.org", PASSWORD, Role.PUBLISHER, NOW)
        assert editor.password_hash.startswith("$argon2id$")
        assert PASSWORD not in editor.password_hash
    with runtime.sessions.begin() as session:
        assert authenticate(session, "ed@example.org", "wrong password!", NOW) is None
        assert authenticate(session, "nobody@example.org", PASSWORD, NOW) is None
        found = authenticate(session, "ED@example.org", PASSWORD, NOW)
        assert found is not None
        assert found.role == Role.PUBLISHER
        assert found.last_login_at == NOW


def test_short_passwords_and_bad_addresses_are_refused(runtime: Runtime) -> None:
    with runtime.sessions.begin() as session:
        with pytest.raises(AccountError, match="at least 12"):
            add_editor(session, "ed@example.org", "short", Role.EDITOR, NOW)
        with pytest.raises(AccountError, match="not a valid email"):
            add_editor(session, "not-an-address", PASSWORD, Role.EDITOR, NOW)


def test_rate_limit_counts_failures_in_the_window(runtime: Runtime) -> None:
    limiter = RateLimiter(3, timedelta(minutes=15))
    keys = ["addr:192.0.2.1", "email:ed@example.org"]
    with runtime.sessions.begin() as session:
        for minute in range(3):
            assert not limiter.blocked(session, keys, NOW + timedelta(minutes=minute))
            limiter.failed(session, keys, NOW + timedelta(minutes=minute))
        assert limiter.blocked(session, keys, NOW + timedelta(minutes=3))
        # Another address for the same account is blocked too; the window slides on.
        assert limiter.blocked(session, ["addr:198.51.100.7", "email:ed@example.org"], NOW)
        assert not limiter.blocked(session, keys, NOW + timedelta(minutes=16))
