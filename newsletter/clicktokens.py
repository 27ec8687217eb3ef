"""Signed click tokens: which issue, link and variant a mailed link is, in about 18 characters.

A token is base64url(varints + 8 bytes of HMAC-SHA256). The varints are the issue id, the
link's position among the issue's stored links, the variant id and, only where the
organisation opted into per-subscriber figures, the subscriber id. Eight bytes of MAC are
2^64 guesses per forgery; the token is in every link of every email, so every byte counts.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from collections.abc import Iterable
from dataclasses import dataclass

_DOMAIN = b"click/1:"
_READER_DOMAIN = b"reader/1:"
_MAC_BYTES = 8
# Four varints of at most 9 bytes each and the MAC: anything longer is not ours.
MAX_TOKEN_CHARS = 60
_ALPHABET = re.compile(r"[A-Za-z0-9_-]+")


@dataclass(frozen=True)
class Click:
    issue_id: int
    position: int
    variant_id: int
    subscriber_id: int | None = None


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _read_varints(data: bytes) -> list[int] | None:
    values: list[int] = []
    value = shift = 0
    for byte in data:
        value |= (byte & 0x7F) << shift
        shift += 7
        if shift > 63:
            return None
        if not byte & 0x80:
            values.append(value)
            value = shift = 0
    return values if shift == 0 else None


def _mac(key: str, payload: bytes, domain: bytes = _DOMAIN) -> bytes:
    return hmac.digest(key.encode(), domain + payload, hashlib.sha256)[:_MAC_BYTES]


def _encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _decode(text: str) -> bytes | None:
    if len(text) > MAX_TOKEN_CHARS or not _ALPHABET.fullmatch(text):
        return None
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        return None


def make_click_token(key: str, click: Click) -> str:
    numbers = [click.issue_id, click.position, click.variant_id]
    if click.subscriber_id is not None:
        numbers.append(click.subscriber_id)
    if any(n < 0 for n in numbers):
        raise ValueError("click token numbers are never negative")
    payload = b"".join(_varint(n) for n in numbers)
    return _encode(payload + _mac(key, payload))


def read_click_token(keys: Iterable[str], token: str) -> Click | None:
    """The click a token names, or None for anything not signed by one of `keys`."""
    raw = _decode(token)
    if raw is None:
        return None
    payload, mac = raw[:-_MAC_BYTES], raw[-_MAC_BYTES:]
    if not payload or not any(hmac.compare_digest(mac, _mac(key, payload)) for key in keys):
        return None
    numbers = _read_varints(payload)
    if numbers is None or len(numbers) not in (3, 4):
        return None
    return Click(*numbers)


def make_reader_mark(key: str, issue_id: int, subscriber_id: int) -> str:
    """The per-subscriber part of an issue's links (analytics.per_subscriber): who clicked.

    Bound to the issue, so a mark copied into another issue's link names nobody.
    """
    payload = _varint(subscriber_id)
    return _encode(payload + _mac(key, _varint(issue_id) + payload, _READER_DOMAIN))


def read_reader_mark(keys: Iterable[str], issue_id: int, mark: str) -> int | None:
    raw = _decode(mark)
    if raw is None:
        return None
    payload, mac = raw[:-_MAC_BYTES], raw[-_MAC_BYTES:]
    signed = _varint(issue_id) + payload
    if not payload or not any(
        hmac.compare_digest(mac, _mac(key, signed, _READER_DOMAIN)) for key in keys
    ):
        return None
    numbers = _read_varints(payload)
    return numbers[0] if numbers is not None and len(numbers) == 1 else None
