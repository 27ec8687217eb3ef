"""`newsletter editors ...`: accounts for the people who review and approve issues."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.table import Table

from newsletter.cli.output import out
from newsletter.cli.state import runtime_from
from newsletter.editors.accounts import (
    add_editor,
    all_editors,
    change_role,
    disable_editor,
    find_editor,
    generate_password,
)
from newsletter.editors.models import Role
from newsletter.editors.notify import local
from newsletter.editors.two_factor import turn_off
from newsletter.errors import NewsletterError
from newsletter.pipeline import accounts

Address = Annotated[str, typer.Argument(help="The editor's email address.")]
RoleOption = Annotated[
    Role, typer.Option(help="editor: preview, edit, test; publisher: also approve and send.")
]

app = typer.Typer(help="Editor accounts for the review screens under /admin.", no_args_is_help=True)


@app.command("add")
def add(
    ctx: typer.Context,
    address: Address,
    role: RoleOption = Role.EDITOR,
    prompt: Annotated[
        bool, typer.Option("--prompt", help="Type the password instead of generating one.")
    ] = False,
    password_stdin: Annotated[
        bool,
        typer.Option("--password-stdin", help="Read the password from standard input (scripts)."),
    ] = False,
) -> None:
    """Add an editor (or reset one's password and role, ending their sessions).

    A generated password is printed once.
    """
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    elif prompt:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    else:
        password = generate_password()
    runtime = runtime_from(ctx)
    with runtime.sessions.begin() as session:
        editor = add_editor(session, address, password, role, runtime.clock.now())
        email, saved_role = editor.email, editor.role
    out.print(
        f"editor {email} ({saved_role}) can sign in at {runtime.settings.site.base_url}/admin"
    )
    if not (prompt or password_stdin):
        out.print(f"password (shown once): {password}", markup=False, highlight=False)


@app.command("invite")
def invite(
    ctx: typer.Context,
    address: Address,
    role: RoleOption = Role.EDITOR,
) -> None:
    """Mail a new (or disabled) editor a link to choose their password; it works once, 72 hours."""
    runtime = runtime_from(ctx)
    invited = accounts.invite(runtime, address, role, accounts.OPERATOR)
    invitation = invited.invitation
    if invited.failed is not None:
        raise NewsletterError(
            f"{invitation.email} is invited, but the mail failed: {invited.failed}"
        )
    expires = local(invitation.expires_at, runtime.settings)
    out.print(f"invitation mailed to {invitation.email}; the link works until {expires}")


@app.command("role")
def role(
    ctx: typer.Context,
    address: Address,
    new_role: Annotated[Role, typer.Argument(metavar="ROLE", help="editor or publisher.")],
) -> None:
    """Make an editor a publisher, or a publisher an editor."""
    runtime = runtime_from(ctx)
    with runtime.sessions.begin() as session:
        editor = change_role(session, address, new_role)
        email, saved = editor.email, editor.role
    out.print(f"editor {email} is now {saved}", markup=False)


@app.command("reset-two-factor")
def reset_two_factor(ctx: typer.Context, address: Address) -> None:
    """Turn off an editor's two-factor sign-in (a lost phone and lost recovery codes).

    They sign in with the password alone, and set it up again from their account page (at
    once, when [admin] require_two_factor is on).
    """
    runtime = runtime_from(ctx)
    with runtime.sessions.begin() as session:
        editor = find_editor(session, address)
        turn_off(session, editor)
        email = editor.email
    out.print(f"two-factor sign-in is off for {email}", markup=False)


@app.command("disable")
def disable(
    ctx: typer.Context,
    address: Address,
) -> None:
    """Stop an editor signing in and end every session they have; `add` enables them again."""
    runtime = runtime_from(ctx)
    with runtime.sessions.begin() as session:
        email = disable_editor(session, address).email
    out.print(f"editor {email} is disabled and signed out everywhere", markup=False)


@app.command("list")
def list_editors(ctx: typer.Context) -> None:
    """List editors with their role, whether they are disabled, and last sign-in."""
    runtime = runtime_from(ctx)
    with runtime.sessions() as session:
        editors = all_editors(session)
    table = Table("email", "role", "status", "last sign-in")
    for editor in editors:
        last = (
            editor.last_login_at.astimezone(runtime.settings.zone).strftime("%Y-%m-%d %H:%M")
            if editor.last_login_at
            else "never"
        )
        table.add_row(editor.email, editor.role.value, editor.status, last)
    out.print(table)
