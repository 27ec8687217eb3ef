"""Tokens: scoped, tied to the subscriber, dated, and verified by the current or a previous key."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from itsdangerous import URLSafeSerializer

from newsletter.config import load_settings
from newsletter.errors import ConfigError
from newsletter.keys import signing_keys
from subscribers.errors import ExpiredToken, InvalidToken
from subscribers.tokens import (
    Purpose,
    key_id,
    make_token,
    read_token,
)
from tests import factories

SECRET = "test-secret-0123456789-0123456789"
OLD = "the-key-before-the-rotation-0123456789"
ISSUED = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def test_round_trip_and_address_binding() -> None:
    token = make_token(SECRET, Purpose.UNSUBSCRIBE, 42, "Ana@Example.org", ISSUED)
    claims = read_token(SECRET, Purpose.UNSUBSCRIBE, token, now=ISSUED + timedelta(days=300))
    assert claims.subscriber_id == 42
    assert claims.issued_at == ISSUED
    assert claims.belongs_to("ana@example.org")
    assert not claims.belongs_to("someone@example.org")


def test_wrong_purpose_is_refused() -> None:
    token = make_token(SECRET, Purpose.UNSUBSCRIBE, 42, "ana@example.org", ISSUED)
    with pytest.raises(InvalidToken):
        read_token(SECRET, Purpose.CONFIRM, token, now=ISSUED)


@pytest.mark.parametrize("tamper", ["altered", "forged", "garbage", "empty"])
def test_altered_or_forged_tokens_are_refused(tamper: str) -> None:
    token = make_token(SECRET, Purpose.PREFERENCES, 42, "ana@example.org", ISSUED)
    bad = {
        "altered": factories.altered(token),
        "forged": make_token("another-secret", Purpose.PREFERENCES, 42, "ana@example.org", ISSUED),
        "garbage": "not.a.token",
        "empty": "",
    }[tamper]
    with pytest.raises(InvalidToken):
        read_token(SECRET, Purpose.PREFERENCES, bad, now=ISSUED)


def test_confirmation_tokens_expire_after_seven_days() -> None:
    token = make_token(SECRET, Purpose.CONFIRM, 7, "ana@example.org", ISSUED)
    read_token(SECRET, Purpose.CONFIRM, token, now=ISSUED + timedelta(days=7))
    with pytest.raises(InvalidToken, match="expired"):
        read_token(SECRET, Purpose.CONFIRM, token, now=ISSUED + timedelta(days=7, seconds=1))
    with pytest.raises(InvalidToken, match="expired"):
        read_token(
            SECRET,
            Purpose.CONFIRM,
            token,
            now=ISSUED + timedelta(hours=2),
            max_age=timedelta(hours=1),
        )


@pytest.mark.parametrize(
    ("purpose", "days"),
    [(Purpose.UNSUBSCRIBE, 365), (Purpose.PREFERENCES, 90)],
)
def test_long_lived_tokens_expire_too(purpose: Purpose, days: int) -> None:
    token = make_token(SECRET, purpose, 7, "ana@example.org", ISSUED)
    read_token(SECRET, purpose, token, now=ISSUED + timedelta(days=days))
    with pytest.raises(ExpiredToken, match="expired"):
        read_token(SECRET, purpose, token, now=ISSUED + timedelta(days=days, seconds=1))


def test_a_previous_key_verifies_but_an_unknown_key_does_not() -> None:
    old = make_token(OLD, Purpose.UNSUBSCRIBE, 42, "ana@example.org", ISSUED)
    claims = read_token([SECRET, OLD], Purpose.UNSUBSCRIBE, old, now=ISSUED)
    assert claims.subscriber_id == 42
    with pytest.raises(InvalidToken, match="not valid"):
        read_token(SECRET, Purpose.UNSUBSCRIBE, old, now=ISSUED)  # the old key retired
    unknown = make_token(
        "some-other-key-0123456789-0123456789", Purpose.UNSUBSCRIBE, 42, "a@b.c", ISSUED
    )
    with pytest.raises(InvalidToken, match="not valid"):
        read_token([SECRET, OLD], Purpose.UNSUBSCRIBE, unknown, now=ISSUED)


def test_tokens_name_the_key_that_signed_them_and_old_tokens_still_read() -> None:
    token = make_token(SECRET, Purpose.PREFERENCES, 42, "ana@example.org", ISSUED)
    salt = "newsletter.preferences"
    assert URLSafeSerializer(SECRET, salt=salt).loads(token)[3] == key_id(SECRET)
    assert SECRET not in token
    assert key_id(SECRET) != key_id(OLD)
    # A token made before key ids (three fields) still verifies.
    legacy = URLSafeSerializer(OLD, salt=salt).dumps([42, "x", int(ISSUED.timestamp())])
    assert read_token([SECRET, OLD], Purpose.PREFERENCES, legacy, now=ISSUED).subscriber_id == 42
    # A key id that does not name the key that signed is refused.
    mislabelled = URLSafeSerializer(OLD, salt=salt).dumps(
        [42, "x", int(ISSUED.timestamp()), key_id(SECRET)]
    )
    with pytest.raises(InvalidToken):
        read_token([SECRET, OLD], Purpose.PREFERENCES, mislabelled, now=ISSUED)


def test_previous_keys_verify_but_never_sign_and_must_be_long(tmp_path: Path) -> None:
    settings = load_settings(
        var_dir=tmp_path, secret_key=SECRET, secret_keys_previous=[OLD, OLD + "-older"]
    )
    keys = signing_keys(settings)
    assert keys.current == SECRET
    assert keys.verification == (SECRET, OLD, OLD + "-older")
    with pytest.raises(ConfigError) as refused:
        load_settings(var_dir=tmp_path, secret_key=SECRET, secret_keys_previous=["short-old"])
    assert str(refused.value) == (
        "invalid setting NEWSLETTER_SECRET_KEYS_PREVIOUS: "
        "every previous key must be at least 32 bytes long"
    )
    assert "short-old" not in str(refused.value)
