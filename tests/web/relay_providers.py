"""Each relay provider as its documentation shows it: payloads, and signing them as it does.

Keys and certificates are made here; signatures are computed from the providers' documented
schemes, independently of the code under test (SNS's string to sign is written out again).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import httpx
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from tests.certificates import self_signed
from tests.collect.httpserver import Reply, Route, Server, http_server

TOPIC = "arn:aws:sns:us-east-1:123456789012:ses-bounces"
CERT_URL = "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-0000.pem"
SUBSCRIBE_URL = (
    "https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn="
    f"{TOPIC}&Token=2336412f37"
)
TOKEN = "postmark-brevo-token-" + "9" * 20
MAILGUN_KEY = "key-mailgun-signing-" + "7" * 20
KINDS = ("hard", "soft", "complaint", "unsubscribe")


def _self_signed(now: datetime) -> tuple[rsa.RSAPrivateKey, bytes]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    certificate = self_signed(key, "sns.amazonaws.com", now, 365)
    return key, certificate.public_bytes(serialization.Encoding.PEM)


@dataclass
class SnsHost:
    """A stand-in for sns.<region>.amazonaws.com: a real local HTTP server, requests kept."""

    server: Server

    @property
    def hits(self) -> list[str]:
        return [path for path, _ in self.server.requests]

    def fetch(self, url: str) -> bytes:
        """The injected fetcher: the SNS URL's path and query, asked of the local server."""
        parts = urlsplit(url)
        target = f"{self.server.base}{parts.path}" + (f"?{parts.query}" if parts.query else "")
        response = httpx.get(target, timeout=5.0)
        response.raise_for_status()
        return response.content


@contextmanager
def sns_host(pem: bytes) -> Iterator[SnsHost]:
    routes: dict[str, Route] = {
        urlsplit(CERT_URL).path: Reply(pem),
        "/": Reply(b"<ConfirmSubscriptionResponse/>"),
    }
    with http_server(routes) as server:
        yield SnsHost(server)


@dataclass
class Keys:
    """Every provider's secrets for one test run."""

    now: datetime
    sns_key: rsa.RSAPrivateKey
    sns_pem: bytes
    sendgrid_key: ec.EllipticCurvePrivateKey

    @classmethod
    def make(cls, now: datetime) -> Keys:
        sns_key, pem = _self_signed(now)
        return cls(now, sns_key, pem, ec.generate_private_key(ec.SECP256R1()))

    @property
    def sendgrid_public(self) -> str:
        der = self.sendgrid_key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return base64.b64encode(der).decode()

    def settings(self) -> dict[str, Any]:
        return {
            "ses": {"topic_arns": [TOPIC]},
            "postmark": {"token": TOKEN},
            "sendgrid": {"public_key": self.sendgrid_public},
            "mailgun": {"signing_key": MAILGUN_KEY},
            "brevo": {"token": TOKEN},
        }


@dataclass
class Call:
    body: bytes
    headers: dict[str, str]


def _basic(password: str) -> str:
    return "Basic " + base64.b64encode(f"webhooks:{password}".encode()).decode()


def _iso(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def sns_sign(keys: Keys, message: dict[str, Any], version: str = "2") -> dict[str, Any]:
    """Sign an SNS message as SNS does (fields in order, each name and value on a line)."""
    if message["Type"] == "Notification":
        names = ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"]
    else:
        names = ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"]
    text = "".join(f"{name}\n{message[name]}\n" for name in names if name in message)
    algorithm = hashes.SHA256() if version == "2" else hashes.SHA1()
    signature = keys.sns_key.sign(text.encode(), padding.PKCS1v15(), algorithm)
    return {
        **message,
        "SignatureVersion": version,
        "Signature": base64.b64encode(signature).decode(),
        "SigningCertURL": message.get("SigningCertURL", CERT_URL),
    }


def ses_call(
    keys: Keys, kind: str, message_id: str | None, address: str, event_id: str, at: datetime
) -> Call:
    mail: dict[str, Any] = {
        "timestamp": _iso(at),
        "messageId": "0100018c-ses-own-id",
        "source": "newsletter@example.org",
        "destination": [address],
        "headersTruncated": False,
        "headers": [{"name": "Message-ID", "value": message_id}] if message_id else [],
        "commonHeaders": {"messageId": message_id} if message_id else {},
    }
    if kind in ("hard", "soft"):
        content: dict[str, Any] = {
            "notificationType": "Bounce",
            "bounce": {
                "bounceType": "Permanent" if kind == "hard" else "Transient",
                "bounceSubType": "General" if kind == "hard" else "MailboxFull",
                "bouncedRecipients": [{"emailAddress": address, "status": "5.1.1"}],
                "timestamp": _iso(at),
                "feedbackId": "0100018c-feedback",
            },
            "mail": mail,
        }
    elif kind == "complaint":
        content = {
            "notificationType": "Complaint",
            "complaint": {
                "complainedRecipients": [{"emailAddress": address}],
                "complaintFeedbackType": "abuse",
                "timestamp": _iso(at),
                "feedbackId": "0100018c-feedback",
            },
            "mail": mail,
        }
    else:
        raise ValueError("SES reports no unsubscribes to SNS (its Delivery is ignored)")
    message = {
        "Type": "Notification",
        "MessageId": event_id,
        "TopicArn": TOPIC,
        "Message": json.dumps(content),
        "Timestamp": _iso(at),
        "UnsubscribeURL": "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe",
    }
    return Call(
        json.dumps(sns_sign(keys, message)).encode(), {"x-amz-sns-message-type": "Notification"}
    )


def postmark_call(kind: str, message_id: str | None, address: str, event_id: str) -> Call:
    number = int(hashlib.sha256(event_id.encode()).hexdigest()[:12], 16)
    metadata = {"message-id": message_id} if message_id else {}
    if kind == "unsubscribe":
        record: dict[str, Any] = {
            "RecordType": "SubscriptionChange",
            "MessageID": "883953f4-6105-42a2-a16a-77a8eac79483",
            "ServerID": 23,
            "MessageStream": "outbound",
            "ChangedAt": "2026-11-27T15:00:00Z",
            "Recipient": address,
            "Origin": "Recipient",
            "SuppressSending": True,
            "SuppressionReason": "ManualSuppression",
            "Tag": event_id,
            "Metadata": metadata,
        }
    else:
        kind_type = {"hard": "HardBounce", "soft": "SoftBounce", "complaint": "SpamComplaint"}
        record = {
            "RecordType": "SpamComplaint" if kind == "complaint" else "Bounce",
            "MessageStream": "outbound",
            "ID": number,
            "Type": kind_type[kind],
            "TypeCode": {"hard": 1, "soft": 4096, "complaint": 100001}[kind],
            "Name": {"hard": "Hard bounce", "soft": "Soft bounce", "complaint": "Spam complaint"}[
                kind
            ],
            "Tag": "weekly",
            "MessageID": "883953f4-6105-42a2-a16a-77a8eac79483",
            "Metadata": metadata,
            "ServerID": 23,
            "Description": "The server was unable to deliver your message.",
            "Details": "smtp;550 5.1.1 The email account that you tried to reach does not exist.",
            "Email": address,
            "From": "newsletter@example.org",
            "BouncedAt": "2026-11-27T15:00:00Z",
            "DumpAvailable": False,
            "Inactive": kind != "soft",
            "CanActivate": True,
            "Subject": "This week",
        }
    return Call(json.dumps(record).encode(), {"Authorization": _basic(TOKEN)})


def sendgrid_call(
    keys: Keys, kind: str, message_id: str | None, address: str, event_id: str, at: datetime
) -> Call:
    event: dict[str, Any] = {
        "email": address,
        "timestamp": int(at.timestamp()),
        "sg_event_id": event_id,
        "sg_message_id": "14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0",
        "category": ["weekly"],
    }
    if message_id:
        event["smtp-id"] = message_id
    if kind in ("hard", "soft"):
        event |= {
            "event": "bounce",
            "type": "bounce" if kind == "hard" else "blocked",
            "reason": "500 unknown recipient",
            "status": "5.0.0" if kind == "hard" else "4.0.0",
        }
    else:
        event["event"] = {"complaint": "spamreport", "unsubscribe": "unsubscribe"}[kind]
    body = json.dumps([event, {**event, "event": "delivered", "sg_event_id": event_id + "d"}])
    return sendgrid_signed(keys, body.encode(), at)


def sendgrid_signed(keys: Keys, body: bytes, at: datetime) -> Call:
    timestamp = str(int(at.timestamp()))
    signature = keys.sendgrid_key.sign(timestamp.encode() + body, ec.ECDSA(hashes.SHA256()))
    return Call(
        body,
        {
            "X-Twilio-Email-Event-Webhook-Signature": base64.b64encode(signature).decode(),
            "X-Twilio-Email-Event-Webhook-Timestamp": timestamp,
            "Content-Type": "application/json",
        },
    )


def mailgun_signature(at: datetime, key: str = MAILGUN_KEY) -> dict[str, str]:
    timestamp, token = str(int(at.timestamp())), secrets.token_hex(25)
    digest = hmac.new(key.encode(), (timestamp + token).encode(), hashlib.sha256).hexdigest()
    return {"timestamp": timestamp, "token": token, "signature": digest}


def mailgun_call(
    kind: str, message_id: str | None, address: str, event_id: str, at: datetime
) -> Call:
    data: dict[str, Any] = {
        "id": event_id,
        "timestamp": at.timestamp(),
        "log-level": "error",
        "recipient": address,
        "recipient-domain": address.split("@")[1],
        "message": {
            "headers": {
                "to": address,
                "from": "newsletter@example.org",
                "subject": "This week",
                # Mailgun drops the angle brackets.
                **({"message-id": message_id.strip("<>")} if message_id else {}),
            },
            "size": 111,
        },
    }
    if kind in ("hard", "soft"):
        data |= {
            "event": "failed",
            "severity": "permanent" if kind == "hard" else "temporary",
            "reason": "bounce" if kind == "hard" else "generic",
            "delivery-status": {"code": 550 if kind == "hard" else 452, "message": "No such user"},
        }
    else:
        data["event"] = {"complaint": "complained", "unsubscribe": "unsubscribed"}[kind]
    payload = {"signature": mailgun_signature(at), "event-data": data}
    return Call(json.dumps(payload).encode(), {"Content-Type": "application/json"})


def brevo_call(kind: str, message_id: str | None, address: str, event_id: str) -> Call:
    event: dict[str, Any] = {
        "event": {
            "hard": "hard_bounce",
            "soft": "soft_bounce",
            "complaint": "spam",
            "unsubscribe": "unsubscribed",
        }[kind],
        "email": address,
        "id": 26224,
        "date": "2026-11-27 16:00:00",
        "ts": 1798383600,
        "ts_event": 1798383600,
        "subject": "This week",
        "tag": f'["{event_id}"]',
        "sending_ip": "185.41.28.109",
        "tags": [event_id],
    }
    if message_id:
        event["message-id"] = message_id
    if kind in ("hard", "soft"):
        event["reason"] = "550 5.1.1 user unknown"
    return Call(json.dumps(event).encode(), {"Authorization": f"Bearer {TOKEN}"})


def call(
    provider: str,
    keys: Keys,
    kind: str,
    message_id: str | None,
    address: str,
    event_id: str,
    at: datetime | None = None,
) -> Call:
    """One documented call from `provider` reporting `kind` for the message `message_id`."""
    at = at or keys.now
    if provider == "ses":
        return ses_call(keys, kind, message_id, address, event_id, at)
    if provider == "postmark":
        return postmark_call(kind, message_id, address, event_id)
    if provider == "sendgrid":
        return sendgrid_call(keys, kind, message_id, address, event_id, at)
    if provider == "mailgun":
        return mailgun_call(kind, message_id, address, event_id, at)
    return brevo_call(kind, message_id, address, event_id)
