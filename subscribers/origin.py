"""Where a signup came from (page, referrer, utm_* tags): cleaned, bounded, kept with consent."""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit, urlunsplit

UTM_KEYS = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")
MAX_URL = 500
MAX_TAG = 100


@dataclass(frozen=True)
class SignupOrigin:
    """The page a form was on, the page that led there, and the campaign tags: all optional.

    URLs keep scheme, host and path only: a referrer's query can hold what a reader searched
    for, which is none of the list's business; the campaign's own utm_* tags are kept apart.
    """

    page: str = ""
    referrer: str = ""
    utm: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def read(cls, page: str, referrer: str, tags: Mapping[str, str]) -> SignupOrigin:
        """From hostile input: anything malformed becomes empty, never an error."""
        utm = {key: _tag(tags.get(key, "")) for key in UTM_KEYS}
        # A landing page's own query may carry the tags (an embed on a tagged article URL).
        for key, value in parse_qsl(_query(page))[:50]:
            if key in UTM_KEYS and not utm[key]:
                utm[key] = _tag(value)
        return cls(
            page=_place(page), referrer=_place(referrer), utm={k: v for k, v in utm.items() if v}
        )

    def as_json(self) -> dict[str, Any]:
        return {"page": self.page, "referrer": self.referrer, **self.utm}

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> SignupOrigin:
        data = data or {}
        utm = {key: str(data[key]) for key in UTM_KEYS if data.get(key)}
        return cls(str(data.get("page", "")), str(data.get("referrer", "")), utm)

    @property
    def source(self) -> str:
        """The one label editors filter and count by: the page's path, or its URL off-site."""
        return self.page

    def describe(self) -> str:
        """For the consent record: "at /topics/asylum, from https://…, utm_source=…"."""
        parts = [f"at {self.page}"] if self.page else []
        if self.referrer:
            parts.append(f"from {self.referrer}")
        parts.extend(f"{key}={value}" for key, value in self.utm.items())
        return ", ".join(parts)


def _place(value: str) -> str:
    """A path on this site ("/topics/asylum") or an http(s) URL without query; else ""."""
    text = _printable(value)[: MAX_URL * 4]
    # urlsplit raises ValueError on a malformed host or port: such a value is simply dropped.
    try:
        parts = urlsplit(text)
        if text.startswith("/") and not text.startswith("//"):
            return parts.path[:MAX_URL]
        if parts.scheme not in ("http", "https") or not parts.hostname:
            return ""
        host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
        host += f":{parts.port}" if parts.port is not None else ""
    except ValueError:
        return ""
    return urlunsplit((parts.scheme, host, parts.path, "", ""))[:MAX_URL]


def _query(value: str) -> str:
    try:
        return urlsplit(_printable(value)[: MAX_URL * 4]).query
    except ValueError:
        return ""


def _tag(value: str) -> str:
    return _printable(value).strip()[:MAX_TAG]


def _printable(value: str) -> str:
    """No control or format characters (they would reach a CSV, a log, an admin page)."""
    return "".join(
        ch for ch in str(value) if unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co")
    )
