"""Where settings come from besides NEWSLETTER_SECTION__KEY: the flat variables and the TOML file.

The hand-written TOML source stays rather than pydantic-settings' TomlConfigSettingsSource: that
one ignores a named file that is missing, lets a TOML or UTF-8 error escape as a traceback, and
matches top-level keys case-insensitively (`[Site]` would be taken for `[site]`, not refused).
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource

from newsletter.errors import ConfigError

ENV_PREFIX = "NEWSLETTER_"
DEFAULT_CONFIG_FILE = "newsletter.toml"

# Flat variables the public contract names, mapped to their place in the nested settings.
FLAT_ENV: dict[str, tuple[str, ...]] = {
    "NEWSLETTER_SITE_URL": ("site", "url"),
    "NEWSLETTER_TIMEZONE": ("site", "timezone"),
    "NEWSLETTER_DONATE_URL": ("organization", "donate_url"),
}


def config_path(environ: Mapping[str, str]) -> Path | None:
    """The settings file: NEWSLETTER_CONFIG, else ./newsletter.toml when present."""
    named = environ.get("NEWSLETTER_CONFIG")
    if named:
        return Path(named)
    default = Path(DEFAULT_CONFIG_FILE)
    return default if default.exists() else None


def file_and_flat_sources(
    settings_cls: type[BaseSettings],
) -> tuple[PydanticBaseSettingsSource, ...]:
    """The flat variables over the file, both read from this process's environment."""
    return (
        _FlatEnvSource(settings_cls, os.environ),
        _TomlSource(settings_cls, config_path(os.environ)),
    )


class _TomlSource(PydanticBaseSettingsSource):
    """Reads newsletter.toml (or the file NEWSLETTER_CONFIG names)."""

    def __init__(self, settings_cls: type[BaseSettings], path: Path | None) -> None:
        super().__init__(settings_cls)
        self.path = path

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        raise NotImplementedError  # __call__ reads the whole file at once

    def __call__(self) -> dict[str, Any]:
        if self.path is None:
            return {}
        try:
            with self.path.open("rb") as handle:
                return tomllib.load(handle)
        except FileNotFoundError:
            raise ConfigError(f"NEWSLETTER_CONFIG: no such file {str(self.path)!r}") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{self.path}: not valid TOML: {exc}") from None
        except UnicodeDecodeError as exc:
            raise ConfigError(
                f"{self.path}: not UTF-8 text (byte {exc.start}); save it as UTF-8"
            ) from None
        except OSError as exc:
            raise ConfigError(f"{self.path}: cannot read it: {exc.strerror or exc}") from None


class _FlatEnvSource(PydanticBaseSettingsSource):
    """The contract's flat variables (NEWSLETTER_SITE_URL, ...) placed into their sections."""

    def __init__(self, settings_cls: type[BaseSettings], environ: Mapping[str, str]) -> None:
        super().__init__(settings_cls)
        self.environ = environ

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        raise NotImplementedError

    def __call__(self) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for name, (section, key) in FLAT_ENV.items():
            if self.environ.get(name):
                values.setdefault(section, {})[key] = self.environ[name]
        return values
