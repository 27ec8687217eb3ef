"""Where and how long the collector may connect: public addresses only, checked at connect.

A source's feed is written by someone else, so every redirect is theirs to choose. The rule:
the operator's own choice, the host of the source's configured URL, is trusted as it is (the
demo and an intranet source may live on 127.0.0.1); every other host must resolve only to
public addresses. The check runs inside the connection itself (an httpcore network backend):
the name is resolved once, every address is checked, and the socket is opened to a checked
address, so a DNS answer that changes between check and connect (rebinding) is never used.
TLS still verifies the certificate against the host name, which httpcore passes separately.
Names are resolved here for the trusted host too, so that a slow lookup is bounded as well.

The same backend enforces the deadline: every connect, read and write waits at most until the
current request's deadline, so a server dripping one byte at a time cannot outlast it.
"""

from __future__ import annotations

import ipaddress
import math
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager

import httpcore
import httpx

from newsletter.errors import FetchError

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], list[str]]

# Cloud metadata services; most are link-local or private anyway, Azure's is a public address.
METADATA = frozenset(
    ipaddress.ip_address(text)
    for text in (
        "169.254.169.254",
        "169.254.170.2",
        "fd00:ec2::254",
        "100.100.100.200",
        "168.63.129.16",
    )
)
# NAT64 prefixes (RFC 6052, RFC 8215): the last 32 bits are the IPv4 address reached.
_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))


def system_resolve(host: str, port: int) -> list[str]:
    """Every address the system resolver gives for host, in its order, without repeats."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from None
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def forbidden(address: Address) -> str | None:
    """Why the collector may not connect to this address, or None for a public one."""
    if address in METADATA:
        return "a cloud metadata address"
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            why = forbidden(embedded)
            return f"{why}, inside an IPv6 address" if why else None
    for why, test in (
        ("an unspecified", address.is_unspecified),
        ("a loopback", address.is_loopback),
        ("a link-local", address.is_link_local),
        ("a multicast", address.is_multicast),
        ("a private", address.is_private),
        ("a reserved", address.is_reserved),
    ):
        if test:
            return f"{why} address"
    if not address.is_global:
        return "not a public address"
    return None


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 form reaches: mapped, 6to4, Teredo or NAT64."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if any(address in prefix for prefix in _NAT64):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def public_addresses(host: str, port: int, resolve: Resolver) -> list[str]:
    """Every address host resolves to, if all are public; FetchError names the first that is not.

    All of them, not just one: the one connected to must be one that was checked.
    """
    literal = _literal(host)
    return _checked(host, [str(literal)] if literal else resolve(host, port), bool(literal))


def _literal(host: str) -> Address | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def _checked(host: str, texts: list[str], literal: bool) -> list[str]:
    if not texts:
        raise httpcore.ConnectError(f"{host} has no address")
    for text in texts:
        address = ipaddress.ip_address(text.split("%")[0])
        why = forbidden(address)
        if why:
            shown = host if literal else f"{host} ({address})"
            raise FetchError(f"refused to connect to {shown}: {why}")
    return texts


def origin(url: str | httpx.URL) -> tuple[str, int]:
    """(host as sent on the wire, port) of a URL: the IDNA form, the scheme's default port."""
    parsed = httpx.URL(url)
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    return parsed.raw_host.decode("ascii").lower(), port


class Guard:
    """The current request's rules: the trusted (configured) host and the deadline.

    One Fetcher, used by one thread, owns it and changes it between requests.
    """

    def __init__(
        self, resolve: Resolver = system_resolve, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.resolve = resolve
        self.clock = clock
        self.home: tuple[str, int] | None = None
        # Hosts the operator trusts whoever typed them ([collect] trusted_hosts): an intranet.
        self.trusted_hosts: frozenset[str] = frozenset()
        self.deadline = math.inf
        # True when the last wait was shortened by the deadline: its timeout is the deadline's.
        self.cut_short = False

    def trusts(self, host: str, port: int) -> bool:
        """The configured URL's host, on its port or the standard ones (http → https)."""
        if host.lower() in self.trusted_hosts:
            return True
        if self.home is None:
            return False
        home_host, home_port = self.home
        return host.lower() == home_host and port in (home_port, 80, 443)

    def addresses(self, host: str, port: int, timeout: float | None) -> list[str]:
        """The addresses to try, in order: checked unless the host is the trusted one."""
        literal = _literal(host)
        texts = [str(literal)] if literal else self._lookup(host, port, timeout)
        return texts if self.trusts(host, port) else _checked(host, texts, bool(literal))

    def _lookup(self, host: str, port: int, timeout: float | None) -> list[str]:
        """The resolver's answer, waited for no longer than a connect may take.

        getaddrinfo cannot be interrupted; a stuck lookup is left to finish on its own thread.
        """
        wait = self.wait(timeout, httpcore.ConnectTimeout)
        answer: list[list[str] | Exception] = []

        def work() -> None:
            try:
                answer.append(self.resolve(host, port))
            except Exception as exc:  # handed to the caller's thread below
                answer.append(exc)

        thread = threading.Thread(target=work, name=f"resolve {host}", daemon=True)
        thread.start()
        thread.join(wait)
        if not answer:
            raise httpcore.ConnectTimeout(f"resolving {host} took longer than {wait:g}s")
        if isinstance(answer[0], Exception):
            raise answer[0]
        return answer[0]

    def expired(self) -> bool:
        return self.clock() >= self.deadline

    def wait(self, timeout: float | None, late: type[Exception]) -> float | None:
        """timeout, shortened to what is left before the deadline; `late` once it has passed."""
        left = self.deadline - self.clock()
        self.cut_short = left <= 0 or (math.isfinite(left) and (timeout is None or left < timeout))
        if left <= 0:
            raise late("deadline exceeded")
        return left if self.cut_short else timeout


class GuardedStream(httpcore.NetworkStream):
    """A socket stream whose every wait ends by the guard's deadline."""

    def __init__(self, inner: httpcore.NetworkStream, guard: Guard) -> None:
        self.inner = inner
        self.guard = guard

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self.inner.read(max_bytes, self.guard.wait(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self.inner.write(buffer, self.guard.wait(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self.inner.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        wait = self.guard.wait(timeout, httpcore.ConnectTimeout)
        return GuardedStream(self.inner.start_tls(ssl_context, server_hostname, wait), self.guard)

    def get_extra_info(self, info: str) -> object:
        return self.inner.get_extra_info(info)


class GuardedBackend(httpcore.NetworkBackend):
    """Connects only to addresses the guard allows, and to exactly the ones it checked."""

    def __init__(self, guard: Guard) -> None:
        self.guard = guard
        self.inner = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        failure: Exception = httpcore.ConnectError(f"cannot connect to {host}")
        for address in self.guard.addresses(host, port, timeout):
            wait = self.guard.wait(timeout, httpcore.ConnectTimeout)
            try:
                stream = self.inner.connect_tcp(address, port, wait, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc  # like socket.create_connection: try the next address
                continue
            return GuardedStream(stream, self.guard)
        raise failure

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        raise FetchError("the collector does not use Unix sockets")

    def sleep(self, seconds: float) -> None:
        self.inner.sleep(seconds)


# httpcore's errors as httpx names them, most specific first (as httpx's own transport does).
_ERRORS: tuple[tuple[type[Exception], type[httpx.HTTPError]], ...] = (
    (httpcore.ConnectTimeout, httpx.ConnectTimeout),
    (httpcore.ReadTimeout, httpx.ReadTimeout),
    (httpcore.WriteTimeout, httpx.WriteTimeout),
    (httpcore.PoolTimeout, httpx.PoolTimeout),
    (httpcore.TimeoutException, httpx.TimeoutException),
    (httpcore.ConnectError, httpx.ConnectError),
    (httpcore.ReadError, httpx.ReadError),
    (httpcore.WriteError, httpx.WriteError),
    (httpcore.NetworkError, httpx.NetworkError),
    (httpcore.RemoteProtocolError, httpx.RemoteProtocolError),
    (httpcore.LocalProtocolError, httpx.LocalProtocolError),
    (httpcore.ProtocolError, httpx.ProtocolError),
    (httpcore.UnsupportedProtocol, httpx.UnsupportedProtocol),
    (httpcore.ProxyError, httpx.ProxyError),
)


@contextmanager
def _as_httpx() -> Iterator[None]:
    try:
        yield
    except Exception as exc:
        for theirs, ours in _ERRORS:
            if isinstance(exc, theirs):
                raise ours(str(exc)) from exc
        raise


class _Body(httpx.SyncByteStream):
    def __init__(self, inner: Iterable[bytes]) -> None:
        self.inner = inner

    def __iter__(self) -> Iterator[bytes]:
        with _as_httpx():
            yield from self.inner

    def close(self) -> None:
        close = getattr(self.inner, "close", None)
        if close is not None:
            close()


class GuardedTransport(httpx.BaseTransport):
    """httpx's HTTP/1.1 transport over the guarded backend (httpx has no backend option)."""

    def __init__(self, guard: Guard) -> None:
        self.pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(),
            network_backend=GuardedBackend(guard),
            max_connections=10,
            max_keepalive_connections=5,
        )

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        assert isinstance(request.stream, httpx.SyncByteStream)
        core = httpcore.Request(
            method=request.method,
            url=httpcore.URL(
                scheme=request.url.raw_scheme,
                host=request.url.raw_host,
                port=request.url.port,
                target=request.url.raw_path,
            ),
            headers=request.headers.raw,
            content=request.stream,
            extensions=request.extensions,
        )
        with _as_httpx():
            response = self.pool.handle_request(core)
        assert isinstance(response.stream, Iterable)
        return httpx.Response(
            status_code=response.status,
            headers=response.headers,
            stream=_Body(response.stream),
            extensions=response.extensions,
        )

    def close(self) -> None:
        self.pool.close()


def guarded_client(
    seconds: float,
    timeout: float,
    *,
    home: tuple[str, int] | None = None,
    trusted_hosts: Iterable[str] = (),
) -> httpx.Client:
    """A client for calls made on the service's own initiative (WebSub pings, webhooks): public
    addresses only but for `home` and `trusted_hosts`, every wait within `seconds` from now."""
    guard = Guard()
    guard.home = home
    guard.trusted_hosts = frozenset(host.lower() for host in trusted_hosts)
    guard.deadline = guard.clock() + seconds
    # No proxy from the environment: it would bypass the guarded connection and its deadline.
    return httpx.Client(transport=GuardedTransport(guard), timeout=timeout, trust_env=False)
