"""Signed, scoped, dated tokens for the links in every email: confirm, unsubscribe, preferences.

A token carries its subscriber, a tag of the address, its issue time and the id of the key that
signed it. Tokens are signed with the current key only; previous keys, kept for a while after a
rotation, still verify the links already mailed.
"""

from __future__ import annotations

import enum
import functools
import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from itsdangerous import BadData, URLSafeSerializer

from subscribers.errors import ExpiredToken, InvalidToken


class Purpose(enum.StrEnum):
    CONFIRM = "confirm"
    UNSUBSCRIBE = "unsubscribe"
    PREFERENCES = "preferences"
    BOUNCE = "bounce"


# Every link expires. An unsubscribe link must work for at least 30 days after sending
# (RFC 8058, CAN-SPAM): a year. The settings (subscribers.*_max_age_days) override these.
DEFAULT_MAX_AGE: dict[Purpose, timedelta] = {
    Purpose.CONFIRM: timedelta(days=7),
    Purpose.UNSUBSCRIBE: timedelta(days=365),
    Purpose.PREFERENCES: timedelta(days=90),
    Purpose.BOUNCE: timedelta(days=365),
}


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


@functools.lru_cache(maxsize=32)
def _serializer(secret: str, purpose: Purpose) -> URLSafeSerializer:
    # The salt scopes a token to one purpose: an unsubscribe token never confirms anything.
    # Kept per key and purpose: a send makes two tokens a message, and building the serializer
    # each time was a fifth of their cost.
    return URLSafeSerializer(secret, salt=f"newsletter.{purpose.value}")


@functools.lru_cache(maxsize=32)
def key_id(secret: str) -> str:
    """A short, stable name for a key: it tells which key signed a token, never the key."""
    return hashlib.sha256(f"newsletter key id:{secret}".encode()).hexdigest()[:8]


def make_token(
    secret: str, purpose: Purpose, subscriber_id: int, email: str, issued_at: datetime
) -> str:
    """Signed with `secret`, always the current key: a previous key never signs."""
    payload = [subscriber_id, _address_tag(email), int(issued_at.timestamp()), key_id(secret)]
    token: str = _serializer(secret, purpose).dumps(payload)
    return token


def _verified(keys: Sequence[str], purpose: Purpose, token: str) -> list[object]:
    """The payload of a token signed by one of `keys`, checked against the key id it names."""
    for secret in keys:
        try:
            payload = _serializer(secret, purpose).loads(token)
        except BadData:
            continue
        if not isinstance(payload, list):
            break
        # Tokens made before key ids have three fields; a key id must name the key that signed.
        if len(payload) == 4 and payload[3] != key_id(secret):
            break
        return payload
    raise InvalidToken(purpose=purpose)


def read_token(
    keys: str | Sequence[str],
    purpose: Purpose,
    token: str,
    now: datetime,
    max_age: timedelta | None = None,
) -> Claims:
    """Check the signature (in constant time) against the current and previous keys, and the age.

    `keys` is the current key, or the current key followed by the previous ones. The caller
    loads the subscriber and checks `claims.belongs_to(subscriber.email)`.
    """
    payload = _verified([keys] if isinstance(keys, str) else keys, purpose, token)
    if len(payload) not in (3, 4):
        raise InvalidToken(purpose=purpose)
    subscriber_id, tag, issued = payload[:3]
    if not (isinstance(subscriber_id, int) and isinstance(tag, str) and isinstance(issued, int)):
        raise InvalidToken(purpose=purpose)
    try:
        issued_at = datetime.fromtimestamp(issued, tz=now.tzinfo)
    except (OverflowError, OSError, ValueError):
        raise InvalidToken(purpose=purpose) from None
    limit = max_age if max_age is not None else DEFAULT_MAX_AGE[purpose]
    if now - issued_at > limit:
        raise ExpiredToken(purpose=purpose)
    return Claims(subscriber_id=subscriber_id, address_tag=tag, issued_at=issued_at)
