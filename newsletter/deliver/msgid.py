"""Our Message-IDs, <issue.subscriber.tag@domain>, tag an HMAC: a quoted copy names its delivery.

A bounce or complaint that quotes the original message's headers is attributed by this id (or by
the VERP return path), never by the addresses its body names, which anyone can write.
"""

from __future__ import annotations

import hashlib
import hmac
import re

_ID = re.compile(r"<(?P<issue>\d{1,18})\.(?P<subscriber>\d{1,18})\.(?P<tag>[0-9a-f]{12})@[^<>\s]+>")


def _key(secret: str) -> bytes:
    return hashlib.sha256(f"message-id:{secret}".encode()).digest()


def _tag(key: bytes, issue_id: int, subscriber_id: int) -> str:
    return hmac.new(key, f"{issue_id}.{subscriber_id}".encode(), hashlib.sha256).hexdigest()[:12]


class MessageIds:
    """Makes and checks the ids of one site's messages; the key is derived once."""

    def __init__(self, secret: str) -> None:
        self._key = _key(secret)

    def make(self, issue_id: int, subscriber_id: int, domain: str) -> str:
        """Stable per issue and subscriber, so a resend is recognisable as the same message."""
        return f"<{issue_id}.{subscriber_id}.{_tag(self._key, issue_id, subscriber_id)}@{domain}>"

    def verify(self, value: str) -> tuple[int, int] | None:
        """(issue id, subscriber id) of an id we made, else None (constant-time comparison)."""
        match = _ID.search(value)
        if match is None:
            return None
        issue_id, subscriber_id = int(match["issue"]), int(match["subscriber"])
        expected = _tag(self._key, issue_id, subscriber_id)
        if not hmac.compare_digest(expected, match["tag"].lower()):
            return None
        return issue_id, subscriber_id
