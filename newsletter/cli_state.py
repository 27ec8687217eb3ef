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


def runtime_from(ctx: typer.Context, *, migrated: bool = False) -> Runtime:
    """The command's runtime; with `migrated`, refuse a schema older than the code."""
    state = ctx.find_root().ensure_object(CliState)
    runtime = state.runtime
    if migrated:
        require_current(runtime.engine)
    return runtime
