"""The wired-up service for one process: settings, database, clock, signing keys, mail transport."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from newsletter.clock import Clock, SystemClock
from newsletter.config import Settings
from newsletter.db import make_engine, make_sessionmaker
from newsletter.extras import require_workers
from newsletter.keys import SigningKeys, signing_keys
from newsletter.mail.transport import Transport, transport_from_settings
from newsletter.sealed import Sealer
from subscribers.cadences import offered
from subscribers.models import Cadence


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    clock: Clock = field(default_factory=SystemClock)
    # Resolved once, when the runtime is made (the key file is read, or written, here only).
    keys: SigningKeys = field(init=False)
    # Secrets the database keeps (editors' TOTP secrets) are sealed under the same keys.
    sealer: Sealer = field(init=False)

    def __post_init__(self) -> None:
        self.keys = signing_keys(self.settings)
        self.sealer = Sealer(self.keys)

    @classmethod
    def build(cls, settings: Settings, clock: Clock | None = None) -> Runtime:
        require_workers(settings)  # a broker or Redis URL without the workers extra: say so now
        engine = make_engine(settings.database_url)
        return cls(settings, engine, make_sessionmaker(engine), clock or SystemClock())

    @property
    def signing_key(self) -> str:
        """The key that signs sessions, CSRF tokens and every mailed link."""
        return self.keys.current

    @property
    def cadences(self) -> tuple[Cadence, ...]:
        """The cadences readers may choose (`digest.cadences`), weekly first."""
        return offered(self.settings.digest.cadences)

    @property
    def verification_keys(self) -> tuple[str, ...]:
        """The keys a link may carry: the current one first, then the rotated-out ones."""
        return self.keys.verification

    def transport(self) -> Transport:
        """A new connection for mail: SMTP when NEWSLETTER_SMTP_URL is set, else the outbox."""
        return transport_from_settings(self.settings)

    def close(self) -> None:
        self.engine.dispose()
