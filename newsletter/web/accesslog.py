"""Uvicorn's access log without link tokens: their query values and /r/ paths are redacted."""

from __future__ import annotations

import copy
import logging
from typing import Any
from urllib.parse import unquote_plus

import uvicorn.config

# Query parameters whose values are secrets (confirm, unsubscribe and preference links).
SECRET_PARAMETERS = frozenset({"token", "api_key", "key", "password"})
# Paths whose every segment after the prefix is a token (tracked redirect links).
SECRET_PREFIXES = ("/r/",)
REDACTED = "[redacted]"


def redact(target: str) -> str:
    """A request target (path?query) as it may be logged."""
    path, question, query = target.partition("?")
    for prefix in SECRET_PREFIXES:
        if path.startswith(prefix) and len(path) > len(prefix):
            path = prefix + REDACTED
    if question:
        pairs = []
        for pair in query.split("&"):
            name, equals, _value = pair.partition("=")
            secret = equals and unquote_plus(name).strip().lower() in SECRET_PARAMETERS
            pairs.append(f"{name}={REDACTED}" if secret else pair)
        query = "&".join(pairs)
    return path + question + query


class RedactTokens(logging.Filter):
    """Rewrites the request target in uvicorn.access records; every record is still logged."""

    def filter(self, record: logging.LogRecord) -> bool:
        # uvicorn logs (client, method, path?query, http version, status) as the record's args.
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            record.args = (*args[:2], redact(args[2]), *args[3:])
        return True


def logging_config() -> dict[str, Any]:
    """Uvicorn's own logging configuration, with the filter on its access logger."""
    config = copy.deepcopy(uvicorn.config.LOGGING_CONFIG)
    config.setdefault("filters", {})["redact_tokens"] = {"()": RedactTokens}
    config["loggers"]["uvicorn.access"]["filters"] = ["redact_tokens"]
    return config
