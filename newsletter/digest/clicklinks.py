"""Story, donate and archive links rewritten to /r/<token>, and the issue's book of them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from newsletter.clicktokens import Click, make_click_token
from newsletter.digest.placeholders import marker

# Kinds of tracked link; "trap" is the hidden link no person sees (its clicks are machines');
# "cta" is a special issue's button.
STORY, DONATE, ARCHIVE, TRAP, CTA = "story", "donate", "archive", "trap", "cta"


@dataclass(frozen=True)
class BookedLink:
    position: int
    kind: str
    url: str
    post_id: int | None = None


@dataclass
class LinkBook:
    """An issue's tracked links: those already stored keep their positions, new ones follow.

    Positions are issue-wide, so a story has one number in every variant, and never change,
    so a token in an email sent years ago still names the same link.
    """

    stored: Iterable[BookedLink] = ()
    added: list[BookedLink] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._positions = {(link.kind, link.url): link.position for link in self.stored}

    def position(self, kind: str, url: str, post_id: int | None = None) -> int:
        known = self._positions.get((kind, url))
        if known is not None:
            return known
        position = len(self._positions)
        self._positions[(kind, url)] = position
        self.added.append(BookedLink(position, kind, url, post_id))
        return position


@dataclass(frozen=True)
class ClickLinks:
    """Rewrites one stored variant's links to `{base_url}/r/<token>`."""

    base_url: str
    key: str
    issue_id: int
    variant_id: int
    book: LinkBook
    # analytics.per_subscriber: each link ends in the reader's mark, filled in per recipient.
    personal: bool = False

    def __call__(self, kind: str, url: str, post_id: int | None = None) -> str:
        position = self.book.position(kind, url, post_id)
        token = make_click_token(self.key, Click(self.issue_id, position, self.variant_id))
        mark = marker("reader_mark") if self.personal else ""
        return f"{self.base_url}/r/{token}{mark}"
