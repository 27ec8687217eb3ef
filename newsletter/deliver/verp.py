"""Per-recipient return paths (VERP): bounces+<id>-<tag>@domain names its subscriber.

Not an itsdangerous token from subscribers/tokens.py: those run past the 64-octet limit of an
SMTP local part (RFC 5321 §4.5.3.1.1) and are case-sensitive, while some mail systems fold the
case of the address a bounce is sent to. This one is short, lowercase, and signed all the same.
"""

from __future__ import annotations

import hashlib
import hmac
import re

from subscribers.tokens import Purpose

_VERP = re.compile(r"^(?P<prefix>[a-z]+)\+(?P<id>\d{1,18})-(?P<tag>[0-9a-f]{16})@", re.IGNORECASE)


def _tag(secret: str, prefix: str, subscriber_id: int, email: str) -> str:
    # The prefix picks the purpose, so a bounce address's tag never passes as an unsubscribe's.
    purpose = Purpose.BOUNCE if prefix == "bounces" else Purpose.UNSUBSCRIBE
    message = f"{purpose.value}:{subscriber_id}:{email.lower()}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()[:16]


def verp_address(
    secret: str, subscriber_id: int, email: str, domain: str, prefix: str = "bounces"
) -> str:
    """The envelope sender for one subscriber, e.g. bounces+42-0a1b2c3d4e5f6a7b@example.org."""
    return f"{prefix}+{subscriber_id}-{_tag(secret, prefix, subscriber_id, email)}@{domain}"


def parse_verp(address: str) -> tuple[str, int, str] | None:
    """(prefix, subscriber id, tag) of a VERP address, or None when it is not one."""
    match = _VERP.match(address.strip().strip("<>"))
    if match is None:
        return None
    return match["prefix"].lower(), int(match["id"]), match["tag"].lower()


def verp_matches(secret: str, prefix: str, subscriber_id: int, tag: str, email: str) -> bool:
    """Whether the tag was made by us for this subscriber and address (constant time)."""
    return hmac.compare_digest(_tag(secret, prefix, subscriber_id, email), tag)
