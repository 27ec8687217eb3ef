"""Mailgun's webhooks: HMAC-SHA256 of timestamp + token with the webhook signing key.

One event per call, under "event-data"; its "id" is unique, so a retry changes nothing.
message.headers.message-id is the Message-ID we sent, without its angle brackets.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from newsletter.config.schema import MailgunWebhook
from newsletter.deliver.bounces import Kind
from newsletter.deliver.relay_events.event import (
    RelayEvent,
    check_age,
    epoch_seconds,
    event_key,
    finding,
    ignored,
    load_json,
    message_id,
    text,
)
from newsletter.errors import WebhookInvalid, WebhookRefused


def verify(signing_key: str, signature: Any) -> datetime:
    """The signed time of a call whose HMAC checks out, else WebhookRefused."""
    if not isinstance(signature, dict):
        raise WebhookRefused("the call is not signed (no Mailgun signature)")
    timestamp, token, digest = (
        text(signature.get(name), 200) for name in ("timestamp", "token", "signature")
    )
    signed_at = epoch_seconds(timestamp)
    if signed_at is None or not token or not digest:
        raise WebhookRefused("the call is not signed (no Mailgun signature)")
    expected = hmac.new(
        signing_key.encode(), (timestamp + token).encode(), hashlib.sha256
    ).hexdigest()
    if not hmac.compare_digest(expected.encode(), digest.lower().encode()):
        raise WebhookRefused("the Mailgun signature does not verify")
    return signed_at


def _kind(data: dict[str, Any]) -> Kind | None:
    name = data.get("event")
    if name == "failed":
        return Kind.HARD if data.get("severity") == "permanent" else Kind.SOFT
    return {"complained": Kind.COMPLAINT, "unsubscribed": Kind.UNSUBSCRIBE}.get(str(name))


def _our_id(data: dict[str, Any]) -> str | None:
    message = data.get("message")
    headers = message.get("headers") if isinstance(message, dict) else None
    return message_id(headers.get("message-id")) if isinstance(headers, dict) else None


def events(
    config: MailgunWebhook, headers: Mapping[str, str], body: bytes, now: datetime, max_age: int
) -> list[RelayEvent]:
    payload = load_json(body)
    if not isinstance(payload, dict):
        raise WebhookInvalid("the body is not a Mailgun webhook (no signature, no event-data)")
    signed_at = verify(config.signing_key.get_secret_value(), payload.get("signature"))
    check_age(signed_at, now, max_age)
    data = payload.get("event-data")
    if not isinstance(data, dict) or not isinstance(data.get("event"), str):
        raise WebhookInvalid("the body is not a Mailgun webhook (no event-data)")
    key = event_key(data.get("id"), data)
    kind = _kind(data)
    if kind is None:
        return [ignored(key, f"Mailgun {text(data.get('event'), 40)}")]
    reason = text(data.get("reason") or data.get("severity"), 40)
    return [
        RelayEvent(
            key,
            finding(kind, _our_id(data), data.get("recipient")),
            f"Mailgun: {text(data.get('event'), 40)}" + (f" ({reason})" if reason else ""),
        )
    ]
