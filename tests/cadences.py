"""Settings that offer readers every cadence, for the tests of choosing one."""

from __future__ import annotations

from newsletter.config import Settings

EVERY_CADENCE = ["weekly", "daily", "each"]


def offering_every_cadence(settings: Settings) -> Settings:
    digest = settings.digest.model_copy(update={"cadences": EVERY_CADENCE})
    return settings.model_copy(update={"digest": digest})
