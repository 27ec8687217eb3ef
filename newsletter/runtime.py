"""The wired-up service for one process: settings, database, sessions and clock."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from newsletter.clock import Clock, SystemClock
from newsletter.config import Settings
from newsletter.db import make_engine, make_sessionmaker
from newsletter.extras import require_workers


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    clock: Clock = field(default_factory=SystemClock)

    @classmethod
    def build(cls, settings: Settings, clock: Clock | None = None) -> Runtime:
        require_workers(settings)  # a broker or Redis URL without the workers extra: say so now
        engine = make_engine(settings.database_url)
        return cls(settings, engine, make_sessionmaker(engine), clock or SystemClock())

    def close(self) -> None:
        self.engine.dispose()
