"""The address rule on its own: which addresses are refused, and that the checked one is used."""

from __future__ import annotations

import ipaddress
import math
import threading
import time
from collections.abc import Iterable

import httpcore
import pytest

from newsletter.collect.guard import (
    Guard,
    GuardedBackend,
    Resolver,
    forbidden,
    public_addresses,
)
from newsletter.errors import FetchError

REFUSED = [
    "127.0.0.1",
    "127.255.0.9",
    "0.0.0.0",
    "10.1.2.3",
    "172.16.0.1",
    "192.168.1.1",
    "100.64.0.1",  # carrier-grade NAT
    "169.254.169.254",  # AWS, GCP, Azure, OCI metadata
    "169.254.1.1",
    "224.0.0.1",
    "239.255.255.250",
    "240.0.0.1",
    "255.255.255.255",
    "168.63.129.16",  # Azure's wire server: a public address, still metadata
    "::",
    "::1",
    "fe80::1",
    "fc00::1",
    "fd00:ec2::254",  # AWS metadata over IPv6
    "ff02::1",
    "::ffff:127.0.0.1",  # IPv4-mapped
    "::ffff:169.254.169.254",
    "::ffff:10.0.0.1",
    "64:ff9b::7f00:1",  # NAT64 to 127.0.0.1
    "2002:7f00:1::1",  # 6to4 around 127.0.0.1
    "2001:db8::1",  # documentation
]
ALLOWED = ["93.184.215.14", "8.8.8.8", "2606:4700:4700::1111", "::ffff:8.8.8.8"]


@pytest.mark.parametrize("text", REFUSED)
def test_refused_addresses(text: str) -> None:
    assert forbidden(ipaddress.ip_address(text)) is not None


@pytest.mark.parametrize("text", ALLOWED)
def test_public_addresses_pass(text: str) -> None:
    assert forbidden(ipaddress.ip_address(text)) is None


def resolver(table: dict[str, list[str]]) -> tuple[list[str], Resolver]:
    asked: list[str] = []

    def resolve(host: str, port: int) -> list[str]:
        asked.append(host)
        return table[host]

    return asked, resolve


def test_every_resolved_address_is_checked() -> None:
    _asked, resolve = resolver(
        {"mixed.test": ["93.184.215.14", "127.0.0.1"], "fine.test": ["93.184.215.14", "8.8.8.8"]}
    )
    with pytest.raises(FetchError, match=r"mixed.test \(127.0.0.1\): a loopback address"):
        public_addresses("mixed.test", 80, resolve)
    assert public_addresses("fine.test", 80, resolve) == ["93.184.215.14", "8.8.8.8"]


def test_literal_addresses_are_not_resolved() -> None:
    asked, resolve = resolver({})
    with pytest.raises(FetchError, match=r"169\.254\.169\.254: a cloud metadata address"):
        public_addresses("169.254.169.254", 80, resolve)
    with pytest.raises(FetchError, match="inside an IPv6 address"):
        public_addresses("::ffff:7f00:1", 80, resolve)
    assert asked == []


class Recorder(httpcore.NetworkBackend):
    """Records where it was asked to connect; every connection is a mock one."""

    def __init__(self) -> None:
        self.connected: list[tuple[str, int]] = []

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        self.connected.append((host, port))
        return httpcore.MockStream([])


def guarded(
    table: dict[str, list[str]], home: str | None = None
) -> tuple[GuardedBackend, Recorder]:
    answers = {host: iter(values) for host, values in table.items()}

    # Each lookup gets the next answer: a rebinding DNS server.
    def resolve(host: str, _port: int) -> list[str]:
        return [next(answers[host])]

    guard = Guard(resolve)
    guard.home = (home, 80) if home else None
    backend = GuardedBackend(guard)
    recorder = Recorder()
    backend.inner = recorder  # type: ignore[assignment]
    return backend, recorder


def test_connects_to_the_address_it_checked_not_the_name() -> None:
    backend, recorder = guarded({"rebind.test": ["93.184.215.14", "127.0.0.1"]})
    backend.connect_tcp("rebind.test", 80, timeout=1)
    # One lookup, checked, and the socket opened to that very address: a second answer
    # (127.0.0.1) is never asked for, so it cannot be used.
    assert recorder.connected == [("93.184.215.14", 80)]


def test_refused_before_any_connection() -> None:
    backend, recorder = guarded({"inside.test": ["10.0.0.7"]})
    with pytest.raises(FetchError, match="a private address"):
        backend.connect_tcp("inside.test", 80, timeout=1)
    assert recorder.connected == []


def test_the_configured_host_is_trusted_and_only_it() -> None:
    backend, recorder = guarded({"localhost": ["127.0.0.1"]}, home="127.0.0.1")
    backend.connect_tcp("127.0.0.1", 80, timeout=1)
    backend.connect_tcp("127.0.0.1", 443, timeout=1)  # the same host over https
    assert recorder.connected == [("127.0.0.1", 80), ("127.0.0.1", 443)]
    with pytest.raises(FetchError, match="a loopback address"):
        backend.connect_tcp("127.0.0.1", 6379, timeout=1)  # another service on that host
    with pytest.raises(FetchError, match="a loopback address"):
        backend.connect_tcp("localhost", 80, timeout=1)  # another name for it


def test_a_passed_deadline_refuses_to_wait() -> None:
    now = [100.0]
    guard = Guard(clock=lambda: now[0])
    guard.deadline = 105.0
    assert guard.wait(20.0, httpcore.ReadTimeout) == 5.0
    assert guard.cut_short
    assert guard.wait(2.0, httpcore.ReadTimeout) == 2.0
    assert not guard.cut_short
    guard.deadline = math.inf
    assert guard.wait(None, httpcore.ReadTimeout) is None
    assert not guard.cut_short
    guard.deadline = 105.0
    now[0] = 105.0
    with pytest.raises(httpcore.ReadTimeout, match="deadline exceeded"):
        guard.wait(2.0, httpcore.ReadTimeout)


def test_a_stuck_lookup_ends_at_the_deadline() -> None:
    release = threading.Event()

    def stuck(_host: str, _port: int) -> list[str]:
        release.wait(10)
        return ["93.184.215.14"]

    guard = Guard(stuck)
    guard.deadline = time.monotonic() + 0.2
    try:
        with pytest.raises(httpcore.ConnectTimeout, match=r"resolving slow\.test took longer"):
            GuardedBackend(guard).connect_tcp("slow.test", 80, timeout=5)
    finally:
        release.set()
