"""Signed, scoped tokens for the links in every email: confirm, unsubscribe, preferences, bounce."""

from __future__ import annotations

import enum
import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta

from itsdangerous import BadData, URLSafeSerializer


class Purpose(enum.StrEnum):
    CONFIRM = "confirm"
    UNSUBSCRIBE = "unsubscribe"
    PREFERENCES = "preferences"
    BOUNCE = "bounce"


# Confirmation links go stale; links in sent mail must keep working for as long as it is read.
DEFAULT_MAX_AGE: dict[Purpose, timedelta | None] = {
    Purpose.CONFIRM: timedelta(days=7),
    Purpose.UNSUBSCRIBE: None,
    Purpose.PREFERENCES: None,
    Purpose.BOUNCE: None,
}


class InvalidToken(Exception):
    """Forged, altered, expired, or made for another purpose or another subscriber."""


@dataclass(frozen=True)
class Claims:
    subscriber_id: int
    address_tag: str
    issued_at: datetime

    def belongs_to(self, email: str) -> bool:
        """Whether the token was made for this address (constant-time comparison)."""
        return hmac.compare_digest(_address_tag(email), self.address_tag)


def _address_tag(email: str) -> str:
    # Ties a token to the address as well as the id, so a reused id never inherits old links.
    return hashlib.blake2s(email.lower().encode(), digest_size=6).hexdigest()


def _serializer(secret: str, purpose: Purpose) -> URLSafeSerializer:
    # The salt scopes a token to one purpose: an unsubscribe token never confirms anything.
    return URLSafeSerializer(secret, salt=f"newsletter.{purpose.value}")


def make_token(
    secret: str, purpose: Purpose, subscriber_id: int, email: str, issued_at: datetime
) -> str:
    payload = [subscriber_id, _address_tag(email), int(issued_at.timestamp())]
    token: str = _serializer(secret, purpose).dumps(payload)
    return token


def read_token(
    secret: str,
    purpose: Purpose,
    token: str,
    now: datetime,
    max_age: timedelta | None = None,
) -> Claims:
    """Check the signature (in constant time) and the age.

    The caller loads the subscriber and checks `claims.belongs_to(subscriber.email)`.
    """
    try:
        payload = _serializer(secret, purpose).loads(token)
        subscriber_id, tag, issued = payload
        if not (
            isinstance(subscriber_id, int) and isinstance(tag, str) and isinstance(issued, int)
        ):
            raise ValueError("malformed payload")
    except (BadData, ValueError, TypeError):
        raise InvalidToken("this link is not valid") from None
    issued_at = datetime.fromtimestamp(issued, tz=now.tzinfo)
    limit = max_age if max_age is not None else DEFAULT_MAX_AGE[purpose]
    if limit is not None and now - issued_at > limit:
        raise InvalidToken("this link has expired")
    return Claims(subscriber_id=subscriber_id, address_tag=tag, issued_at=issued_at)
