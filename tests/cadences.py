"""Settings that offer readers every cadence, for the tests of choosing one."""

from __future__ import annotations

import pytest

from newsletter.config import Settings

EVERY_CADENCE = ["weekly", "daily", "each"]


def offering_every_cadence(settings: Settings) -> Settings:
    digest = settings.digest.model_copy(update={"cadences": EVERY_CADENCE})
    return settings.model_copy(update={"digest": digest})


@pytest.fixture(name="settings")
def every_cadence_settings(settings: Settings) -> Settings:
    """A test module's settings, every cadence offered: `from tests.cadences import
    every_cadence_settings as every_cadence_settings`."""
    return offering_every_cadence(settings)
