"""Optional installs: the `workers` extra (Celery, Redis), refused in one line when missing."""

from __future__ import annotations

from importlib.util import find_spec

from newsletter.config import Settings
from newsletter.errors import ConfigError

INSTALL = "pip install 'newsletter[workers]'"


def require_workers(settings: Settings) -> None:
    """ConfigError (exit 2) before anything starts when the settings need a package not installed.

    Without a broker or a Redis URL nothing loads Celery or Redis: one process sends in-process.
    """
    if settings.broker_url:
        _require("celery", "NEWSLETTER_BROKER_URL")
    if settings.shared_redis_url:
        _require("redis", "NEWSLETTER_REDIS_URL" if settings.redis_url else "NEWSLETTER_BROKER_URL")


def _require(package: str, setting: str) -> None:
    try:
        found = find_spec(package) is not None  # looks for the package without importing it
    except (ImportError, ValueError):
        found = False
    if not found:
        raise ConfigError(f"{setting} is set, but {package} is not installed: {INSTALL}")
