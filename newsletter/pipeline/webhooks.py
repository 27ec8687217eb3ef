"""Relay webhooks: a provider's call checked and read, each event applied like returned mail once.

Every event goes through deliver.bounces.settle(), the path a DSN takes: attributed by our
signed Message-ID or VERP tag only, never by the address a payload names. Each event's id is
kept with what it did, so a provider's retry (or a replayed call) changes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any

from sqlalchemy.exc import IntegrityError

from newsletter.config import Settings
from newsletter.deliver.bounces import Kind, settle
from newsletter.deliver.relay_events import brevo, mailgun, postmark, sendgrid, ses
from newsletter.deliver.relay_events.event import RelayEvent
from newsletter.deliver.relay_events.sns import Fetch, SigningCertificates, fetch_https
from newsletter.models import RelayEventSeen
from newsletter.runtime import Runtime

log = logging.getLogger(__name__)

PROVIDERS = ("ses", "postmark", "sendgrid", "mailgun", "brevo")
Reader = Callable[[Any, Mapping[str, str], bytes, datetime, int], list[RelayEvent]]


def configured(settings: Settings, provider: str) -> bool:
    """Whether /webhooks/<provider> takes calls: a known provider with its settings given."""
    return provider in PROVIDERS and getattr(settings.webhooks, provider) is not None


@dataclass
class Receipt:
    """What one call did, returned to the provider (counts only: no address, no secret)."""

    applied: int = 0
    duplicates: int = 0
    # Bounces and complaints that no Message-ID or VERP tag of ours names: nothing changed.
    unattributed: int = 0
    # Events that are no bounce, complaint or unsubscribe (deliveries, opens, confirmations).
    ignored: int = 0
    reasons: list[str] = field(default_factory=list)


@dataclass
class Webhooks:
    """The service's webhook receiver; `fetch` reaches SNS (tests pass one of their own)."""

    runtime: Runtime
    fetch: Fetch = fetch_https
    certificates: SigningCertificates = field(init=False)

    def __post_init__(self) -> None:
        self.certificates = SigningCertificates(self.fetch)

    def _reader(self, provider: str) -> Reader:
        if provider == "ses":
            return partial(ses.events, certificates=self.certificates)
        readers: dict[str, Reader] = {
            "postmark": postmark.events,
            "sendgrid": sendgrid.events,
            "mailgun": mailgun.events,
            "brevo": brevo.events,
        }
        return readers[provider]

    def receive(self, provider: str, headers: Mapping[str, str], body: bytes) -> Receipt:
        """Check and apply one call; WebhookRefused or WebhookInvalid when it is not taken."""
        runtime = self.runtime
        settings = runtime.settings
        now = runtime.clock.now()
        config = getattr(settings.webhooks, provider)
        events = self._reader(provider)(
            config, headers, body, now, settings.webhooks.max_age_seconds
        )
        receipt = Receipt()
        for event in events:
            self._apply(provider, event, now, receipt)
        log.info(
            "webhook %s: %d applied, %d duplicates, %d unattributed, %d ignored",
            provider,
            receipt.applied,
            receipt.duplicates,
            receipt.unattributed,
            receipt.ignored,
        )
        return receipt

    def _apply(self, provider: str, event: RelayEvent, now: datetime, receipt: Receipt) -> None:
        if event.finding.kind == Kind.NOT_A_BOUNCE:
            receipt.ignored += 1
            return
        runtime = self.runtime
        try:
            with runtime.sessions.begin() as session:
                if session.get(RelayEventSeen, (provider, event.event_id)) is not None:
                    receipt.duplicates += 1
                    return
                found = settle(
                    session,
                    runtime.verification_keys,
                    event.finding,
                    now,
                    runtime.settings.delivery.soft_bounce_limit,
                    event.detail,
                )
                outcome = "unattributed" if isinstance(found, str) else event.finding.kind.value
                session.add(
                    RelayEventSeen(
                        provider=provider, event_id=event.event_id, received_at=now, outcome=outcome
                    )
                )
        except IntegrityError:
            # The same event in a concurrent call, committed first: that one applied it.
            receipt.duplicates += 1
            return
        if isinstance(found, str):
            receipt.unattributed += 1
            receipt.reasons.append(f"{event.finding.kind.value}: {found}")
        else:
            receipt.applied += 1
