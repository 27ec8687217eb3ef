"""TOTP on an injected clock: the drift window, codes good once, recovery codes spent once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlparse

import pyotp
import pytest

from newsletter.editors.accounts import AccountError, add_editor, find_editor
from newsletter.editors.models import Role
from newsletter.editors.two_factor import (
    begin_enrolment,
    confirm_enrolment,
    provisioning_uri,
    qr_svg,
    recovery_codes_left,
    turn_off,
    verify_second_factor,
)
from newsletter.runtime import Runtime

# Ten seconds into a 30-second step, so one step either side is unambiguous.
NOW = datetime(2026, 11, 26, 15, 0, 10, tzinfo=UTC)
STEP = timedelta(seconds=30)


def _enrolled(runtime: Runtime) -> tuple[str, list[str]]:
    """An editor with two-factor sign-in on: the secret their app holds, their recovery codes."""
    with runtime.sessions.begin() as session:
        editor = add_editor(session, "ed@example.org", "correct horse battery", Role.EDITOR, NOW)
        session.flush()
        secret = begin_enrolment(editor)
        codes = confirm_enrolment(session, editor, pyotp.TOTP(secret).at(NOW), NOW)
    return secret, codes


def _verify(runtime: Runtime, code: str, at: datetime) -> bool:
    with runtime.sessions.begin() as session:
        return verify_second_factor(session, find_editor(session, "ed@example.org"), code, at)


def test_enrolment_needs_a_code_from_the_new_secret(runtime: Runtime) -> None:
    with runtime.sessions.begin() as session:
        editor = add_editor(session, "ed@example.org", "correct horse battery", Role.EDITOR, NOW)
        session.flush()
        with pytest.raises(AccountError, match="start setting up"):
            confirm_enrolment(session, editor, "123456", NOW)
        secret = begin_enrolment(editor)
        assert not editor.two_factor
        wrong = pyotp.TOTP(pyotp.random_base32()).at(NOW)
        with pytest.raises(AccountError, match="does not match"):
            confirm_enrolment(session, editor, wrong, NOW)
        codes = confirm_enrolment(session, editor, pyotp.TOTP(secret).at(NOW), NOW)
        assert editor.two_factor
        assert editor.totp_pending is None
        assert len(codes) == 10
        assert len(set(codes)) == 10
        assert recovery_codes_left(session, editor.id) == 10
        with pytest.raises(AccountError, match="already"):
            begin_enrolment(editor)


def test_the_uri_and_qr_code_carry_the_secret_for_the_app() -> None:
    secret = pyotp.random_base32()
    uri = provisioning_uri(secret, "ed@example.org", "Demo News")
    parsed = urlparse(uri)
    assert (parsed.scheme, parsed.netloc) == ("otpauth", "totp")
    assert parse_qs(parsed.query)["secret"] == [secret]
    assert parse_qs(parsed.query)["issuer"] == ["Demo News"]
    svg = qr_svg(uri, "Scan me")
    assert svg.startswith("<svg")
    assert "<title>Scan me</title>" in svg
    assert secret not in svg  # the secret is in the picture, not in readable text


def test_codes_within_one_step_of_now_pass_and_others_do_not(runtime: Runtime) -> None:
    secret, _ = _enrolled(runtime)
    totp = pyotp.TOTP(secret)
    later = NOW + 10 * STEP
    assert not _verify(runtime, totp.at(later - 2 * STEP), later)
    assert not _verify(runtime, totp.at(later + 2 * STEP), later)
    assert _verify(runtime, totp.at(later - STEP), later)
    assert _verify(runtime, totp.at(later + STEP), later)


def test_a_code_is_not_accepted_twice_nor_an_older_one_after_it(runtime: Runtime) -> None:
    secret, _ = _enrolled(runtime)
    totp = pyotp.TOTP(secret)
    # The enrolment code itself was used at NOW: not again, even within its window.
    assert not _verify(runtime, totp.at(NOW), NOW + timedelta(seconds=5))
    later = NOW + 4 * STEP
    assert _verify(runtime, totp.at(later), later)
    assert not _verify(runtime, totp.at(later), later)  # replayed in the same step
    assert not _verify(runtime, totp.at(later), later + STEP)  # still in its window
    assert not _verify(runtime, totp.at(later - STEP), later)  # an older step
    assert _verify(runtime, totp.at(later + STEP), later + STEP)


def test_a_recovery_code_works_once_in_any_spelling(runtime: Runtime) -> None:
    _, codes = _enrolled(runtime)
    first = codes[0]
    assert _verify(runtime, f"  {first.lower().replace('-', ' ')} ", NOW)
    assert not _verify(runtime, first, NOW)
    assert not _verify(runtime, "AAAA-AAAA-AAAA-AAAA", NOW)
    assert not _verify(runtime, "x" * 10_000, NOW)
    assert _verify(runtime, codes[1], NOW)
    with runtime.sessions() as session:
        assert recovery_codes_left(session, find_editor(session, "ed@example.org").id) == 8


def test_turning_it_off_drops_the_secret_and_codes(runtime: Runtime) -> None:
    secret, codes = _enrolled(runtime)
    with runtime.sessions.begin() as session:
        turn_off(session, find_editor(session, "ed@example.org"))
    later = NOW + 3 * STEP
    assert not _verify(runtime, pyotp.TOTP(secret).at(later), later)
    assert not _verify(runtime, codes[0], later)
