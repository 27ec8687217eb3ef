"""What real readers show of a teaser: feedparser and rss2email (RSS, Atom), JSON Feed text."""

from __future__ import annotations

import email
import html
import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import feedparser
import pytest

from newsletter.config import load_settings
from newsletter.models import Post
from newsletter.publish.channels import post_entry
from newsletter.publish.render import render
from tests.publish.cases import channel

SETTINGS = load_settings(site={"url": "https://news.example.org"})
AT = datetime(2026, 11, 2, 14, 30, tzinfo=UTC)
# Stored teasers are the text a reader sees; these characters are words, not markup.
TEASER = 'AT&T; said <b>not bold</b> & "quoted" &amp; more'
R2E = Path(sys.executable).parent / "r2e"


def _bodies() -> dict[str, bytes]:
    post = Post(
        id=7,
        url="https://demo.example.org/at-t",
        content_hash="0" * 64,
        title="Carriers",
        teaser=TEASER,
        published_at=AT,
        updated_at=AT,
        first_seen_at=AT,
    )
    post.topics = []
    return dict(render(channel([post_entry(post, SETTINGS)], folder="")))


@pytest.mark.parametrize("fmt", ["rss", "atom"])
def test_feedparser_shows_the_teaser_as_written(fmt: str) -> None:
    entry = feedparser.parse(_bodies()[fmt]).entries[0]
    detail = entry.summary_detail
    shown = html.unescape(entry.summary) if detail.type == "text/html" else entry.summary
    assert shown == TEASER


def test_the_json_feed_carries_the_teaser_as_text() -> None:
    item = json.loads(_bodies()["json"])["items"][0]
    # No body: the teaser is the item's text content, and its summary, both plain text.
    assert item["content_text"] == item["summary"] == TEASER
    assert "content_html" not in item


def test_rss2email_mails_the_teaser_as_written(tmp_path: Path) -> None:
    if not R2E.exists():
        pytest.skip("rss2email is not installed (the test extra brings it)")
    feed = tmp_path / "feed.xml"
    feed.write_bytes(_bodies()["rss"])
    maildir = tmp_path / "mail"
    for folder in ("new", "cur", "tmp"):
        (maildir / "INBOX" / folder).mkdir(parents=True)
    config = tmp_path / "r2e.cfg"
    config.write_text(
        "[DEFAULT]\nto = reader@example.org\nemail-protocol = maildir\n"
        f"maildir-path = {maildir}\nmaildir-mailbox = INBOX\n"
    )
    r2e = [str(R2E), "-c", str(config), "-d", str(tmp_path / "r2e.json")]
    subprocess.run([*r2e, "add", "demo", feed.as_uri()], check=True, capture_output=True)
    subprocess.run([*r2e, "run"], check=True, capture_output=True, timeout=60)
    [mailed] = list((maildir / "INBOX" / "new").iterdir())
    message = email.message_from_bytes(mailed.read_bytes())
    payload = message.get_payload(decode=True)
    assert isinstance(payload, bytes)
    text = payload.decode(message.get_content_charset() or "utf-8")
    assert text.splitlines()[0] == TEASER
