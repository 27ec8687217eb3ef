"""Amazon SNS messages: the signature (v1 SHA1, v2 SHA256) by a certificate on an SNS host.

A certificate is fetched only from https://sns.<region>.amazonaws.com (or .amazonaws.com.cn),
never from a host the message names otherwise, and kept: each is fetched once per process.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import httpx
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from newsletter.errors import WebhookInvalid, WebhookRefused

_SNS_HOST = re.compile(r"^sns\.[a-z0-9-]{1,40}\.amazonaws\.com(\.cn)?$")
# The fields signed, in order, for each message type (absent optional ones are skipped).
_SIGNED = {
    "Notification": ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"),
    "SubscriptionConfirmation": (
        "Message",
        "MessageId",
        "SubscribeURL",
        "Timestamp",
        "Token",
        "TopicArn",
        "Type",
    ),
}
_SIGNED["UnsubscribeConfirmation"] = _SIGNED["SubscriptionConfirmation"]
_HASHES: dict[str, Callable[[], hashes.HashAlgorithm]] = {"1": hashes.SHA1, "2": hashes.SHA256}
# A certificate is a few kilobytes; a confirmation answer a little XML.
MAX_FETCH = 100_000
_KEPT = 16

Fetch = Callable[[str], bytes]


def sns_url(url: str, suffix: str = "") -> bool:
    """Whether a URL is an SNS endpoint's: https, an SNS host, no credentials or port."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return False
    host = parts.hostname or ""
    return (
        parts.scheme == "https"
        and port in (None, 443)
        and not parts.username
        and _SNS_HOST.match(host) is not None
        and parts.netloc.lower() in (host, f"{host}:443")
        and parts.path.endswith(suffix)
    )


def fetch_https(url: str) -> bytes:
    """GET a small document, without following redirects (each URL is checked by its host)."""
    with httpx.stream("GET", url, timeout=10.0, follow_redirects=False) as response:
        if response.status_code != 200:
            raise WebhookRefused(f"SNS answered {response.status_code} for {urlsplit(url).path}")
        body = b""
        for chunk in response.iter_bytes():
            body += chunk
            if len(body) > MAX_FETCH:
                raise WebhookRefused("an SNS answer is larger than a certificate can be")
        return body


class SigningCertificates:
    """SNS signing keys by certificate URL, fetched once each and only from an SNS host."""

    def __init__(self, fetch: Fetch = fetch_https) -> None:
        self.fetch = fetch
        self._keys: OrderedDict[str, rsa.RSAPublicKey] = OrderedDict()

    def key(self, url: str, now: datetime) -> rsa.RSAPublicKey:
        if not sns_url(url, suffix=".pem"):
            raise WebhookRefused(
                "the signing certificate is not on an SNS host (https://sns.<region>.amazonaws.com)"
            )
        if url in self._keys:
            self._keys.move_to_end(url)
            return self._keys[url]
        try:
            certificate = x509.load_pem_x509_certificate(self.fetch(url))
        except (ValueError, httpx.HTTPError):
            raise WebhookRefused("the SNS signing certificate could not be read") from None
        if not certificate.not_valid_before_utc <= now <= certificate.not_valid_after_utc:
            raise WebhookRefused("the SNS signing certificate is not valid now")
        key = certificate.public_key()
        if not isinstance(key, rsa.RSAPublicKey):
            raise WebhookRefused("the SNS signing certificate holds no RSA key")
        self._keys[url] = key
        while len(self._keys) > _KEPT:
            self._keys.popitem(last=False)
        return key


def string_to_sign(message: dict[str, Any]) -> bytes:
    fields = _SIGNED[message["Type"]]
    return "".join(
        f"{name}\n{message[name]}\n" for name in fields if isinstance(message.get(name), str)
    ).encode()


def verify(message: Any, certificates: SigningCertificates, now: datetime) -> datetime:
    """The signed Timestamp of an SNS message whose signature checks out, else WebhookRefused."""
    if not isinstance(message, dict) or message.get("Type") not in _SIGNED:
        raise WebhookInvalid("the body is not an SNS message (no known Type)")
    if not all(isinstance(message.get(name), str) for name in ("Signature", "SigningCertURL")):
        raise WebhookRefused("the SNS message is not signed")
    algorithm = _HASHES.get(str(message.get("SignatureVersion")))
    if algorithm is None:
        raise WebhookRefused("the SNS message's SignatureVersion is not 1 or 2")
    missing = [
        name
        for name in _SIGNED[message["Type"]]
        if name != "Subject" and not isinstance(message.get(name), str)
    ]
    if missing:
        raise WebhookInvalid(f"the SNS message lacks {', '.join(missing)}")
    key = certificates.key(message["SigningCertURL"], now)
    try:
        key.verify(
            base64.b64decode(message["Signature"], validate=True),
            string_to_sign(message),
            padding.PKCS1v15(),
            algorithm(),
        )
    except (InvalidSignature, binascii.Error, ValueError):
        raise WebhookRefused("the SNS signature does not verify") from None
    try:
        signed_at = datetime.fromisoformat(message["Timestamp"])
    except ValueError:
        signed_at = None
    if signed_at is None or signed_at.tzinfo is None:
        raise WebhookInvalid("the SNS message's Timestamp is not a UTC time")
    return signed_at
