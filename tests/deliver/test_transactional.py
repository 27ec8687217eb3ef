"""The headers every one-off mail from the site carries, Reply-To among them."""

from __future__ import annotations

from datetime import UTC, datetime

from newsletter.config import load_settings
from newsletter.deliver.setup import mail_setup
from newsletter.deliver.transactional import transactional

NOW = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)


def _mail(reply_to: str | None) -> dict[str, str | None]:
    settings = load_settings(mail={"reply_to": reply_to})
    message = transactional(
        settings, kind="confirm", to=["ana@example.net"], subject="Hi", text="x", now=NOW
    )
    return {"Reply-To": message["Reply-To"], "From": message["From"]}


def test_reply_to_goes_on_transactional_mail_when_set() -> None:
    assert _mail("editor@example.org")["Reply-To"] == "editor@example.org"
    assert _mail(None)["Reply-To"] is None


def test_the_digest_setup_carries_the_setting() -> None:
    settings = load_settings(mail={"reply_to": "editor@example.org"})
    assert mail_setup(settings, "s" * 40).reply_to == "editor@example.org"
    assert mail_setup(load_settings(), "s" * 40).reply_to is None
