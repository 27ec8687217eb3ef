"""Erasing a person: every row that names them deleted, a keyed hash of the address kept."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from newsletter.bulk import chunks
from subscribers.models import ErasedAddress, RateLimit, SignupRequest, Subscriber, Suppression

_IN_CHUNK = 2000


def digest(key: str, email: str) -> str:
    """The address's HMAC-SHA256 with `key`: compares equal only for the same address and key."""
    return hmac.new(key.encode(), email.strip().lower().encode(), hashlib.sha256).hexdigest()


def erased_among(session: Session, keys: Sequence[str], emails: Sequence[str]) -> set[str]:
    """Which of these addresses were erased (under the current key or a rotated-out one)."""
    by_digest = {digest(key, email): email for email in emails for key in keys}
    found: set[str] = set()
    for chunk in chunks(list(by_digest), _IN_CHUNK):
        rows = session.scalars(select(ErasedAddress.digest).where(ErasedAddress.digest.in_(chunk)))
        found.update(by_digest[row] for row in rows)
    return found


def is_erased(session: Session, keys: Sequence[str], email: str) -> bool:
    return bool(erased_among(session, keys, [email]))


def erase(session: Session, subscriber: Subscriber, key: str, now: datetime, editor: str) -> None:
    """Delete the subscriber with everything that names them; keep the address's hash and who.

    Their events, topics and deliveries go with the row (foreign keys cascade); the suppression
    row, waiting signup requests and rate-limit counters name the address, so they go too.
    """
    email = subscriber.email
    session.execute(delete(Suppression).where(Suppression.email == email))
    session.execute(delete(SignupRequest).where(SignupRequest.email == email))
    # Counter keys end with the address they count (see subscribers.ratelimit).
    session.execute(
        delete(RateLimit).where(
            # autoescape: "_" and "%" are common in addresses and are not wildcards here.
            or_(RateLimit.key.endswith(f":{email}", autoescape=True), RateLimit.key == email)
        )
    )
    session.delete(subscriber)
    if session.get(ErasedAddress, digest(key, email)) is None:
        session.add(ErasedAddress(digest=digest(key, email), erased_at=now, erased_by=editor))
    session.flush()
