"""The one HTTP seam: allowed hosts, deadlines, a size cap, redirects, conditional GETs, retries."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass

import httpx

from newsletter.collect.guard import Guard, GuardedTransport, Resolver, origin, system_resolve
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
    """GETs with the collector's limits; pass a transport (httpx.MockTransport) to fake it.

    Every hop of every request goes through the guard (see guard.py): the source's own host is
    trusted, any other must be public, and each request and each source has a deadline. One
    Fetcher serves one thread.
    """

    def __init__(
        self,
        settings: CollectSettings,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        resolve: Resolver = system_resolve,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self.sleep = sleep
        self.clock = clock
        self.guard = Guard(resolve, clock)
        self.guard.trusted_hosts = frozenset(host.lower() for host in settings.trusted_hosts)
        self.in_source = False
        self.transport = transport
        self.client: httpx.Client | None = None
        self.source_deadline = math.inf

    @contextmanager
    def source(self, url: str, *, trusted: bool = True) -> Iterator[None]:
        """Fetches for one source: its configured host is trusted, its deadline covers them all.

        An address an editor typed in the admin is not the operator's choice: with
        trusted=False its host must be public like any other (or in [collect] trusted_hosts).

        Connections are not kept past the source: one made to a host this source trusts must
        not serve the next source, which may not.
        """
        try:
            home = origin(url)
        except (httpx.InvalidURL, UnicodeError) as exc:
            raise FetchError(f"{url}: invalid address ({_one_line(exc)})") from None
        outer = (self.guard.home, self.source_deadline, self.in_source)
        self.close()
        self.guard.home = home if trusted else None
        self.source_deadline = self.clock() + self.settings.source_deadline
        self.in_source = True
        try:
            yield
        finally:
            self.close()
            self.guard.home, self.source_deadline, self.in_source = outer

    def get(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        params: Mapping[str, str | int] | None = None,
        accept: str | None = None,
    ) -> Fetched:
        if not self.in_source:
            with self.source(url):
                return self.get(
                    url, etag=etag, last_modified=last_modified, params=params, accept=accept
                )
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
            except (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError) as exc:
                problem = f"{type(exc).__name__.lower()} ({_one_line(exc) or 'no answer'})"
                if isinstance(exc, httpx.TimeoutException):
                    problem = f"timed out after {self.settings.timeout:g}s"
                elif isinstance(exc, httpx.RemoteProtocolError):
                    problem = f"broken HTTP answer ({_one_line(exc)})"
            else:
                if fetched.status < 500:
                    return fetched
                problem = f"HTTP {fetched.status}"
            if attempt + 1 < attempts:
                delay = self.settings.backoff * 2**attempt
                if self.clock() + delay >= self.source_deadline:
                    break  # no time left for another try
                log.info("%s: %s, retrying in %.1fs", url, problem, delay)
                self.sleep(delay)
        raise FetchError(f"{url}: {problem} (tried {attempt + 1} times)")

    def _deadline_problem(self) -> str:
        if self.clock() >= self.source_deadline:
            return (
                f"source deadline exceeded ({self.settings.source_deadline:g}s "
                "for all of this source's requests)"
            )
        return f"deadline exceeded (no complete answer within {self.settings.request_deadline:g}s)"

    def _http(self) -> httpx.Client:
        if self.client is None:
            self.client = httpx.Client(
                transport=self.transport or GuardedTransport(self.guard),
                timeout=httpx.Timeout(self.settings.timeout),
                # Each hop is checked here before it is sent; see _once.
                follow_redirects=False,
                headers={"User-Agent": self.settings.user_agent},
                # No proxy from the environment: the address checks happen at our own connect.
                trust_env=False,
            )
        return self.client

    def _once(
        self, url: str, headers: dict[str, str], params: Mapping[str, str | int] | None
    ) -> Fetched:
        if self.clock() >= self.source_deadline:
            raise FetchError(f"{url}: {self._deadline_problem()}")
        self.guard.deadline = min(
            self.clock() + self.settings.request_deadline, self.source_deadline
        )
        self.guard.cut_short = False
        try:
            client = self._http()
            request = client.build_request("GET", url, headers=headers, params=params)
            for _hop in range(self.settings.max_redirects + 1):
                _check_scheme(url, request.url)
                response = client.send(request, stream=True)
                try:
                    if response.next_request is None:
                        return self._read(url, response)
                    request = response.next_request
                finally:
                    response.close()
            raise FetchError(f"{url}: more than {self.settings.max_redirects} redirects")
        except httpx.TimeoutException:
            if self.guard.cut_short or self.guard.expired():
                # The wait that ran out was the deadline's, not the per-read timeout's.
                raise FetchError(f"{url}: {self._deadline_problem()}") from None
            raise
        except httpx.InvalidURL as exc:
            raise FetchError(f"{url}: invalid address ({_one_line(exc)})") from None
        except httpx.DecodingError as exc:
            raise FetchError(f"{url}: undecodable response ({_one_line(exc)})") from None
        except httpx.UnsupportedProtocol as exc:
            raise FetchError(f"{url}: {_one_line(exc)}") from None
        except (httpx.LocalProtocolError, httpx.StreamError, httpx.ProxyError) as exc:
            raise FetchError(f"{url}: {type(exc).__name__} ({_one_line(exc)})") from None
        finally:
            self.guard.deadline = math.inf

    def _read(self, url: str, response: httpx.Response) -> Fetched:
        limit = self.settings.max_bytes
        if 400 <= response.status_code < 500:
            raise FetchError(f"{url}: HTTP {response.status_code}")
        declared = response.headers.get("content-length", "")
        if declared.isascii() and declared.isdigit() and int(declared) > limit:
            raise FetchError(f"{url}: {int(declared):,} bytes is over the {limit:,} cap")
        body = bytearray()
        for chunk in response.iter_bytes():
            body += chunk
            if len(body) > limit:
                raise FetchError(f"{url}: more than the {limit:,}-byte cap")
            if self.guard.expired():  # a transport that does not go through the guard
                raise FetchError(f"{url}: {self._deadline_problem()}")
        return Fetched(str(response.url), response.status_code, bytes(body), response.headers)

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
        if self.client is not None:
            self.client.close()
            self.client = None

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def _check_scheme(url: str, hop: httpx.URL) -> None:
    if hop.scheme not in ("http", "https"):
        scheme = f"{hop.scheme}:" if hop.scheme else "schemeless"
        raise FetchError(f"{url}: refused to follow a {scheme} link (only http and https)")


def _one_line(problem: object) -> str:
    return " ".join(str(problem).split())[:300]
