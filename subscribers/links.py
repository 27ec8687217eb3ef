"""The personal links mailed to a subscriber, each carrying a token for one purpose."""

from __future__ import annotations

from datetime import datetime

from subscribers.tokens import Purpose, make_token

# Each purpose has its own page, at the path of the same name.
PATHS = {
    Purpose.CONFIRM: "/confirm",
    Purpose.UNSUBSCRIBE: "/unsubscribe",
    Purpose.PREFERENCES: "/preferences",
}


def link(
    base_url: str, secret: str, purpose: Purpose, subscriber_id: int, email: str, now: datetime
) -> str:
    """An absolute URL such as https://example.org/unsubscribe?token=…"""
    token = make_token(secret, purpose, subscriber_id, email, now)
    return f"{base_url.rstrip('/')}{PATHS[purpose]}?token={token}"
