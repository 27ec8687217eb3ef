"""Settings loaded once: environment over newsletter.toml over defaults; one line when wrong."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from newsletter.config.schema import Settings
from newsletter.config.sources import ENV_PREFIX, FLAT_ENV
from newsletter.errors import ConfigError


def load_settings(**overrides: Any) -> Settings:
    """Read and check every setting once; a wrong one raises ConfigError naming it."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise ConfigError(explain(exc)) from None


def explain(exc: ValidationError) -> str:
    """The first problem in one line, naming its key; how many more there are."""
    errors = exc.errors()
    first = errors[0]
    message = first["msg"].removeprefix("Value error, ")
    key = key_name(tuple(first["loc"]))
    if first["type"] == "extra_forbidden":
        message = "unknown setting (misspelt, or not in newsletter.example.toml)"
        key = key.split(" (")[0]
    line = f"invalid setting {key}: {message}"
    if len(errors) > 1:
        line += f" (and {len(errors) - 1} more)"
    return line


def key_name(loc: tuple[int | str, ...]) -> str:
    """Name a setting as a user would write it: TOML path, and its variable where it has one."""
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    for env_name, place in FLAT_ENV.items():
        if tuple(loc) == place:
            return f"{path} ({env_name})"
    if len(loc) == 1:
        return f"{ENV_PREFIX}{str(loc[0]).upper()}"
    if all(isinstance(part, str) for part in loc):
        return f"{path} ({ENV_PREFIX}{'__'.join(str(p).upper() for p in loc)})"
    return path
