"""The access log, without link tokens: their query values and /r/ paths are redacted."""

from __future__ import annotations

import logging
import sys
from urllib.parse import quote, unquote_plus

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from newsletter import LOG_FORMAT

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


def access_logger() -> logging.Logger:
    """`newsletter.access`, a line per request on standard output, whatever --verbose says."""
    logger = logging.getLogger("newsletter.access")
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stdout)
        handler.setFormatter(logging.Formatter(LOG_FORMAT))
        logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    return logger


class AccessLog:
    """ASGI middleware: a line per request as its answer starts, client as the app saw it.

    Outermost, so it sees clicks too; it reads the scope once the layers inside have run, so a
    client behind an allowed proxy is logged by its forwarded address.
    """

    def __init__(self, app: ASGIApp, logger: logging.Logger) -> None:
        self.app = app
        self.logger = logger

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def logged(message: Message) -> None:
            if message["type"] == "http.response.start":
                self.logger.info("%s", line(scope, message["status"]))
            await send(message)

        await self.app(scope, receive, logged)


def line(scope: Scope, status: int) -> str:
    """`host:port - "METHOD target HTTP/x" status`, the target redacted."""
    client = scope.get("client")
    address = f"{client[0]}:{client[1]}" if client else "-"
    query: bytes = scope.get("query_string", b"")
    # As uvicorn logged it: the decoded path quoted again, then the query as sent.
    target = quote(scope.get("root_path", "") + scope["path"])
    if query:
        target += "?" + query.decode("ascii", "replace")
    return f'{address} - "{scope["method"]} {redact(target)} HTTP/{scope["http_version"]}" {status}'
