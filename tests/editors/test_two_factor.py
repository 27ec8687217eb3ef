"""TOTP on an injected clock: the drift window, codes good once, recovery codes spent once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlparse

import pyotp
import pytest
from pydantic import SecretStr
from sqlalchemy import text

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
from newsletter.errors import ConfigError
from newsletter.runtime import Runtime

# Ten seconds into a 30-second step, so one step either side is unambiguous.
NOW = datetime(2026, 11, 26, 15, 0, 10, tzinfo=UTC)
STEP = timedelta(seconds=30)


def _enrolled(runtime: Runtime) -> tuple[str, list[str]]:
    """An editor with two-factor sign-in on: the secret their app holds, their recovery codes."""
    with runtime.sessions.begin() as session:
        editor = add_editor(session, "ed@example.org", "correct horse battery", Role.EDITOR, NOW)
        session.flush()
        secret = begin_enrolment(editor, runtime.sealer)
        codes = confirm_enrolment(session, editor, pyotp.TOTP(secret).at(NOW), NOW, runtime.sealer)
    return secret, codes


def _verify(runtime: Runtime, code: str, at: datetime) -> bool:
    with runtime.sessions.begin() as session:
        editor = find_editor(session, "ed@example.org")
        return verify_second_factor(session, editor, code, at, runtime.sealer)


def test_enrolment_needs_a_code_from_the_new_secret(runtime: Runtime) -> None:
    with runtime.sessions.begin() as session:
        editor = add_editor(session, "ed@example.org", "correct horse battery", Role.EDITOR, NOW)
        session.flush()
        with pytest.raises(AccountError, match="start setting up"):
            confirm_enrolment(session, editor, "123456", NOW, runtime.sealer)
        secret = begin_enrolment(editor, runtime.sealer)
        assert not editor.two_factor
        wrong = pyotp.TOTP(pyotp.random_base32()).at(NOW)
        with pytest.raises(AccountError, match="does not match"):
            confirm_enrolment(session, editor, wrong, NOW, runtime.sealer)
        codes = confirm_enrolment(session, editor, pyotp.TOTP(secret).at(NOW), NOW, runtime.sealer)
        assert editor.two_factor
        assert editor.totp_pending is None
        assert len(codes) == 10
        assert len(set(codes)) == 10
        assert recovery_codes_left(session, editor.id) == 10
        with pytest.raises(AccountError, match="already"):
            begin_enrolment(editor, runtime.sealer)


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


def _stored(runtime: Runtime) -> str | None:
    with runtime.sessions() as session:
        return session.scalar(text("SELECT totp_secret FROM editors"))


def _rekeyed(runtime: Runtime, current: str, previous: list[str]) -> Runtime:
    """The same database, the process restarted with other secret keys."""
    settings = runtime.settings.model_copy(
        update={
            "secret_key": SecretStr(current),
            "secret_keys_previous": [SecretStr(key) for key in previous],
        }
    )
    return Runtime(settings, runtime.engine, runtime.sessions)


def test_the_secret_is_stored_sealed_and_resealed_under_a_rotated_key(runtime: Runtime) -> None:
    secret, _ = _enrolled(runtime)
    sealed = _stored(runtime)
    assert sealed is not None
    assert secret not in sealed
    old, new = runtime.signing_key, "n3w-" + "k" * 40
    rotated = _rekeyed(runtime, new, [old])
    later = NOW + 2 * STEP
    assert _verify(rotated, pyotp.TOTP(secret).at(later), later)
    resealed = _stored(runtime)
    assert resealed not in (None, sealed)
    # Once resealed, the old key can go: the new one alone opens it.
    alone = _rekeyed(runtime, new, [])
    latest = later + 2 * STEP
    assert _verify(alone, pyotp.TOTP(secret).at(latest), latest)


def test_a_secret_stored_before_sealing_still_works_and_is_sealed(runtime: Runtime) -> None:
    secret, _ = _enrolled(runtime)
    with runtime.sessions.begin() as session:
        session.execute(text("UPDATE editors SET totp_secret = :s"), {"s": secret})
    later = NOW + 2 * STEP
    assert _verify(runtime, pyotp.TOTP(secret).at(later), later)
    assert _stored(runtime) not in (None, secret)


def test_a_secret_no_key_opens_is_one_clear_error(runtime: Runtime) -> None:
    secret, _ = _enrolled(runtime)
    stranger = _rekeyed(runtime, "another-" + "k" * 40, [])
    with pytest.raises(ConfigError, match="secret_keys_previous"):
        _verify(stranger, pyotp.TOTP(secret).at(NOW), NOW)
