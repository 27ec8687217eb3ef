"""The one HTTP seam: timeouts, a size cap, a redirect cap, conditional requests, retries."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import httpx

from newsletter.collect.item import Harvest
from newsletter.config import CollectSettings
from newsletter.errors import FetchError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Fetched:
    """A response that passed every limit; `not_modified` is a 304 with an empty body."""

    url: str
    status: int
    content: bytes
    headers: httpx.Headers

    @property
    def not_modified(self) -> bool:
        return self.status == 304

    @property
    def etag(self) -> str | None:
        return _header(self.headers, "etag")

    @property
    def last_modified(self) -> str | None:
        return _header(self.headers, "last-modified")

    @property
    def content_type(self) -> str:
        return (_header(self.headers, "content-type") or "").split(";")[0].strip().lower()

    @property
    def charset(self) -> str | None:
        for part in (_header(self.headers, "content-type") or "").split(";")[1:]:
            key, _, value = part.partition("=")
            if key.strip().lower() == "charset" and value.strip():
                return value.strip().strip("\"'")
        return None


def _header(headers: httpx.Headers, name: str) -> str | None:
    value = headers.get(name)
    return str(value) if value is not None else None


class Fetcher:
    """GETs with the collector's limits; pass a transport (httpx.MockTransport) to fake it."""

    def __init__(
        self,
        settings: CollectSettings,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.settings = settings
        self.sleep = sleep
        self.client = httpx.Client(
            transport=transport,
            timeout=httpx.Timeout(settings.timeout),
            follow_redirects=True,
            max_redirects=settings.max_redirects,
            headers={"User-Agent": settings.user_agent},
        )

    def get(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        params: Mapping[str, str | int] | None = None,
        accept: str | None = None,
    ) -> Fetched:
        headers: dict[str, str] = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        if accept:
            headers["Accept"] = accept
        attempts = self.settings.retries + 1
        for attempt in range(attempts):
            try:
                fetched = self._once(url, headers, params)
            except (httpx.TimeoutException, httpx.NetworkError) as exc:
                problem = f"{type(exc).__name__.lower()} ({exc or 'no answer'})"
                if isinstance(exc, httpx.TimeoutException):
                    problem = f"timed out after {self.settings.timeout:g}s"
            else:
                if fetched.status < 500:
                    return fetched
                problem = f"HTTP {fetched.status}"
            if attempt + 1 < attempts:
                delay = self.settings.backoff * 2**attempt
                log.info("%s: %s, retrying in %.1fs", url, problem, delay)
                self.sleep(delay)
        raise FetchError(f"{url}: {problem} (tried {attempts} times)")

    def _once(
        self, url: str, headers: dict[str, str], params: Mapping[str, str | int] | None
    ) -> Fetched:
        limit = self.settings.max_bytes
        try:
            with self.client.stream("GET", url, headers=headers, params=params) as response:
                if 400 <= response.status_code < 500:
                    raise FetchError(f"{url}: HTTP {response.status_code}")
                declared = response.headers.get("content-length", "")
                if declared.isdigit() and int(declared) > limit:
                    raise FetchError(f"{url}: {int(declared):,} bytes is over the {limit:,} cap")
                body = bytearray()
                for chunk in response.iter_bytes():
                    body += chunk
                    if len(body) > limit:
                        raise FetchError(f"{url}: more than the {limit:,}-byte cap")
                return Fetched(
                    str(response.url), response.status_code, bytes(body), response.headers
                )
        except httpx.TooManyRedirects:
            raise FetchError(f"{url}: more than {self.settings.max_redirects} redirects") from None
        except httpx.InvalidURL as exc:
            raise FetchError(f"{url}: invalid address ({exc})") from None
        except httpx.DecodingError as exc:
            raise FetchError(f"{url}: undecodable response ({exc})") from None

    def conditional(
        self, url: str, etag: str | None, last_modified: str | None, accept: str
    ) -> tuple[Fetched, Harvest]:
        """A conditional GET and the harvest it starts, carrying the validators forward."""
        fetched = self.get(url, etag=etag, last_modified=last_modified, accept=accept)
        harvest = Harvest(
            base_url=fetched.url,
            not_modified=fetched.not_modified,
            etag=fetched.etag or etag,
            # A 304 may not repeat Last-Modified; the one we sent is still the right one.
            last_modified=fetched.last_modified
            or (last_modified if fetched.not_modified else None),
        )
        return fetched, harvest

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()
