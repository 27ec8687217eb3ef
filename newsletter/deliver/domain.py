"""The sending domain as receivers read it: SPF for the relay, the DKIM key, DMARC alignment."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import SMTP
from enum import StrEnum
from functools import cache
from urllib.parse import urlsplit

import dkim
import dns.exception
import dns.resolver
import spf
from publicsuffixlist import PublicSuffixList

from newsletter.config import Settings
from newsletter.deliver.message import MailSetup, sign
from newsletter.errors import MessageError, first_line

# Each DNS question waits at most this long: the doctor and the admin's report stay responsive.
LIFETIME = 5.0
# RFC 7208 section 4.6.4: an SPF evaluation makes at most 10 lookups; so does our walk.
MAX_LOOKUPS = 10
# Relay services send from their own addresses, not their SMTP endpoint's: SPF allows them by
# including the record each one documents.
PROVIDER_SPF = {
    "amazonaws.com": "amazonses.com",
    "sendgrid.net": "sendgrid.net",
    "mailgun.org": "mailgun.org",
    "postmarkapp.com": "spf.mtasv.net",
    "brevo.com": "spf.brevo.com",
    "sendinblue.com": "spf.brevo.com",
}


class Verdict(StrEnum):
    PASS = "pass"  # noqa: S105  (a verdict, not a password)
    WARN = "warn"
    FAIL = "fail"


@dataclass(frozen=True)
class Finding:
    check: str
    verdict: Verdict
    says: str


def _domain(address: str) -> str:
    return address.rpartition("@")[2].lower().rstrip(".")


def _txt(name: str) -> list[str]:
    """The TXT strings at `name` (each record's parts joined); none when there is no record."""
    try:
        answer = dns.resolver.resolve(name, "TXT", lifetime=LIFETIME, raise_on_no_answer=False)
    except (dns.resolver.NXDOMAIN, dns.resolver.NoNameservers):
        return []
    return [b"".join(record.strings).decode("utf-8", "replace") for record in answer]


def _addresses(host: str) -> list[str]:
    try:
        return [str(ipaddress.ip_address(host))]
    except ValueError:
        pass
    found = []
    for kind in ("A", "AAAA"):
        try:
            answer = dns.resolver.resolve(host, kind, lifetime=LIFETIME, raise_on_no_answer=False)
        except (dns.resolver.NXDOMAIN, dns.resolver.NoNameservers):
            continue
        found += [record.to_text() for record in answer]
    return found


def _spf_record(domain: str) -> str | None:
    records = [t for t in _txt(domain) if t.lower().startswith("v=spf1")]
    return records[0] if len(records) == 1 else None


def _includes(record: str, wanted: str) -> bool:
    """Whether `record` reaches include:`wanted`, through its includes and redirect."""
    queue, lookups = [record], 0
    while queue and lookups <= MAX_LOOKUPS:
        for term in queue.pop(0).split()[1:]:
            name, _, value = term.lstrip("+?~-").partition(":")
            if name.lower() == "include" and value.lower().rstrip(".") == wanted:
                return True
            key, _, target = term.partition("=")
            nested = value if name.lower() == "include" else target
            if name.lower() == "include" or key.lower() == "redirect":
                lookups += 1
                if (found := _spf_record(nested)) is not None:
                    queue.append(found)
    return False


def relay_hosts(settings: Settings) -> list[str]:
    """The SMTP servers mail leaves through; none when it goes to the outbox folder."""
    urls = [relay.url for relay in settings.delivery.relays] or [settings.smtp_url or ""]
    return [host for url in urls if url and (host := urlsplit(url).hostname)]


def check_spf(envelope_domain: str, hosts: list[str]) -> Finding:
    """Receivers check SPF on the envelope sender's domain (the bounce address)."""
    record = _spf_record(envelope_domain)
    if record is None:
        return Finding(
            "SPF",
            Verdict.FAIL,
            f'{envelope_domain} has no single SPF record (TXT "v=spf1 …"); receivers cannot '
            "tell that the relay may send for it",
        )
    if not hosts:
        return Finding(
            "SPF",
            Verdict.WARN,
            f"{envelope_domain}: {record!r}; mail goes to the outbox folder "
            "here, so there is no relay to check it against",
        )
    problems = []
    for host in hosts:
        provider = next(
            (inc for suffix, inc in PROVIDER_SPF.items() if host.endswith("." + suffix)), None
        )
        if provider is not None:
            if not _includes(record, provider):
                problems.append(f"{host} sends from {provider}'s addresses: add include:{provider}")
            continue
        addresses = _addresses(host)
        if not addresses:
            problems.append(f"{host} has no address in DNS")
        for address in addresses:
            result, explanation = spf.check2(
                i=address, s=f"bounces@{envelope_domain}", h=host, timeout=LIFETIME
            )
            if result != "pass":
                problems.append(f"{host} ({address}): {result}, {explanation}")
    if problems:
        return Finding("SPF", Verdict.FAIL, f"{envelope_domain}: " + "; ".join(problems))
    return Finding("SPF", Verdict.PASS, f"{envelope_domain} allows {', '.join(hosts)}")


def check_dkim(setup: MailSetup) -> Finding:
    """Sign a message as the sender does and verify it as a receiver would, from DNS."""
    key = setup.dkim
    if key is None:
        return Finding(
            "DKIM",
            Verdict.FAIL,
            "messages are not signed: Gmail and Yahoo ask bulk senders for DKIM (set "
            "delivery.dkim_selector, dkim_domain and dkim_private_key)",
        )
    name = f"{key.selector}._domainkey.{key.domain}"
    sample = EmailMessage(policy=SMTP)
    sample["From"] = setup.from_address
    sample["To"] = setup.from_address
    sample["Subject"] = "DKIM check"
    sample["Date"] = "Mon, 30 Nov 2026 12:00:00 +0000"
    sample["Message-ID"] = f"<dkim-check@{key.domain}>"
    sample.set_content("A message signed to check the published key.\n")
    try:
        verified = dkim.verify(sign(sample.as_bytes(), key), timeout=int(LIFETIME))
    except MessageError as exc:
        return Finding("DKIM", Verdict.FAIL, str(exc))
    except dkim.DKIMException as exc:
        return Finding("DKIM", Verdict.FAIL, f"{name}: {exc}")
    if not verified:
        found = "no key" if not _txt(f"{name}") else "a key that does not match our private key"
        return Finding("DKIM", Verdict.FAIL, f"{name} publishes {found}")
    return Finding("DKIM", Verdict.PASS, f"{name} publishes the key our messages are signed with")


@cache
def _suffixes() -> PublicSuffixList:
    """The public suffix list the package ships (read once; nothing is fetched)."""
    return PublicSuffixList()


def _tags(record: str) -> dict[str, str]:
    pairs = (part.partition("=") for part in record.split(";"))
    return {key.strip().lower(): value.strip() for key, _, value in pairs if key.strip()}


def _aligned(one: str, other: str, strict: bool, suffixes: PublicSuffixList) -> bool:
    if strict:
        return one == other
    return (suffixes.privatesuffix(one) or one) == (suffixes.privatesuffix(other) or other)


def check_dmarc(
    from_domain: str,
    envelope_domain: str,
    dkim_domain: str | None,
) -> Finding:
    """A DMARC record for the From domain (or its organisational domain), and an aligned pass."""
    suffixes = _suffixes()
    organisational = suffixes.privatesuffix(from_domain) or from_domain
    names = dict.fromkeys([f"_dmarc.{from_domain}", f"_dmarc.{organisational}"])
    record = next(
        (t for name in names for t in _txt(name) if t.lower().startswith("v=dmarc1")),
        None,
    )
    if record is None:
        return Finding(
            "DMARC",
            Verdict.FAIL,
            f"no DMARC record at _dmarc.{from_domain}: Gmail and Yahoo require one of bulk "
            'senders (start with TXT "v=DMARC1; p=none; rua=mailto:…")',
        )
    tags = _tags(record)
    policy = tags.get("p", "").lower()
    if policy not in ("none", "quarantine", "reject"):
        return Finding("DMARC", Verdict.FAIL, f"{record!r}: p= must be none, quarantine or reject")
    aligned = []
    if dkim_domain and _aligned(from_domain, dkim_domain, tags.get("adkim") == "s", suffixes):
        aligned.append(f"DKIM d={dkim_domain}")
    if _aligned(from_domain, envelope_domain, tags.get("aspf") == "s", suffixes):
        aligned.append(f"SPF {envelope_domain}")
    if not aligned:
        return Finding(
            "DMARC",
            Verdict.FAIL,
            f"p={policy}, but neither the DKIM domain ({dkim_domain or 'none'}) nor the bounce "
            f"domain ({envelope_domain}) aligns with From's {from_domain}",
        )
    verdict = Verdict.WARN if policy == "none" else Verdict.PASS
    note = " (monitoring only: receivers are asked to do nothing)" if policy == "none" else ""
    return Finding("DMARC", verdict, f"p={policy}{note}; aligned: {', '.join(aligned)}")


def check_unsubscribe(setup: MailSetup) -> Finding:
    """RFC 8058 one-click unsubscribe is offered only over https."""
    if setup.one_click:
        return Finding("One-click unsubscribe", Verdict.PASS, f"{setup.site_url} is https")
    return Finding(
        "One-click unsubscribe",
        Verdict.FAIL,
        f"{setup.site_url} is not https: mail carries no List-Unsubscribe-Post, which Gmail and "
        "Yahoo require of bulk senders",
    )


def _asked(check: str, ask: Callable[[], Finding]) -> Finding:
    """One check's finding; DNS that does not answer fails that check, not the others."""
    try:
        return ask()
    except dns.exception.Timeout:
        return Finding(check, Verdict.FAIL, f"no DNS answer within {LIFETIME:g} s")
    except dns.exception.DNSException as exc:
        return Finding(check, Verdict.FAIL, f"DNS: {first_line(exc)}")


def check_domain(settings: Settings, setup: MailSetup) -> list[Finding]:
    """Every check of the sending domain, in the order a receiver meets them.

    DNS is asked through dnspython's default resolver (the machine's resolv.conf), which SPF's
    and DKIM's libraries use too.
    """
    from_domain = _domain(setup.from_address)
    envelope = setup.bounce_domain.lower()
    dkim_domain = setup.dkim.domain if setup.dkim else None
    return [
        _asked("SPF", lambda: check_spf(envelope, relay_hosts(settings))),
        _asked("DKIM", lambda: check_dkim(setup)),
        _asked("DMARC", lambda: check_dmarc(from_domain, envelope, dkim_domain)),
        check_unsubscribe(setup),
    ]
