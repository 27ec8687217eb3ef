"""Brevo's transactional webhooks (token-authenticated): bounces, spam complaints, unsubscribes.

Brevo does not sign its calls: the token (bearer or basic auth, as the webhook is set up)
authenticates them; a replay is a retry the event store already holds, since Brevo gives no
event id and the event's hash stands for one. "message-id" is the Message-ID header we sent.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from newsletter.config.schema import TokenWebhook
from newsletter.deliver.bounces import Kind
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

_KINDS = {
    "hard_bounce": Kind.HARD,
    "invalid_email": Kind.HARD,
    "soft_bounce": Kind.SOFT,
    "spam": Kind.COMPLAINT,
    "complaint": Kind.COMPLAINT,
    "unsubscribed": Kind.UNSUBSCRIBE,
}
# Brevo may batch events into a list; more than this in one call is not a batch it sends.
_MAX_EVENTS = 1000


def _event(item: dict[str, Any]) -> RelayEvent:
    name = text(item.get("event"), 40)
    key = event_key(None, item)
    kind = _KINDS.get(name)
    if kind is None:
        return ignored(key, f"Brevo {name}")
    reason = text(item.get("reason"), 120)
    return RelayEvent(
        key,
        finding(kind, message_id(item.get("message-id")), item.get("email")),
        f"Brevo: {name.replace('_', ' ')}" + (f" ({reason})" if reason else ""),
    )


def events(
    config: TokenWebhook, headers: Mapping[str, str], body: bytes, now: datetime, max_age: int
) -> list[RelayEvent]:
    require_token(headers, config.token.get_secret_value())
    payload = load_json(body)
    items = payload if isinstance(payload, list) else [payload]
    if len(items) > _MAX_EVENTS or not all(
        isinstance(item, dict) and isinstance(item.get("event"), str) for item in items
    ):
        raise WebhookInvalid("the body is not a Brevo webhook event (no event field)")
    return [_event(item) for item in items]
