"""JSON documents from sources: parsed, or one SourceFormatError that says where and why."""

from __future__ import annotations

import json
from typing import Any

from newsletter.errors import SourceFormatError


def load(content: bytes, where: str, invalid: str = "invalid JSON") -> Any:
    """The parsed document; SourceFormatError "{where}: {invalid} (why)" when it is not JSON."""
    try:
        return json.loads(content)
    except (ValueError, UnicodeDecodeError) as exc:
        raise SourceFormatError(f"{where}: {invalid} ({exc})") from None
    except RecursionError:
        raise SourceFormatError(f"{where}: JSON nested too deeply") from None
