"""Editor accounts for publishers (invite, role, disable) and the set-password page of an invite."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from newsletter.editors.accounts import AccountError, all_editors, change_role, disable_editor
from newsletter.editors.invites import InviteError, accept_invitation, invited_editor
from newsletter.editors.models import Editor, Role
from newsletter.editors.notify import local
from newsletter.pipeline import accounts
from newsletter.web.admin.auth import Csrf, PublisherDep
from newsletter.web.admin.pages import render
from newsletter.web.state import runtime_of

router = APIRouter()

_NOTICE = "editors_notice"


def _accounts_page(
    request: Request, publisher: Editor, error: str | None = None, status: int = 200
) -> Response:
    runtime = runtime_of(request)
    with runtime.sessions() as session:
        rows = [
            {
                "email": editor.email,
                "role": editor.role.value,
                "status": editor.status,
                "last": local(editor.last_login_at, runtime.settings)
                if editor.last_login_at
                else "never",
                "self": editor.id == publisher.id,
            }
            for editor in all_editors(session)
        ]
    notice = request.session.pop(_NOTICE, None)
    return render(
        request,
        "web/admin/editors.html",
        {
            "editor": publisher,
            "rows": rows,
            "roles": [role.value for role in Role],
            "notice": notice if isinstance(notice, str) else None,
            "error": error,
        },
        status,
    )


def _done(request: Request, notice: str) -> Response:
    request.session[_NOTICE] = notice
    return RedirectResponse("/admin/editors", status_code=303)


def _change(request: Request, publisher: Editor, act: Callable[[Session], str]) -> Response:
    """One change to an account in one transaction; its notice, or the page with the refusal."""
    try:
        with runtime_of(request).sessions.begin() as session:
            notice = act(session)
    except AccountError as exc:
        return _accounts_page(request, publisher, str(exc), 409)
    return _done(request, notice)


@router.get("/editors", response_class=HTMLResponse)
def editors_page(request: Request, publisher: PublisherDep) -> Response:
    return _accounts_page(request, publisher)


@router.post("/editors/invite", dependencies=[Csrf])
def invite(
    request: Request,
    publisher: PublisherDep,
    email: Annotated[str, Form(max_length=320)],
    role: Annotated[Role, Form()] = Role.EDITOR,
) -> Response:
    """The same invitation as `newsletter editors invite`."""
    try:
        invited = accounts.invite(runtime_of(request), email, role, publisher.email)
    except AccountError as exc:
        return _accounts_page(request, publisher, str(exc), 409)
    address = invited.invitation.email
    if invited.failed is not None:
        return _accounts_page(
            request,
            publisher,
            f"{address} is invited, but the mail could not be sent ({invited.failed}); "
            "invite them again once mail works.",
            502,
        )
    return _done(request, f"Invitation mailed to {address}.")


@router.post("/editors/role", dependencies=[Csrf])
def set_role(
    request: Request,
    publisher: PublisherDep,
    email: Annotated[str, Form(max_length=320)],
    role: Annotated[Role, Form()],
) -> Response:
    """The same change as `newsletter editors role`."""

    def act(session: Session) -> str:
        changed = change_role(session, email, role, by=publisher.id)
        return f"{changed.email} is now {changed.role.value}."

    return _change(request, publisher, act)


@router.post("/editors/disable", dependencies=[Csrf])
def disable(
    request: Request,
    publisher: PublisherDep,
    email: Annotated[str, Form(max_length=320)],
) -> Response:
    """The same as `newsletter editors disable`: sign-ins refused, sessions ended at once."""

    def act(session: Session) -> str:
        disabled = disable_editor(session, email, by=publisher.id).email
        return f"{disabled} is disabled and signed out everywhere."

    return _change(request, publisher, act)


def _password_page(
    request: Request, token: str, error: str | None, status: int, email: str | None = None
) -> Response:
    return render(
        request,
        "web/admin/set_password.html",
        {"token": token, "error": error, "email": email, "done": False},
        status,
    )


@router.get("/set-password", response_class=HTMLResponse)
def set_password_form(request: Request, token: str = "") -> Response:
    """Showing the form does not use the link up; choosing the password does."""
    runtime = runtime_of(request)
    try:
        with runtime.sessions() as session:
            email = invited_editor(
                session, token, runtime.clock.now(), runtime.verification_keys
            ).email
    except InviteError as exc:
        return _password_page(request, "", f"Sorry: {exc}.", 410)
    return _password_page(request, token, None, 200, email)


@router.post("/set-password", dependencies=[Csrf])
def set_password(
    request: Request,
    token: Annotated[str, Form(max_length=300)],
    password: Annotated[str, Form(max_length=1000)],
    confirm: Annotated[str, Form(max_length=1000)],
) -> Response:
    runtime = runtime_of(request)
    if password != confirm:
        return _password_page(request, token, "The two passwords differ.", 400)
    try:
        with runtime.sessions.begin() as session:
            accept_invitation(
                session, token, password, runtime.clock.now(), runtime.verification_keys
            )
    except InviteError as exc:
        return _password_page(request, "", f"Sorry: {exc}.", 410)
    except AccountError as exc:
        return _password_page(request, token, f"{str(exc).capitalize()}.", 400)
    return render(
        request,
        "web/admin/set_password.html",
        {"token": "", "error": None, "email": None, "done": True},
    )
