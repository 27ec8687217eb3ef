"""Tokens: scoped, tied to the subscriber, expiring only where they should."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from subscribers.tokens import InvalidToken, Purpose, make_token, read_token

SECRET = "test-secret-0123456789"
ISSUED = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def test_round_trip_and_address_binding() -> None:
    token = make_token(SECRET, Purpose.UNSUBSCRIBE, 42, "Ana@Example.org", ISSUED)
    claims = read_token(SECRET, Purpose.UNSUBSCRIBE, token, now=ISSUED + timedelta(days=900))
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
        "altered": token[:-2] + ("AA" if not token.endswith("AA") else "BB"),
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
