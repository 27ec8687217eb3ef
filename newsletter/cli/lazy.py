"""Command groups whose commands are imported when they run, not when `newsletter` starts."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any

import typer

# Typer carries its own copy of Click (since 0.29); a group's interface is Click's.
from typer import _click as click
from typer.core import TyperGroup


def lazy_group(targets: Mapping[str, str]) -> type[TyperGroup]:
    """A group class for `typer.Typer(cls=...)` whose extra commands are "module:attribute".

    The attribute is a `typer.Typer` (a group of its own) or a command function. Every module
    stays unloaded until its command runs: `digest send` of a million messages must not carry
    feed parsing, the web app and the digest renderer in memory.
    """

    class LazyGroup(TyperGroup):
        def list_commands(self, ctx: click.Context) -> list[str]:
            # The targets' order, whichever of them are loaded yet; then any added eagerly.
            return [*targets, *(name for name in self.commands if name not in targets)]

        def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
            if cmd_name not in self.commands and cmd_name in targets:
                self.commands[cmd_name] = _load(cmd_name, targets[cmd_name])
            return self.commands.get(cmd_name)

    return LazyGroup


def _load(name: str, target: str) -> click.Command:
    module_name, _, attribute = target.partition(":")
    found: typer.Typer | Callable[..., Any] = getattr(
        importlib.import_module(module_name), attribute
    )
    if isinstance(found, typer.Typer):
        # Always a group, even of one command: `bounces process` keeps its second word.
        command: click.Command = typer.main.get_group(found)
    else:
        single = typer.Typer()
        single.command(name)(found)
        command = typer.main.get_command(single)
    command.name = name
    return command
