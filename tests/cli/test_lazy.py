"""Each command loads only what it needs: `digest send` to a million carries no web app."""

from __future__ import annotations

import subprocess
import sys

import typer.main
from typer import _click as click
from typer.core import TyperGroup

from newsletter.cli import COMMANDS, DIGEST_COMMANDS, app

# What a send never needs: the renderer, the web app, feed parsing, the scheduler, Redis
# (only for shared limits), dkimpy (only when signing) and Alembic (only for `init`).
HEAVY = ["premailer", "jinja2", "fastapi", "feedparser", "apscheduler", "redis", "dkim", "alembic"]

RESOLVE_SEND = """
import sys
import typer.main
from typer import _click as click
from newsletter.cli import app
root = typer.main.get_command(app)
ctx = click.Context(root)
digest = root.get_command(ctx, "digest")
send = digest.get_command(click.Context(digest, parent=ctx), "send")
assert send is not None and send.name == "send"
print(" ".join(sorted({name.split(".")[0] for name in sys.modules})))
"""


def test_digest_send_loads_none_of_the_heavy_modules() -> None:
    loaded = subprocess.run(
        [sys.executable, "-c", RESOLVE_SEND], capture_output=True, text=True, check=True
    ).stdout.split()
    assert "sqlalchemy" in loaded  # the probe sees what the command imported
    assert [name for name in HEAVY if name in loaded] == []


def test_every_command_resolves_with_its_help() -> None:
    root = typer.main.get_command(app)
    ctx = click.Context(root)
    assert isinstance(root, TyperGroup)
    for name in COMMANDS:
        command = root.get_command(ctx, name)
        assert command is not None
        assert command.name == name
        assert command.get_short_help_str(), name
    assert root.list_commands(ctx) == list(COMMANDS)  # loading them keeps --help's order
    digest = root.get_command(ctx, "digest")
    assert isinstance(digest, TyperGroup)
    assert digest.list_commands(click.Context(digest)) == list(DIGEST_COMMANDS)
    for name in DIGEST_COMMANDS:
        assert digest.get_command(click.Context(digest, parent=ctx), name) is not None
