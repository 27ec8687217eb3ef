"""The command line's only consoles: `out` for results, `err` for diagnostics, `wide` for tables."""

from __future__ import annotations

from rich.console import Console

out = Console()
err = Console(stderr=True)
# A table's cells (a job's last outcome) stay whole in a log or a pipe, where rich assumes 80.
wide = out if out.is_terminal else Console(width=200)


def say(line: str, *, to: Console = out) -> None:
    """One line exactly as given: no markup, no highlighting, never wrapped."""
    to.print(line, markup=False, highlight=False, soft_wrap=True)
