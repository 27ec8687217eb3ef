"""`newsletter feeds build` and `newsletter feeds export DIR`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from newsletter.cli.output import out
from newsletter.cli.state import runtime_from
from newsletter.publish.export import export
from newsletter.publish.rebuild import rebuild_all

app = typer.Typer(help="Build and export the RSS, Atom and JSON feeds.", no_args_is_help=True)

# A command waits this long for the hub before exiting; the pings keep no one else waiting.
HUB_WAIT = 60.0


@app.command()
def build(ctx: typer.Context) -> None:
    """Build every feed from the stored posts; unchanged feeds keep their bytes and ETag."""
    runtime = runtime_from(ctx)
    changed = rebuild_all(runtime, HUB_WAIT)
    out.print(f"feeds: {len(changed)} changed" + (f" ({', '.join(changed)})" if changed else ""))


@app.command("export")
def export_command(
    ctx: typer.Context,
    folder: Annotated[Path, typer.Argument(metavar="DIR", help="Folder to write the feeds into.")],
) -> None:
    """Write every feed (site, topics, archive) into DIR for static hosting, atomically."""
    runtime = runtime_from(ctx)
    rebuild_all(runtime, HUB_WAIT)
    written = export(runtime, folder)
    out.print(f"feeds: wrote {len(written)} files under {folder}")
