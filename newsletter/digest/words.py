"""Break opportunities in overlong words, so a phone wraps them with no CSS any client drops."""

from __future__ import annotations

import re
import unicodedata

# U+200B ZERO WIDTH SPACE: an invisible place where a line may break. Can I Email lists <wbr> as
# dropped by Gmail for iOS and Outlook for Windows, and `table-layout`/`overflow-wrap` as
# unsupported there; a character is kept by every client.
BREAK = "\u200b"
# Words up to LONG characters fit a phone's line and are left whole, so prose never breaks
# mid-word; a longer one (a URL, an id, a compound) may break every CHUNK characters, which fit
# a 375 px phone even as capital Ws in the largest type the digest uses (28 px bold: 250 px).
LONG = 20
CHUNK = 8
_WORD = re.compile(rf"\S{{{LONG + 1},}}")
_JOINERS = frozenset("\u200d\u034f")  # ZWJ and the combining grapheme joiner


def _joined(before: str, after: str) -> bool:
    """True where a break would split a character from its accent, joiner or variation."""
    return (
        before in _JOINERS
        or after in _JOINERS
        or unicodedata.category(after) in {"Mn", "Mc", "Me"}
        or 0xFE00 <= ord(after) <= 0xFE0F
        or 0xE0100 <= ord(after) <= 0xE01EF
        or 0x1F3FB <= ord(after) <= 0x1F3FF  # skin tones
    )


def _split(word: str) -> str:
    out: list[str] = []
    run = 0
    for index, char in enumerate(word):
        if run >= CHUNK and not _joined(word[index - 1], char):
            out.append(BREAK)
            run = 0
        out.append(char)
        run += 1
    return "".join(out)


def breakable(text: str) -> str:
    """`text` with a break opportunity every CHUNK characters of any word longer than LONG.

    Shorter words are left alone, and nothing is inserted inside a character's accents or an
    emoji sequence. For HTML text only: the plain-text part wraps on its own terms.
    """
    return _WORD.sub(lambda found: _split(found.group()), text)
