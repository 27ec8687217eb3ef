"""SendGrid's signed event webhook: ECDSA P-256 over timestamp + body, in two headers.

A batch of events (a JSON array) per call. "smtp-id" is the Message-ID header we sent;
"sg_event_id" is unique per event, so a retried batch changes nothing.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from newsletter.config.checks import p256_public_key
from newsletter.config.schema import SendgridWebhook
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

SIGNATURE = "x-twilio-email-event-webhook-signature"
TIMESTAMP = "x-twilio-email-event-webhook-timestamp"
_MAX_EVENTS = 10_000


def verify(public_key: str, headers: Mapping[str, str], body: bytes) -> datetime:
    """The signed time of a call whose signature checks out, else WebhookRefused."""
    signature, timestamp = headers.get(SIGNATURE, ""), headers.get(TIMESTAMP, "")
    signed_at = epoch_seconds(timestamp)
    if not signature or signed_at is None:
        raise WebhookRefused("the call is not signed (no SendGrid signature and timestamp)")
    try:
        p256_public_key(public_key).verify(
            base64.b64decode(signature, validate=True),
            timestamp.encode() + body,
            ec.ECDSA(hashes.SHA256()),
        )
    except (InvalidSignature, binascii.Error, ValueError):
        raise WebhookRefused("the SendGrid signature does not verify") from None
    return signed_at


def _kind(item: dict[str, Any]) -> Kind | None:
    name = item.get("event")
    if name == "bounce":
        # "blocked" is SendGrid's soft bounce (a refusal that may pass later); "bounce" is hard.
        return Kind.SOFT if item.get("type") == "blocked" else Kind.HARD
    # dropped: SendGrid's own suppression, not a new bounce; deferred: still being retried.
    return {
        "spamreport": Kind.COMPLAINT,
        "unsubscribe": Kind.UNSUBSCRIBE,
        "group_unsubscribe": Kind.UNSUBSCRIBE,
    }.get(str(name))


def _event(item: dict[str, Any]) -> RelayEvent:
    key = event_key(item.get("sg_event_id"), item)
    kind = _kind(item)
    if kind is None:
        return ignored(key, f"SendGrid {text(item.get('event'), 40)}")
    status = text(item.get("status"), 20)
    return RelayEvent(
        key,
        finding(kind, message_id(item.get("smtp-id")), item.get("email")),
        f"SendGrid: {text(item.get('type') or item.get('event'), 40)}"
        + (f" {status}" if status else ""),
    )


def events(
    config: SendgridWebhook, headers: Mapping[str, str], body: bytes, now: datetime, max_age: int
) -> list[RelayEvent]:
    check_age(verify(config.public_key, headers, body), now, max_age)
    payload = load_json(body)
    if (
        not isinstance(payload, list)
        or len(payload) > _MAX_EVENTS
        or not all(isinstance(item, dict) for item in payload)
    ):
        raise WebhookInvalid("the body is not a SendGrid event batch (a JSON array of events)")
    return [_event(item) for item in payload]
