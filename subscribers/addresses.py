"""Email addresses checked and normalised once, by email-validator, before anything stores them."""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email


class InvalidAddress(ValueError):
    """Not an address we can mail; the message says why in words a subscriber understands."""


def normalise(address: str, *, check_deliverability: bool = False) -> str:
    """The canonical form of an address (domain lowercased, IDNA), or InvalidAddress.

    The whole address is lowercased too: mailbox names are case-sensitive by the RFC but by no
    real mail server, and two rows for Ana@ and ana@ would mail one person twice.
    """
    candidate = address.strip()
    if not candidate:
        raise InvalidAddress("the address is empty")
    try:
        checked = validate_email(candidate, check_deliverability=check_deliverability)
    except EmailNotValidError as exc:
        raise InvalidAddress(str(exc)) from None
    return checked.normalized.lower()
