"""Personal parts of a stored issue: markers rendered once, filled in per recipient at send."""

from __future__ import annotations

import html
import re
from collections.abc import Mapping

# A private-use character delimits markers. It means nothing in a title or teaser, so every
# user-supplied string is scrubbed of it at render time: text that merely looks like a marker
# can then never be substituted, whatever else it contains.
MARK = "\ue000"
_MARK_BYTES = MARK.encode()
_NAME = re.compile(r"^[a-z][a-z0-9_.]*$")
_SPLIT = re.compile(re.escape(_MARK_BYTES) + rb"([a-z][a-z0-9_.]*)" + re.escape(_MARK_BYTES))


def marker(name: str) -> str:
    """The marker for one personal part, e.g. marker("unsubscribe_url") in a template."""
    if not _NAME.match(name):
        raise ValueError(f"not a placeholder name: {name!r}")
    return f"{MARK}{name}{MARK}"


def scrub(text: str) -> str:
    """User-supplied text without the marker character, so it can never become a marker."""
    return text.replace(MARK, "")


class Template:
    """Finished bytes split once at their markers; fill() only joins, so it is cheap per recipient.

    Values are inserted as given: the caller escapes them for where they land (HTML, a header).
    """

    def __init__(self, finished: bytes) -> None:
        parts = _SPLIT.split(finished)
        self.literals: list[bytes] = parts[0::2]
        self.names: list[str] = [name.decode() for name in parts[1::2]]

    def fill(self, values: Mapping[str, bytes]) -> bytes:
        pieces = [self.literals[0]]
        for name, literal in zip(self.names, self.literals[1:], strict=True):
            pieces.append(values[name])
            pieces.append(literal)
        return b"".join(pieces)


# The personal parts of every issue. In the HTML part each is used as `<name>.html`, whose value
# is HTML-escaped; in the text part and in headers, as the bare name.
# reader_mark is "" or, where analytics.per_subscriber is on, "." and the signed subscriber id
# that ends every /r/ link (it is URL-safe, so the same value serves HTML and text).
PERSONAL_FIELDS = ("name", "email", "unsubscribe_url", "preferences_url", "reader_mark")


def html_marker(name: str) -> str:
    return marker(f"{name}.html")


def values_for(fields: Mapping[str, str]) -> dict[str, bytes]:
    """Both forms of each personal field, ready for Template.fill()."""
    values: dict[str, bytes] = {}
    for name, value in fields.items():
        values[name] = value.encode()
        values[f"{name}.html"] = html.escape(value, quote=True).encode()
    return values
