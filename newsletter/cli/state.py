"""What every `newsletter` command shares: settings and the runtime, built on first use."""

from __future__ import annotations

import typer

from newsletter.config import Settings, load_settings
from newsletter.runtime import Runtime
from newsletter.schema_version import require_current


class CliState:
    """Settings and the runtime are built on first use, so --help never needs a database."""

    def __init__(self) -> None:
        self._settings: Settings | None = None
        self._runtime: Runtime | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings()
        return self._settings

    @property
    def runtime(self) -> Runtime:
        if self._runtime is None:
            self._runtime = Runtime.build(self.settings)
        return self._runtime


def _state(ctx: typer.Context) -> CliState:
    return ctx.find_root().ensure_object(CliState)


def settings_from(ctx: typer.Context) -> Settings:
    """The settings alone, for a check that must come before the database is reached."""
    return _state(ctx).settings


def runtime_from(ctx: typer.Context, *, check_schema: bool = True) -> Runtime:
    """The command's runtime, refusing a schema older than the code (only `init` opts out)."""
    runtime = _state(ctx).runtime
    if check_schema:
        require_current(runtime.engine)
    return runtime
