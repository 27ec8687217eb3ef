"""An editor's own account page: setting up two-factor sign-in, recovery codes, turning it off."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from newsletter.editors.accounts import AccountError
from newsletter.editors.models import Editor
from newsletter.editors.two_factor import (
    begin_enrolment,
    confirm_enrolment,
    pending_secret,
    provisioning_uri,
    qr_svg,
    recovery_codes_left,
    replace_recovery_codes,
    turn_off,
    verify_second_factor,
)
from newsletter.web.admin.auth import Csrf, EnrollingDep
from newsletter.web.admin.pages import render, sentence
from newsletter.web.state import runtime_of

router = APIRouter()

Code = Annotated[str, Form(max_length=100)]


def _page(
    request: Request,
    editor: Editor,
    *,
    error: str | None = None,
    codes: list[str] | None = None,
    status: int = 200,
) -> Response:
    runtime = runtime_of(request)
    with runtime.sessions() as session:
        fresh = session.get(Editor, editor.id)
        assert fresh is not None  # the guard just loaded it
        left = recovery_codes_left(session, fresh.id)
        pending = pending_secret(fresh, runtime.sealer)
        enrolled = fresh.two_factor
    setup = None
    if pending is not None and not enrolled:
        # Shown only while being set up: once confirmed, the secret never leaves the server.
        uri = provisioning_uri(pending, editor.email, runtime.settings.site.name)
        setup = {"uri": uri, "qr": qr_svg(uri, "QR code for your authenticator app")}
    return render(
        request,
        "web/admin/account.html",
        {
            "editor": editor,
            "enrolled": enrolled,
            "required": runtime.settings.admin.require_two_factor,
            "left": left,
            "setup": setup,
            "codes": codes,
            "error": error,
        },
        status,
    )


@router.get("/account", response_class=HTMLResponse)
def account(request: Request, editor: EnrollingDep) -> Response:
    return _page(request, editor)


def _act(
    request: Request, editor: Editor, act: Callable[[Session, Editor], list[str] | None]
) -> Response:
    """One change in one transaction: the page with new recovery codes, or with the refusal."""
    try:
        with runtime_of(request).sessions.begin() as session:
            mine = session.get(Editor, editor.id)
            assert mine is not None
            codes = act(session, mine)
    except AccountError as exc:
        return _page(request, editor, error=sentence(exc), status=400)
    if codes is None:
        return RedirectResponse("/admin/account", status_code=303)
    return _page(request, editor, codes=codes)


def _code_checked(request: Request, session: Session, editor: Editor, code: str) -> None:
    # Changing the second factor takes the second factor: a stolen session alone cannot.
    runtime = runtime_of(request)
    if not verify_second_factor(session, editor, code, runtime.clock.now(), runtime.sealer):
        raise AccountError("that code does not match, or was used already")


@router.post("/account/two-factor/start", dependencies=[Csrf])
def start(request: Request, editor: EnrollingDep) -> Response:
    sealer = runtime_of(request).sealer

    def act(session: Session, mine: Editor) -> None:
        begin_enrolment(mine, sealer)

    return _act(request, editor, act)


@router.post("/account/two-factor/confirm", dependencies=[Csrf])
def confirm(request: Request, editor: EnrollingDep, code: Code) -> Response:
    runtime = runtime_of(request)
    now = runtime.clock.now()
    return _act(
        request,
        editor,
        lambda session, mine: confirm_enrolment(session, mine, code, now, runtime.sealer),
    )


@router.post("/account/two-factor/recovery-codes", dependencies=[Csrf])
def new_codes(request: Request, editor: EnrollingDep, code: Code) -> Response:
    def act(session: Session, mine: Editor) -> list[str]:
        _code_checked(request, session, mine, code)
        return replace_recovery_codes(session, mine)

    return _act(request, editor, act)


@router.post("/account/two-factor/off", dependencies=[Csrf])
def off(request: Request, editor: EnrollingDep, code: Code) -> Response:
    def act(session: Session, mine: Editor) -> None:
        if runtime_of(request).settings.admin.require_two_factor:
            raise AccountError("this site requires two-factor sign-in for every editor")
        _code_checked(request, session, mine, code)
        turn_off(session, mine)

    return _act(request, editor, act)
