"""Postmark's bounce, spam complaint and subscription change webhooks (token-authenticated).

Postmark does not sign its calls: the token (basic auth or a custom header) authenticates them,
and a replay is a retry the event store already holds. Postmark's MessageID is its own; ours
comes back in Metadata (an X-PM-Metadata-message-id header on the sent mail) or in the bounce
Content, the returned message itself, when "include bounce content" is on.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from email import message_from_string
from typing import Any

from newsletter.config.schema import TokenWebhook
from newsletter.deliver.bounces import Kind, quoted_message_id
from newsletter.deliver.relay_events.event import (
    RelayEvent,
    event_key,
    finding,
    ignored,
    load_json,
    message_id,
    require_token,
    text,
)
from newsletter.errors import WebhookInvalid

# Postmark's bounce types (its Type field) that say something about the address.
_BOUNCE_KINDS = {
    "HardBounce": Kind.HARD,
    "BadEmailAddress": Kind.HARD,
    "SoftBounce": Kind.SOFT,
    "Transient": Kind.SOFT,
    "DnsError": Kind.SOFT,
    "SpamComplaint": Kind.COMPLAINT,
    "Unsubscribe": Kind.UNSUBSCRIBE,
}
# The returned message in Content is read for its quoted Message-ID only up to this size.
_MAX_CONTENT = 200_000


def _our_id(record: dict[str, Any]) -> str | None:
    metadata = record.get("Metadata")
    if isinstance(metadata, dict):
        for key in ("message-id", "message_id", "Message-ID"):
            if metadata.get(key):
                return message_id(metadata[key])
    content = record.get("Content")
    if isinstance(content, str) and content and len(content) <= _MAX_CONTENT:
        return quoted_message_id(message_from_string(content))
    return None


def events(
    config: TokenWebhook, headers: Mapping[str, str], body: bytes, now: datetime, max_age: int
) -> list[RelayEvent]:
    require_token(headers, config.token.get_secret_value())
    record = load_json(body)
    if not isinstance(record, dict) or not isinstance(record.get("RecordType"), str):
        raise WebhookInvalid("the body is not a Postmark webhook record (no RecordType)")
    record_type = record["RecordType"]
    key = event_key(
        f"{record_type}:{record['ID']}" if isinstance(record.get("ID"), int) else None, record
    )
    if record_type in ("Bounce", "SpamComplaint"):
        kind = _BOUNCE_KINDS.get(text(record.get("Type")))
        if kind is None:
            return [ignored(key, f"Postmark {text(record.get('Type'), 40)}")]
        address = record.get("Email")
        return [
            RelayEvent(
                key,
                finding(kind, _our_id(record), address),
                f"Postmark: {text(record.get('Name') or record.get('Type'), 80)}",
            )
        ]
    if record_type == "SubscriptionChange":
        # SuppressSending true: the recipient unsubscribed (or Postmark suppressed them for a
        # bounce or complaint, which its own webhooks report); false: reactivated, not ours to do.
        reason = text(record.get("SuppressionReason"), 40)
        if record.get("SuppressSending") is True and reason == "ManualSuppression":
            return [
                RelayEvent(
                    key,
                    finding(Kind.UNSUBSCRIBE, _our_id(record), record.get("Recipient")),
                    "Postmark: unsubscribed",
                )
            ]
        return [ignored(key, f"Postmark subscription change ({reason or 'reactivated'})")]
    return [ignored(key, f"Postmark {text(record_type, 40)}")]
