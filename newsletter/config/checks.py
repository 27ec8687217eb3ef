"""Checks behind the settings' validators, and masking secrets in what they say; pure functions."""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
from collections.abc import Callable, Iterable
from datetime import time
from typing import TYPE_CHECKING, TypeVar
from urllib.parse import SplitResult, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from email_validator import EmailNotValidError, validate_email
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ec import EllipticCurvePublicKey

T = TypeVar("T")

_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_WEEKLY_SLOT = re.compile(r"^(mon|tue|wed|thu|fri|sat|sun) ([01]\d|2[0-3]):([0-5]\d)$")
_CLOCK = r"([01]\d|2[0-3]):([0-5]\d)"
_QUIET_HOURS_HELP = 'quiet_hours must look like 21:00-07:00 (two different 24-hour times), or ""'
_SMTP_URL = re.compile(r"^smtps?://[^/?#]+")
_SMTP_URL_HELP = (
    "use smtp://USER:PASS@HOST:PORT (add ?starttls=true) or smtps://..., "
    "or leave it unset for the outbox folder"
)
_BROKER_URL = re.compile(r"^(rediss?|amqps?|pyamqp|memory)://")
_DATABASE_HELP = "use sqlite:///PATH or postgresql+psycopg://USER:PASS@HOST:PORT/DB"
# Everything between "scheme://" and the last "@" before the path is credentials (a password
# with an unescaped "@" in it included).
_USERINFO = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)(?P<userinfo>[^/?#]*)@")
_URL_PASSWORD = re.compile(r"(?P<head>\b[A-Za-z][A-Za-z0-9+.-]*://[^\s:/@]*:)[^\s/?#]*@")

# The secret signs sessions, CSRF tokens and every mailed link: anyone who knows it forges them.
MIN_SECRET_BYTES = 32
# A command, not a key.
MAKE_SECRET = "python3 -c 'import secrets; print(secrets.token_urlsafe(48))'"  # noqa: S105
# Values copied from examples and tutorials; matched on the lowercased key without separators.
_PLACEHOLDER_WORDS = (
    "changeme",
    "changethis",
    "replaceme",
    "yoursecret",
    "secretkey",
    "placeholder",
    "insecure",
    "notsecret",
    "example",
    "default",
    "alongrandomstring",
)


def mask_url(url: str) -> str:
    """The URL with its password replaced by ***, for messages and logs."""
    match = _USERINFO.match(url)
    if match is None:
        return url
    user, colon, _ = match["userinfo"].partition(":")
    masked = f"{user}:***" if colon else user
    return f"{match['scheme']}{masked}@{url[match.end() :]}"


def mask_credentials(text: str) -> str:
    """Every user:password@ in a line of text (an error from a driver, say) as user:***@."""
    return _URL_PASSWORD.sub(r"\g<head>***@", text)


def secret_key_problem(key: str) -> str | None:
    """Why this secret is unsafe to sign with, or None; never quotes the key itself."""
    if not key.strip():
        return "is empty"
    if len(key.encode()) < MIN_SECRET_BYTES:
        return f"is shorter than {MIN_SECRET_BYTES} bytes"
    squashed = re.sub(r"[^a-z0-9]", "", key.lower())
    if any(word in squashed for word in _PLACEHOLDER_WORDS) or len(set(key)) < 10:
        return "is a placeholder or too repetitive to be secret"
    return None


def trusted_proxies(value: str) -> str:
    """A list of proxy addresses or networks, or "*", checked: uvicorn ignores a typo silently."""
    items = [item.strip() for item in value.split(",")]
    if items == ["*"]:
        return "*"
    for item in items:
        try:
            ipaddress.ip_network(item)
        except ValueError:
            raise ValueError(
                f"{item!r} is not an IP address or network; use e.g. '10.0.0.5, 172.16.0.0/12'"
                " or '*'"
            ) from None
    return ", ".join(items)


def url_origin(url: str) -> str | None:
    """An http(s) URL's origin, "https://news.example.org[:port]" lower-cased; None otherwise.

    urlsplit raises on a malformed host or port: such a URL has no origin either.
    """
    try:
        parts = urlsplit(url)
        if parts.scheme in ("http", "https") and parts.hostname:
            port = f":{parts.port}" if parts.port is not None else ""
            return f"{parts.scheme}://{parts.hostname}{port}"
    except ValueError:
        pass
    return None


def web_origin(value: str) -> str:
    """ "https://news.example.org" (scheme, host, a port if any; nothing else), lower-cased."""
    origin = url_origin(value.strip())
    # With an origin, urlsplit has read the value once already: it cannot raise the second time.
    if origin is None or not _nothing_but_origin(urlsplit(value.strip())):
        raise ValueError(f"{value!r} is not an origin; give one like https://news.example.org")
    return origin


def _nothing_but_origin(parts: SplitResult) -> bool:
    extra = parts.query or parts.fragment or parts.username or parts.password
    return parts.path in ("", "/") and not extra


def readable_colour(value: str) -> str:
    """A #rrggbb colour that white text on it, and it on white, read at 4.5:1 (WCAG AA)."""
    if not re.fullmatch(r"#[0-9a-fA-F]{6}", value):
        raise ValueError(f"{value!r} is not a colour; give one like #0b5cab")
    channels = [int(value[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    luminance = 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    ratio = 1.05 / (luminance + 0.05)
    if ratio < 4.5:
        raise ValueError(
            f"{value} on white has a contrast of {ratio:.1f}:1; links and buttons need 4.5:1"
            " (WCAG AA): choose a darker colour"
        )
    return value.lower()


def font_stack(value: str) -> str:
    """A CSS font-family list: names, quotes, commas and spaces only (it goes into a style)."""
    if not re.fullmatch(r"[A-Za-z0-9 ,'\"-]{1,200}", value):
        raise ValueError(f"{value!r} is not a font list; give one like Georgia, serif")
    return value


def time_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"{value!r} is not a known time zone; use an IANA name like 'America/New_York'"
        ) from None
    return value


def mail_address(value: str) -> str:
    """One plain address (no display name), checked by email-validator, as a header may carry it."""
    try:
        checked = validate_email(value.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise ValueError(f"{value!r} is not an email address: {exc}") from None
    return checked.normalized


def slug(value: str) -> str:
    if not _SLUG.match(value):
        raise ValueError(f"{value!r} is not a slug; use lowercase letters, digits and hyphens")
    return value


def sha256_hex(value: str | None) -> str | None:
    if value is not None and not re.fullmatch(r"[0-9a-f]{64}", value.lower()):
        raise ValueError("not a SHA-256 hex digest; `newsletter sources new-key` prints one")
    return value.lower() if value else value


def weekly_slot(value: str) -> str:
    normalised = " ".join(value.lower().split())
    if not _WEEKLY_SLOT.match(normalised):
        raise ValueError(
            f"{value!r} is not a weekly slot; use a weekday and 24-hour time like 'fri 10:00'"
        )
    return normalised


def clock_time(value: str) -> time:
    """ "07:00" (24-hour, two digits each) as a time of day; ValueError otherwise."""
    match = re.fullmatch(_CLOCK, value.strip())
    if match is None:
        raise ValueError("must look like 07:00 (a 24-hour time)")
    return time(int(match[1]), int(match[2]))


def quiet_window(value: str) -> tuple[time, time] | None:
    """ "21:00-07:00" as (start, end), None for ""; the one parser of quiet hours.

    The window may cross midnight (start after end); equal times would be either no window or
    the whole day, so they are refused rather than guessed.
    """
    if not value.strip():
        return None
    match = re.fullmatch(rf"\s*{_CLOCK}\s*-\s*{_CLOCK}\s*", value)
    if match is None:
        raise ValueError(_QUIET_HOURS_HELP)
    hour, minute, end_hour, end_minute = (int(part) for part in match.groups())
    if (hour, minute) == (end_hour, end_minute):
        raise ValueError(_QUIET_HOURS_HELP)
    return time(hour, minute), time(end_hour, end_minute)


def smtp_url(value: str) -> str:
    """An smtp:// or smtps:// URL whose port is a number: checked at start, not at first send."""
    if not _SMTP_URL.match(value):
        raise ValueError(f"{mask_url(value)!r} is not an SMTP URL; {_SMTP_URL_HELP}")
    try:
        urlsplit(value).port  # noqa: B018 - parsing the port is the check
    except ValueError:
        raise ValueError(f"{mask_url(value)!r} has a port that is not a number") from None
    return value


def broker_url(value: str) -> str:
    if not _BROKER_URL.match(value):
        raise ValueError(f"{mask_url(value)!r} is not a broker URL; use redis://HOST:6379/0")
    return value


def database_url(value: str) -> str:
    """SQLite or PostgreSQL (psycopg 3); the postgres:// URLs hosting platforms hand out too."""
    for prefix in ("postgres://", "postgresql://"):
        if value.startswith(prefix):
            value = "postgresql+psycopg://" + value[len(prefix) :]
    try:
        url = make_url(value)
        url.get_dialect()
    except (ArgumentError, NoSuchModuleError, ValueError):
        raise ValueError(
            f"{mask_url(value)!r} is not a database URL we support; {_DATABASE_HELP}"
        ) from None
    if url.get_backend_name() not in ("sqlite", "postgresql"):
        raise ValueError(
            f"{url.get_backend_name()!r} databases are not supported; {_DATABASE_HELP}"
        )
    return value


def unique(items: Iterable[T], name: Callable[[T], str], what: str) -> None:
    """Refuse a list in which two entries share a name: `what` names it ("topic slug", ...)."""
    seen: set[str] = set()
    for item in items:
        if name(item) in seen:
            raise ValueError(f"{what} {name(item)!r} appears twice")
        seen.add(name(item))


def p256_public_key(value: str) -> EllipticCurvePublicKey:
    """A base64 DER (as SendGrid shows it) or PEM P-256 public key, else ValueError."""
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import (
        load_der_public_key,
        load_pem_public_key,
    )

    text = value.strip()
    try:
        if text.startswith("-----BEGIN"):
            key = load_pem_public_key(text.encode())
        else:
            key = load_der_public_key(base64.b64decode(text, validate=True))
    except (ValueError, binascii.Error):
        raise ValueError("is not a base64 DER or PEM public key") from None
    if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp256r1":
        raise ValueError("is not an ECDSA P-256 public key")
    return key


def ec_public_key(value: str) -> str:
    """The setting's value, once it reads as a P-256 public key."""
    p256_public_key(value)
    return value.strip()


def bounce_mailbox(value: str) -> str:
    """A maildir or mbox path, or an imaps:// (or STARTTLS imap://) URL with user and password."""
    if "://" not in value:
        return value
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 (a bad port raises here)
    except ValueError:
        raise ValueError("is not a valid IMAP URL") from None
    if parts.scheme.lower() not in ("imap", "imaps") or not parts.hostname:
        raise ValueError("use a maildir or mbox path, or imaps://USER:PASS@HOST/FOLDER")
    if parts.username is None or parts.password is None:
        raise ValueError("an IMAP bounce mailbox needs a user and a password in its URL")
    return value
