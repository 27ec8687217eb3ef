"""Sign-in limits, counted atomically before any password is checked.

Every attempt is counted first (one UPDATE ... RETURNING per bucket, shared by every web
process), so parallel requests cannot all pass a check made before any of them is recorded;
only an attempt within every limit goes on to the argon2 check. The buckets aim to slow a
guesser down without locking the owner out (OWASP's "device cookie" design):

- an unknown client gets `attempts` tries per window on one account, `per_client` over all
  accounts, and shares `per_account` (far looser) with every other unknown client;
- a browser that has signed in to the account before carries a signed device cookie, and its
  tries are counted on that device alone: no one elsewhere can use up the owner's allowance.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.orm import Session, sessionmaker

from newsletter.config import AdminSettings
from subscribers.models import RateLimit
from subscribers.ratelimit import CounterStore, DatabaseStore


@dataclass(frozen=True)
class Bucket:
    key: str
    limit: int
    # A successful sign-in empties it (the owner's own typos are forgiven).
    reset_on_success: bool


@dataclass(frozen=True)
class SignInLimits:
    attempts: int
    per_client: int
    per_account: int
    window: timedelta

    @classmethod
    def from_settings(cls, admin: AdminSettings) -> SignInLimits:
        return cls(
            admin.login_attempts,
            admin.login_attempts_per_client,
            admin.login_attempts_per_account,
            timedelta(minutes=admin.login_window_minutes),
        )

    def buckets(self, address: str, client: str, device: str | None) -> list[Bucket]:
        """Where this attempt counts; `address` is canonical, `device` a verified device id."""
        if device is not None:
            return [Bucket(f"signin-device:{device}", self.attempts, True)]
        return [
            Bucket(f"signin-pair:{client}|{address}", self.attempts, True),
            Bucket(f"signin-client:{client}", self.per_client, False),
            Bucket(f"signin-account:{address}", self.per_account, False),
        ]


class SignInCounter:
    """Counts attempts in the shared `rate_limits` table."""

    def __init__(self, sessions: sessionmaker[Session], store: CounterStore | None = None) -> None:
        self.sessions = sessions
        self.store = store or DatabaseStore(sessions)

    def admit(self, limits: SignInLimits, buckets: list[Bucket], now: datetime) -> bool:
        """Count this attempt; False (stop, check no password) once any bucket is over.

        Buckets are counted in order and counting stops at the first one over, so tries a
        pair's limit already refuses do not use up the looser buckets behind it.
        """
        for bucket in buckets:
            if self.store.hit(bucket.key, now, limits.window) > bucket.limit:
                return False
        return True

    def succeeded(self, buckets: list[Bucket]) -> None:
        keys = [bucket.key for bucket in buckets if bucket.reset_on_success]
        if keys:
            with self.sessions.begin() as session:
                session.execute(delete(RateLimit).where(RateLimit.key.in_(keys)))
