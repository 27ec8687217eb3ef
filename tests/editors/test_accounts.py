"""Editor accounts: argon2 hashes, one canonical address, bounded checks, revocable sessions."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from newsletter.editors import accounts
from newsletter.editors.accounts import (
    AccountError,
    Verifier,
    VerifierBusy,
    add_editor,
    authenticate,
    canonical_address,
    disable_editor,
)
from newsletter.editors.limits import SignInCounter, SignInLimits
from newsletter.editors.models import Role
from newsletter.runtime import Runtime

NOW = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)
PASSWORD = "correct horse battery"
VERIFIER = Verifier(2, 5.0)


def test_passwords_are_argon2_and_checked(runtime: Runtime) -> None:
    with runtime.sessions.begin() as session:
        editor = add_editor(session, "Ed@Example.org", PASSWORD, Role.PUBLISHER, NOW)
        assert editor.password_hash.startswith("$argon2id$")
        assert PASSWORD not in editor.password_hash
    with runtime.sessions.begin() as session:
        assert authenticate(session, "ed@example.org", "wrong password!", NOW, VERIFIER) is None
        assert authenticate(session, "nobody@example.org", PASSWORD, NOW, VERIFIER) is None
        found = authenticate(session, "ED@example.org", PASSWORD, NOW, VERIFIER)
        assert found is not None
        assert found.role == Role.PUBLISHER
        assert found.last_login_at == NOW


def test_short_passwords_and_bad_addresses_are_refused(runtime: Runtime) -> None:
    with runtime.sessions.begin() as session:
        with pytest.raises(AccountError, match="at least 12"):
            add_editor(session, "ed@example.org", "short", Role.EDITOR, NOW)
        with pytest.raises(AccountError, match="not a valid email"):
            add_editor(session, "not-an-address", PASSWORD, Role.EDITOR, NOW)


def test_full_width_and_case_variants_are_one_account_and_one_bucket(runtime: Runtime) -> None:
    variant = " ＤＡＮ@ｅxample.ORG "  # full-width letters, capitals, spaces
    assert canonical_address(variant) == canonical_address("dan@example.org")
    limits = SignInLimits(5, 20, 50, timedelta(minutes=15))
    assert limits.buckets(canonical_address(variant), "192.0.2.1", None) == limits.buckets(
        "dan@example.org", "192.0.2.1", None
    )
    with runtime.sessions.begin() as session:
        add_editor(session, "dan@example.org", PASSWORD, Role.EDITOR, NOW)
    with runtime.sessions.begin() as session:
        found = authenticate(session, variant, PASSWORD, NOW, VERIFIER)
        assert found is not None
        assert found.email == "dan@example.org"
        # Adding the variant resets the same account rather than making a second one.
        assert add_editor(session, variant, PASSWORD, Role.EDITOR, NOW).id == found.id


def test_counting_is_per_window_and_a_success_forgives_the_pair(runtime: Runtime) -> None:
    limits = SignInLimits(3, 20, 50, timedelta(minutes=15))
    counter = SignInCounter(runtime.sessions)
    buckets = limits.buckets("ed@example.org", "192.0.2.1", None)
    assert [counter.admit(limits, buckets, NOW) for _ in range(4)] == [True] * 3 + [False]
    assert counter.admit(limits, buckets, NOW + timedelta(minutes=16))
    counter.succeeded(buckets)
    assert all(counter.admit(limits, buckets, NOW + timedelta(minutes=16)) for _ in range(3))


def test_the_looser_account_bucket_spares_a_trusted_device(runtime: Runtime) -> None:
    limits = SignInLimits(5, 20, 3, timedelta(minutes=15))
    counter = SignInCounter(runtime.sessions)
    for n in range(3):  # a guesser spread over many addresses uses up the account's allowance
        assert counter.admit(limits, limits.buckets("ed@example.org", f"198.51.100.{n}", None), NOW)
    assert not counter.admit(limits, limits.buckets("ed@example.org", "198.51.100.9", None), NOW)
    # The owner's browser, which signed in before, is counted on its own.
    assert counter.admit(limits, limits.buckets("ed@example.org", "198.51.100.9", "dev-1"), NOW)


def test_password_checks_at_once_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    entered, release = threading.Event(), threading.Event()

    def slow_verify(stored: str, password: str) -> bool:
        entered.set()
        release.wait(10)
        return False

    monkeypatch.setattr(accounts, "verify_password", slow_verify)
    verifier = Verifier(1, 0.05)
    holder = threading.Thread(target=verifier.verify, args=("h", "p"))
    holder.start()
    assert entered.wait(10)
    try:
        with pytest.raises(VerifierBusy, match="try again"):
            verifier.verify("h", "p")
    finally:
        release.set()
        holder.join()
    assert verifier.verify("h", "p") is False  # the slot is free again


def test_reset_and_disable_move_the_session_version(runtime: Runtime) -> None:
    with runtime.sessions.begin() as session:
        first = add_editor(session, "ed@example.org", PASSWORD, Role.EDITOR, NOW).session_version
    with runtime.sessions.begin() as session:
        reset = add_editor(session, "ed@example.org", PASSWORD + "!", Role.EDITOR, NOW)
        assert reset.session_version == first + 1
    with runtime.sessions.begin() as session:
        disabled = disable_editor(session, "ED@example.org")
        assert (disabled.active, disabled.session_version) == (False, first + 2)
        with pytest.raises(AccountError, match="no editor"):
            disable_editor(session, "nobody@example.org")
    with runtime.sessions.begin() as session:
        assert authenticate(session, "ed@example.org", PASSWORD + "!", NOW, VERIFIER) is None
