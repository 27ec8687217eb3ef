"""feedparser's complaints about a feed it read: which cost entries, which only untidiness.

An error means entries may be missing (the source's run counts an error); a warning means every
entry was read as the publisher meant it, and the feed is only not quite right (it is shown on
the source, and collect succeeds).
"""

from __future__ import annotations

import html.entities
import re
import xml.sax
from typing import Literal

import feedparser
from lxml import etree

Severity = Literal["error", "warning"] | None

# Named entities every XML parser knows; the others are HTML's, unknown to XML without a DTD.
_XML_ENTITIES = frozenset({"amp", "lt", "gt", "quot", "apos"})
_NAMED = re.compile(rb"&([A-Za-z][A-Za-z0-9]{0,31});")
_STRICT = etree.XMLParser(resolve_entities=False, no_network=True, recover=False, huge_tree=False)


def severity(exception: object, content: bytes, headers: dict[str, str]) -> Severity:
    """How much feedparser's bozo exception matters once it has read entries from content.

    headers are the response's, by lower-case name, as feedparser was given them.
    """
    if exception is None or isinstance(exception, feedparser.NonXMLContentType):
        return None  # the media type is the server's business; the document read fine
    if isinstance(exception, feedparser.CharacterEncodingOverride):
        return None if _ascii_default(exception, headers) else "warning"
    if (
        isinstance(exception, xml.sax.SAXParseException)
        and exception.getMessage() == "undefined entity"
        and _well_formed_but_for_entities(content)
    ):
        # feedparser's lenient parser reads &nbsp; and &mdash; as HTML does: nothing is lost.
        return "warning"
    return "error"


def describe(exception: object) -> str:
    """One line for a warning."""
    if isinstance(exception, xml.sax.SAXParseException):
        where = f"line {exception.getLineNumber()}, column {exception.getColumnNumber()}"
        return f"uses HTML entity names that XML does not define, such as &nbsp; ({where})"
    return "its declared encoding was wrong: " + " ".join(str(exception).split())[:300]


def _well_formed_but_for_entities(content: bytes) -> bool:
    """Whether the document is well-formed XML once HTML's named entities are numbers.

    expat stops at the first undefined entity, so only this tells an untidy feed from one
    that is also broken further on (cut off, tags crossed), where entries may have been lost.
    """
    try:
        etree.fromstring(_NAMED.sub(_as_number, content), _STRICT)
    except etree.XMLSyntaxError:
        return False
    return True


def _as_number(match: re.Match[bytes]) -> bytes:
    name = match.group(1).decode("ascii")
    point = html.entities.name2codepoint.get(name)
    if point is None or name in _XML_ENTITIES:
        return match.group(0)
    return b"&#%d;" % point


def _ascii_default(exception: object, headers: dict[str, str]) -> bool:
    # RFC 3023 made text/xml without a charset US-ASCII; RFC 7303 undid that, and feedparser
    # still complains when such a feed holds UTF-8. The publisher did nothing wrong.
    kind = headers.get("content-type", "")
    return "declared as us-ascii" in str(exception) and "charset" not in kind.lower()
