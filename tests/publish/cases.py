"""Posts as the collector may store them, worst cases included, for the feed tests."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from newsletter.models import Post, Topic
from newsletter.publish.model import Channel, Entry

T0 = datetime(2026, 11, 2, 14, 30, tzinfo=UTC)

NASTY: list[dict[str, Any]] = [
    {"title": "<em>Beyond</em> A Border <b>Solution</b>", "teaser": "Markup in the title."},
    {"title": "Fees & Fines: R&amp;D &lt;budget&gt;", "teaser": "Ampersands & <angles> too."},
    {"title": "Families reunited 🎉👨‍👩‍👧", "teaser": "Emoji 🇺🇸 in the teaser."},
    {"title": "اللجوء على الحدود", "teaser": "نص من اليمين إلى اليسار", "author_name": "سارة"},
    # NUL too, where the database can hold it (SQLite); PostgreSQL refuses it in text.
    {"title": "Control chars\x08 in\x1b title\x7f", "teaser": "bell\x07 and\x0c feed"},
    {"title": "A very long teaser", "teaser": "Long words repeat. " * 800},
    {"title": "No author, no image", "teaser": "", "author_name": None, "image_url": None},
    {
        "title": "Full body",
        "teaser": "Has HTML.",
        "body_html": '<p onclick="x()">Hi <script>alert(1)</script><a href="/a?b=1&c=2">'
        "link</a> \x01</p><iframe src=x></iframe>",
        "image_url": "https://demo.example.org/images/beyond-a-border-solution.png",
        "image_alt": "A fence & a sky",
    },
    {"title": "   ", "teaser": "Blank title falls back to the address."},
    {"title": "\ufeffByte order \ufffe mark", "teaser": "U+FFFE is not XML."},
]


def add_posts(
    session: Session, cases: list[dict[str, Any]], topics: list[Topic] | None = None
) -> list[Post]:
    posts = []
    for number, case in enumerate(cases):
        at = T0 + timedelta(hours=number)
        values: dict[str, Any] = {
            "url": f"https://demo.example.org/{number}?a=1&b=2",
            "content_hash": f"{number:064d}",
            "teaser": "",
            "author_name": "Demo Staff",
            "published_at": at,
            "updated_at": at,
            "first_seen_at": at,
            **case,
        }
        post = Post(**values)
        post.topics = list(topics or [])
        session.add(post)
        posts.append(post)
    session.flush()
    return posts


def channel(entries: list[Entry], **changes: object) -> Channel:
    """A topic channel around `entries`, for rendering tests; `changes` replace its fields."""
    built = Channel(
        folder="/topics/asylum",
        title="Demo News: Asylum",
        link="https://news.example.org/topics/asylum",
        description="Protection for people fleeing persecution.",
        language="en",
        site_url="https://news.example.org",
        publisher="Demo Council",
        updated=max((e.updated for e in entries), default=datetime(2026, 1, 1, tzinfo=UTC)),
        id="https://news.example.org/topics/asylum/atom.xml",
        entries=tuple(entries),
    )
    return replace(built, **changes)  # type: ignore[arg-type]
