"""Fresh links for a reader whose link expired or was used: one step, the same answer for all."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import urlsplit

from fastapi.testclient import TestClient

from newsletter.clock import FixedClock
from newsletter.runtime import Runtime
from subscribers.links import link
from subscribers.tokens import Purpose
from tests.smtpd import SmtpServer
from tests.web.test_subscription import NOW, _active, csrf_of, drain, part, signup
from tests.web.test_subscription import client as client
from tests.web.test_subscription import site as site


def _ask(client: TestClient, page: str, email: str) -> tuple[int, str]:
    answer = client.post("/links/new", data={"email": email, "csrf_token": csrf_of(page)})
    return answer.status_code, answer.text


def _path(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def test_an_expired_link_offers_new_links_that_work(
    client: TestClient, site: Runtime, smtp: SmtpServer
) -> None:
    reader = _active(site, "reader@example.org")
    old = link(
        "https://x",
        site.signing_key,
        Purpose.PREFERENCES,
        reader,
        "reader@example.org",
        NOW - timedelta(days=91),
    )
    expired = client.get(_path(old))
    assert expired.status_code == 410
    assert "Email me a new link" in expired.text
    known = _ask(client, expired.text, "reader@example.org")
    unknown = _ask(client, expired.text, "stranger@example.org")
    assert known[0] == unknown[0] == 200
    # The same page, byte for byte but the CSRF field: nothing tells a known address.
    field = re.compile(r'name="csrf_token" value="[^"]+"')
    assert field.sub("", known[1]) == field.sub("", unknown[1])
    drain(site)
    assert smtp.to("stranger@example.org") == []
    [mail] = smtp.to("reader@example.org")
    assert mail.message["Subject"] == "Your links for Example Council News"
    text = part(mail.message, "plain")
    fresh = next(word for word in text.split() if "/preferences?token=" in word)
    opened = client.get(_path(fresh))
    assert opened.status_code == 200
    assert "reader@example.org" in opened.text


def test_a_used_link_offers_them_too_and_a_pending_reader_gets_the_confirmation_again(
    client: TestClient, site: Runtime, smtp: SmtpServer
) -> None:
    signup(client, "slow@example.org")
    [first] = smtp.to("slow@example.org")
    assert isinstance(site.clock, FixedClock)
    site.clock.advance(timedelta(days=8))  # the confirmation link has expired
    used = client.get("/confirm?token=forged-or-cut-short")
    assert used.status_code == 400
    assert "Email me a new link" in used.text
    assert _ask(client, used.text, "slow@example.org")[0] == 200
    drain(site)
    [_, again] = smtp.to("slow@example.org")
    assert again.message["Subject"] == first.message["Subject"]  # the confirmation, anew


def test_asking_again_and_again_mails_an_address_a_few_times_at_most(
    client: TestClient, site: Runtime, smtp: SmtpServer
) -> None:
    _active(site, "target@example.org")
    page = client.get("/subscribe").text
    answers = {_ask(client, page, "target@example.org")[0] for _ in range(6)}
    assert answers == {200}  # over the limit the answer is the same; nothing more is queued
    drain(site)
    assert len(smtp.to("target@example.org")) == site.settings.subscribers.rate_limit_per_email
    status, text = _ask(client, page, "not an address")
    assert status == 422
    assert "Please go back and check it." in text
