"""Amazon SES bounce and complaint notifications, delivered by SNS (signed; see sns.py).

A subscription confirmation from a configured topic is confirmed by fetching its SubscribeURL,
on an SNS host only. SES reports the headers of the message it sent: commonHeaders.messageId
is ours, and mail.source the VERP return path we gave.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import httpx

from newsletter.config.schema import SesWebhook
from newsletter.deliver.bounces import Kind
from newsletter.deliver.relay_events.event import (
    RelayEvent,
    check_age,
    event_key,
    finding,
    ignored,
    load_json,
    message_id,
    text,
    verp_of,
)
from newsletter.deliver.relay_events.sns import SigningCertificates, sns_url, verify
from newsletter.errors import WebhookInvalid, WebhookRefused


def _our_id(mail: dict[str, Any]) -> str | None:
    common = mail.get("commonHeaders")
    if isinstance(common, dict) and common.get("messageId"):
        return message_id(common["messageId"])
    for header in mail.get("headers") or []:
        if isinstance(header, dict) and str(header.get("name", "")).lower() == "message-id":
            return message_id(header.get("value"))
    return None


def _recipients(report: dict[str, Any], field: str) -> list[str]:
    listed = report.get(field)
    return (
        [r["emailAddress"] for r in listed if isinstance(r, dict) and "emailAddress" in r]
        if isinstance(listed, list)
        else []
    )


def notification(key: str, content: Any) -> RelayEvent:
    """One SES notification (the SNS Message, itself JSON) as an event."""
    if not isinstance(content, dict):
        raise WebhookInvalid("the SNS Message is not an SES notification")
    name = text(content.get("notificationType") or content.get("eventType"), 40)
    mail = content.get("mail")
    if not isinstance(mail, dict):
        mail = {}
    our_id, verp = _our_id(mail), verp_of(mail.get("source"))
    if name == "Bounce" and isinstance(content.get("bounce"), dict):
        bounce = content["bounce"]
        bounce_type = text(bounce.get("bounceType"), 40)
        kind = Kind.HARD if bounce_type == "Permanent" else Kind.SOFT
        detail = f"SES: {bounce_type} bounce ({text(bounce.get('bounceSubType'), 40)})"
        return RelayEvent(
            key, finding(kind, our_id, _recipients(bounce, "bouncedRecipients"), verp), detail
        )
    if name == "Complaint" and isinstance(content.get("complaint"), dict):
        complaint = content["complaint"]
        if complaint.get("complaintFeedbackType") == "not-spam":
            return ignored(key, "SES complaint marked not-spam")
        return RelayEvent(
            key,
            finding(Kind.COMPLAINT, our_id, _recipients(complaint, "complainedRecipients"), verp),
            "SES: complaint",
        )
    return ignored(key, f"SES {name}")


def events(
    config: SesWebhook,
    headers: Mapping[str, str],
    body: bytes,
    now: datetime,
    max_age: int,
    certificates: SigningCertificates,
) -> list[RelayEvent]:
    message = load_json(body)
    check_age(verify(message, certificates, now), now, max_age)
    if message.get("TopicArn") not in config.topic_arns:
        raise WebhookRefused("the SNS topic is not one of webhooks.ses.topic_arns")
    key = event_key(message.get("MessageId"), message)
    if message["Type"] == "SubscriptionConfirmation":
        if not sns_url(message["SubscribeURL"]):
            raise WebhookRefused("the SubscribeURL is not on an SNS host")
        try:
            certificates.fetch(message["SubscribeURL"])
        except httpx.HTTPError:
            raise WebhookRefused("SNS could not be reached to confirm the subscription") from None
        return [ignored(key, "SNS subscription confirmed")]
    if message["Type"] == "UnsubscribeConfirmation":
        return [ignored(key, "SNS unsubscribe confirmation")]
    return [notification(key, load_json(message["Message"].encode()))]
