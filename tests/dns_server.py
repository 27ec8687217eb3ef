"""A real DNS server (dnslib) on a free local port, answering from a zone the test writes."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import dns.resolver
from dnslib.server import DNSLogger, DNSServer
from dnslib.zoneresolver import ZoneResolver


def txt(name: str, value: str) -> str:
    """A TXT record line, split in 255-byte strings as DNS requires of long values (DKIM keys)."""
    parts = " ".join(f'"{value[i : i + 255]}"' for i in range(0, len(value), 255))
    return f"{name}. 300 IN TXT {parts}"


@contextmanager
def dns_server(records: list[str]) -> Iterator[dns.resolver.Resolver]:
    """Serve `records` (zone-file lines) on UDP; dnspython's default resolver asks it, as do
    the SPF and DKIM libraries, until the block ends."""
    quiet = DNSLogger(logf=lambda line: None)
    server = DNSServer(ZoneResolver("\n".join(records)), port=0, address="127.0.0.1", logger=quiet)
    server.start_thread()
    resolver = dns.resolver.Resolver(configure=False)
    resolver.nameservers = ["127.0.0.1"]
    resolver.port = server.server.server_address[1]
    before = dns.resolver.default_resolver
    dns.resolver.default_resolver = resolver
    try:
        yield resolver
    finally:
        dns.resolver.default_resolver = before
        server.stop()
