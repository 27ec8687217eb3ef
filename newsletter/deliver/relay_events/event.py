"""What every provider's module gives back, and the checks they share: JSON, age, tokens, ids."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import getaddresses
from typing import Any

from newsletter.deliver.bounces import Finding, Kind
from newsletter.deliver.verp import parse_verp
from newsletter.errors import WebhookInvalid, WebhookRefused

# Longest event id kept as it is; longer ones (and events without one) are kept as a hash.
_MAX_ID = 100
_MAX_MESSAGE_ID = 500


@dataclass(frozen=True)
class RelayEvent:
    # The provider's own id for the event, or a hash of it: a retry carries the same.
    event_id: str
    finding: Finding
    # For the subscriber's history: which provider said what (never a secret, never an address).
    detail: str


def load_json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise WebhookInvalid("the body is not valid JSON") from None


def event_key(provider_id: object, event: object) -> str:
    """The provider's id when it gives a usable one, else a hash of the whole event."""
    if isinstance(provider_id, str | int) and 0 < len(str(provider_id)) <= _MAX_ID:
        return str(provider_id)
    canonical = json.dumps(event, sort_keys=True, separators=(",", ":"), default=str)
    return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()


def text(value: object, limit: int = 200) -> str:
    """A payload's field as a short, printable string ('' when it is not a string)."""
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        return ""
    return " ".join(str(value).split())[:limit]


def message_id(value: object) -> str | None:
    """A Message-ID as our checks read it: in angle brackets (Mailgun drops them)."""
    found = text(value, _MAX_MESSAGE_ID)
    if not found:
        return None
    return found if found.startswith("<") else f"<{found}>"


def verp_of(value: object) -> tuple[str, int, str] | None:
    """The VERP tag of an envelope sender a provider reports (SES's mail.source)."""
    for _, address in getaddresses([text(value, 400)]):
        found = parse_verp(address)
        if found is not None:
            return found
    return None


def finding(
    kind: Kind,
    our_id: str | None,
    addresses: object = (),
    verp: tuple[str, int, str] | None = None,
) -> Finding:
    """A relay's finding: attributed by our Message-ID (or VERP), the addresses only reported."""
    named = addresses if isinstance(addresses, list | tuple) else [addresses]
    return Finding(
        kind,
        verp,
        frozenset(text(a, 320).lower() for a in named if text(a, 320)),
        our_id,
        relayed=True,
    )


def ignored(event_id: str, what: str) -> RelayEvent:
    """An event that is no bounce, complaint or unsubscribe (a delivery, an open)."""
    return RelayEvent(event_id, Finding(Kind.NOT_A_BOUNCE), what)


def epoch_seconds(value: str) -> datetime | None:
    """A signed Unix time as providers send it (ASCII digits only), else None."""
    if not (value.isascii() and value.isdigit()) or len(value) > 12:
        return None
    return datetime.fromtimestamp(int(value), UTC)


def check_age(signed_at: datetime, now: datetime, max_age: int) -> None:
    """Refuse a signature made too long ago (or claiming the future): a replayed call."""
    if abs(now - signed_at) > timedelta(seconds=max_age):
        raise WebhookRefused("the call's signed time is too far from now; a replay is refused")


def token_matches(headers: Mapping[str, str], token: str) -> bool:
    """The shared token as basic auth's password, a bearer token or an X-Webhook-Token header."""
    offered: list[str] = []
    scheme, _, value = headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer":
        offered.append(value.strip())
    elif scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            decoded = ""
        offered.append(decoded.partition(":")[2])
    offered.append(headers.get("x-webhook-token", ""))
    expected = token.encode()
    # Every candidate compared, in constant time each.
    return any([hmac.compare_digest(candidate.encode(), expected) for candidate in offered])


def require_token(headers: Mapping[str, str], token: str) -> None:
    if not token_matches(headers, token):
        raise WebhookRefused("the webhook's token is missing or wrong")
