"""Special issues (breaking news, appeals): their keys, who they reach, what an editor may type."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from newsletter.digest.compose import wanted_topics
from newsletter.errors import DigestError

BREAKING, APPEAL = "breaking", "appeal"
KINDS = (BREAKING, APPEAL)
LABELS = {
    "weekly": "Weekly digest",
    "daily": "Daily digest",
    "story": "New story",
    BREAKING: "Breaking news",
    APPEAL: "Special issue",
}
BODY_LIMIT = 50_000  # characters of an appeal's Markdown: a long letter, not a book
CTA_LABEL_LIMIT = 100
URL_LIMIT = 2000
SUBJECT_LIMIT = 500
# A variant key's second part: the posts a reader had in another issue, left out here.
WITHOUT = "|without:"


@dataclass(frozen=True)
class Cta:
    label: str
    url: str


def special_key(kind: str, now: datetime, zone: ZoneInfo, taken: Iterable[str]) -> str:
    """ "2026-11-30-breaking", then "-2", "-3" ... on the same local day."""
    base = f"{now.astimezone(zone):%Y-%m-%d}-{kind}"
    used = set(taken)
    if base not in used:
        return base
    number = 2
    while f"{base}-{number}" in used:
        number += 1
    return f"{base}-{number}"


def reaches(audience: str, topic_key: str) -> bool:
    """A special issue for `audience` ("" everyone) goes to readers of `topic_key` ("" all)."""
    wanted, theirs = wanted_topics(audience), wanted_topics(topic_key)
    return not wanted or not theirs or bool(wanted & theirs)


def split_key(key: str, order: Sequence[int] = ()) -> tuple[str, frozenset[int]]:
    """A variant key as its topic key and the posts it leaves out (see `without`).

    `order` is the issue's included posts in order, which the key's mask refers to; without it
    only the topic key is read back.
    """
    topics, _, mask = key.partition(WITHOUT)
    if mask.startswith("x"):
        bits = int(mask[1:] or "0", 16)
        return topics, frozenset(post for i, post in enumerate(order) if bits >> i & 1)
    # Keys stored before the mask: the post ids themselves.
    return topics, frozenset(int(i) for i in mask.split(",") if i.isdigit())


def without(topic_key: str, post_ids: Iterable[int], order: Sequence[int]) -> str:
    """The variant key for readers of `topic_key` who had `post_ids` (of the issue's included
    posts, `order`) already: a hexadecimal mask over their places, so the key stays short for
    an issue of any length ("asylum|without:x5" leaves out the first and the third)."""
    had = set(post_ids)
    bits = sum(1 << i for i, post in enumerate(order) if post in had)
    return f"{topic_key}{WITHOUT}x{bits:x}" if bits else topic_key


def check_cta(label: str, url: str) -> Cta | None:
    """The call to action as typed, checked: both or neither; an http(s) address."""
    label, url = label.strip(), url.strip()
    if not label and not url:
        return None
    if not label or not url:
        raise DigestError("the call to action needs both a button label and a web address")
    if len(label) > CTA_LABEL_LIMIT:
        raise DigestError(f"the button label holds at most {CTA_LABEL_LIMIT} characters")
    parts = urlsplit(url)
    if len(url) > URL_LIMIT or parts.scheme not in ("http", "https") or not parts.hostname:
        raise DigestError(
            "the button's address must be a web address starting with https://, "
            "such as https://example.org/donate"
        )
    return Cta(label, url)


def check_body(body: str) -> str:
    if len(body) > BODY_LIMIT:
        raise DigestError(f"the text holds at most {BODY_LIMIT:,} characters")
    if not body.strip():
        raise DigestError("an appeal needs some text")
    return body


def check_subject(subject: str) -> str:
    subject = " ".join(subject.split())
    if len(subject) > SUBJECT_LIMIT:
        raise DigestError(f"the subject holds at most {SUBJECT_LIMIT} characters")
    return subject
