"""`newsletter sources` (each source's health) and `newsletter sources new-key`."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

import typer

from newsletter.cli.output import say
from newsletter.cli.state import runtime_from
from newsletter.collect.health import source_health

app = typer.Typer(help="List sources and their health; make push API keys.")


@app.callback(invoke_without_command=True)
def sources(ctx: typer.Context) -> None:
    """Each source: kind, state, posts, last success, last error and warning, counts, skips."""
    if ctx.invoked_subcommand is not None:
        return
    runtime = runtime_from(ctx)
    with runtime.sessions() as session:
        found = source_health(session)
    if not found:
        say(
            "no sources in the database; add some in the admin (/admin/sources), "
            "or to newsletter.toml and run `newsletter init`"
        )
    for source in found:
        state = "enabled" if source.enabled else "disabled"
        say(f"{source.name} ({source.kind}, {state}): {source.posts} posts")
        say(f"  last success: {_when(source.last_success_at)}")
        if source.last_error:
            say(f"  last error:   {_when(source.last_error_at)}: {source.last_error}")
        if source.last_warning:
            say(f"  warning:      {_when(source.last_warning_at)}: {source.last_warning}")
        say(f"  last run:     {source.last_summary or 'never run'}")
        if source.edited_by:
            say(f"  settings:     the admin's, by {source.edited_by} (init leaves them)")
        for skip in source.skips:
            where = "" if skip.reason.startswith(skip.ref) else f"{skip.ref}: "
            say(f"  skipped:      {where}{skip.reason}")


@app.command("new-key")
def new_key() -> None:
    """Make an API key for a push source: give the key to the CMS, put the hash in the settings."""
    key = secrets.token_urlsafe(32)
    say(f"API key (give it to the CMS; it is not stored): {key}")
    digest = hashlib.sha256(key.encode()).hexdigest()
    say(f'settings line for the push source: api_key_sha256 = "{digest}"')
    say("(or make the key on the source's page in the admin: /admin/sources)")


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value is not None else "-"
