"""Two-factor sign-in: TOTP codes (RFC 6238), each good once, and one-time recovery codes."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import datetime

import pyotp
import segno
from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from newsletter.editors.accounts import AccountError
from newsletter.editors.models import Editor, RecoveryCode
from newsletter.sealed import Sealer

RECOVERY_CODES = 10
# Codes from the step before and after now are accepted too: a phone's clock a little off,
# or a code typed as it changed. RFC 6238 section 5.2 allows this much.
DRIFT_STEPS = 1
# Recovery codes: 16 characters of base32 (80 bits), shown as four groups of four.
_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
_TOTP_CODE = re.compile(r"\d{6}")
# Longest code read from a form: anything longer is no code of ours.
MAX_CODE_LENGTH = 40
# A secret stored before secrets were sealed (the stop that brought two-factor sign-in):
# read as it is, and sealed at its next use.
_UNSEALED = re.compile(r"[A-Z2-7]{16,64}")


def _hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def _canonical_recovery(code: str) -> str:
    return re.sub(r"[\s-]", "", code).upper()


def new_recovery_code() -> str:
    raw = "".join(secrets.choice(_ALPHABET) for _ in range(16))
    return "-".join(raw[i : i + 4] for i in range(0, 16, 4))


def _opened(sealer: Sealer, stored: str) -> str:
    return stored if _UNSEALED.fullmatch(stored) else sealer.open(stored)


def begin_enrolment(editor: Editor, sealer: Sealer) -> str:
    """A new secret for the editor to add to their app; it counts once a code confirms it.

    The database keeps it sealed: a copy of the database alone signs nobody in.
    """
    if editor.two_factor:
        raise AccountError("two-factor sign-in is already set up")
    secret = pyotp.random_base32()
    editor.totp_pending = sealer.seal(secret)
    return secret


def pending_secret(editor: Editor, sealer: Sealer) -> str | None:
    """The secret being set up, for the QR code; None when none is."""
    return None if editor.totp_pending is None else _opened(sealer, editor.totp_pending)


def provisioning_uri(secret: str, email: str, issuer: str) -> str:
    """The otpauth:// URI the authenticator app reads from the QR code."""
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=issuer)


def qr_svg(uri: str, title: str) -> str:
    """The URI as a QR code in inline SVG, made here: no image service sees the secret."""
    code = segno.make(uri, error="m")
    return str(code.svg_inline(scale=5, border=4, title=title, dark="#102a43", light="#fff"))


def _matching_step(secret: str, code: str, now: datetime) -> int | None:
    """The time step within the drift window whose code this is, else None."""
    if not _TOTP_CODE.fullmatch(code):
        return None
    totp = pyotp.TOTP(secret)
    current = totp.timecode(now)
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _claim_step(session: Session, editor_id: int, step: int) -> bool:
    """Record the step as used; False when it (or a later one) was used already.

    One conditional UPDATE: two requests racing with the same code cannot both pass.
    """
    claimed = session.execute(
        update(Editor)
        .where(
            Editor.id == editor_id,
            or_(Editor.totp_last_step.is_(None), Editor.totp_last_step < step),
        )
        .values(totp_last_step=step)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(claimed, "rowcount", 0) == 1)


def confirm_enrolment(
    session: Session, editor: Editor, code: str, now: datetime, sealer: Sealer
) -> list[str]:
    """Turn two-factor sign-in on with a code from the app; the new recovery codes, shown once."""
    pending = pending_secret(editor, sealer)
    if pending is None:
        raise AccountError("start setting up two-factor sign-in first")
    step = _matching_step(pending, code.strip()[:MAX_CODE_LENGTH], now)
    if step is None:
        raise AccountError("that code does not match; check the app and the phone's clock")
    editor.totp_secret = sealer.seal(pending)
    editor.totp_pending = None
    editor.totp_last_step = step
    return replace_recovery_codes(session, editor)


def replace_recovery_codes(session: Session, editor: Editor) -> list[str]:
    """Ten new recovery codes; the old ones stop working."""
    session.execute(delete(RecoveryCode).where(RecoveryCode.editor_id == editor.id))
    codes = [new_recovery_code() for _ in range(RECOVERY_CODES)]
    session.add_all(
        RecoveryCode(editor_id=editor.id, code_hash=_hash(_canonical_recovery(code)))
        for code in codes
    )
    return codes


def turn_off(session: Session, editor: Editor) -> None:
    """No second step any more (a lost phone, with the account's owner known another way)."""
    editor.totp_secret = None
    editor.totp_pending = None
    editor.totp_last_step = None
    session.execute(delete(RecoveryCode).where(RecoveryCode.editor_id == editor.id))


def verify_second_factor(
    session: Session, editor: Editor, code: str, now: datetime, sealer: Sealer
) -> bool:
    """A current app code not used before, or an unused recovery code (then spent)."""
    stored = editor.totp_secret
    if stored is None:
        return False
    secret = _opened(sealer, stored)
    code = code.strip()[:MAX_CODE_LENGTH]
    step = _matching_step(secret, code, now)
    if step is not None:
        if _UNSEALED.fullmatch(stored) or not sealer.is_current(stored):
            # Kept sealed under the current key, so a rotated-out key can be retired.
            editor.totp_secret = sealer.seal(secret)
        return _claim_step(session, editor.id, step)
    spent = session.execute(
        update(RecoveryCode)
        .where(
            RecoveryCode.editor_id == editor.id,
            RecoveryCode.code_hash == _hash(_canonical_recovery(code)),
            RecoveryCode.used_at.is_(None),
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(spent, "rowcount", 0) == 1)


def recovery_codes_left(session: Session, editor_id: int) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(RecoveryCode)
            .where(RecoveryCode.editor_id == editor_id, RecoveryCode.used_at.is_(None))
        )
        or 0
    )
