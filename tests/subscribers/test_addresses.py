"""Addresses: normalised by email-validator; the per-domain fast path agrees with it."""

from __future__ import annotations

import pytest

from subscribers.addresses import AddressChecker, normalise
from subscribers.errors import InvalidAddress

CASES = [
    "Ana@Example.ORG",
    "  ana.lopez+news@example.org ",
    "o'brien@example.org",
    '"quoted local"@example.org',
    "josé@example.org",
    "ana@bücher.example",
    "a" * 65 + "@example.org",
    "a..b@example.org",
    ".a@example.org",
    "ana@example",
    "ana@localhost",
    "ana@example.invalid",
    "x" * 64 + "@" + ("d" * 60 + ".") * 3 + "org",
    "no-at-sign",
    "",
]


def _outcome(check: object, address: str) -> str:
    try:
        return check(address)  # type: ignore[operator,no-any-return]
    except InvalidAddress:
        return "invalid"


@pytest.mark.parametrize("address", CASES)
def test_the_fast_path_agrees_with_email_validator(address: str) -> None:
    checker = AddressChecker()
    # Warm the domain cache with a plain address at the same domain, then compare.
    domain = address.rpartition("@")[2].strip()
    _outcome(checker, f"warm@{domain}")
    assert _outcome(checker, address) == _outcome(normalise, address)


def test_normalised_forms() -> None:
    assert normalise(" Ana@Example.ORG ") == "ana@example.org"
    assert normalise("ana@BÜCHER.example") == "ana@bücher.example"
    with pytest.raises(InvalidAddress, match="empty"):
        normalise("   ")
