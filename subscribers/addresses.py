"""Email addresses checked and normalised once, by email-validator, before anything stores them."""

from __future__ import annotations

import re

from email_validator import EmailNotValidError, validate_email

from subscribers.errors import InvalidAddress


def normalise(address: str, *, check_deliverability: bool = False) -> str:
    """The canonical form of an address (domain lowercased, IDNA), or InvalidAddress.

    The whole address is lowercased too: mailbox names are case-sensitive by the RFC but by no
    real mail server, and two rows for Ana@ and ana@ would mail one person twice.
    """
    candidate = address.strip()
    if not candidate:
        raise InvalidAddress("the address is empty", address)
    try:
        checked = validate_email(candidate, check_deliverability=check_deliverability)
    except EmailNotValidError as exc:
        raise InvalidAddress(str(exc), address) from None
    return checked.normalized.lower()


# RFC 5322 dot-atom in ASCII: a strict subset of what email-validator accepts as a local part.
_DOT_ATOM = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*\Z")
_LOCAL_MAX = 64
_ADDRESS_MAX = 254


class AddressChecker:
    """normalise() for long lists: each distinct domain goes through email-validator once.

    A list has many addresses but few domains, and the domain (IDNA, special-use names, DNS
    when asked) is most of email-validator's work. Plain ASCII local parts, which email-validator
    accepts unchanged, then need only a pattern match; anything else takes the full check.
    """

    def __init__(self, *, check_deliverability: bool = False) -> None:
        self.check_deliverability = check_deliverability
        self.domains: dict[str, str] = {}

    def __call__(self, address: str) -> str:
        candidate = address.strip()
        local, _, domain = candidate.rpartition("@")
        known = self.domains.get(domain)
        if (
            known is not None
            and len(local) <= _LOCAL_MAX
            and _DOT_ATOM.match(local)
            and len(local) + 1 + len(known) <= _ADDRESS_MAX
        ):
            return f"{local.lower()}@{known}"
        normalised = normalise(candidate, check_deliverability=self.check_deliverability)
        self.domains[domain] = normalised.rpartition("@")[2]
        return normalised
