"""Test copies ("proofs") of an issue for editors: the real message and transport, no records."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from newsletter.deliver.message import IssueMessage, MailSetup, Person
from newsletter.errors import MessageError
from newsletter.mail.transport import Transport
from newsletter.models import IssueVariant
from subscribers.addresses import normalise
from subscribers.errors import InvalidAddress

MAX_PROOF_ADDRESSES = 5
# A proof belongs to no subscriber: its personal links carry an id no subscriber has.
PROOF_SUBSCRIBER_ID = 0


def proof_addresses(raw: str) -> list[str]:
    """Addresses from a comma- or space-separated field, checked; at most a handful."""
    found: list[str] = []
    for part in raw.replace(",", " ").split():
        try:
            address = normalise(part)
        except InvalidAddress as exc:
            raise MessageError(f"{part!r} is not a valid email address: {exc}") from None
        if address not in found:
            found.append(address)
    if not found:
        raise MessageError("give at least one address to send the test to")
    if len(found) > MAX_PROOF_ADDRESSES:
        raise MessageError(f"a test goes to at most {MAX_PROOF_ADDRESSES} addresses at once")
    return found


def send_proofs(
    setup: MailSetup,
    variant: IssueVariant,
    addresses: Sequence[str],
    transport: Transport,
    now: datetime,
) -> None:
    """Send the variant as each address would get it, subject marked [TEST]; nothing is recorded.

    A transport failure propagates (TemporaryFailure / PermanentFailure) for the caller to show.
    """
    message = IssueMessage(
        setup,
        variant.issue_id,
        f"[TEST] {variant.subject}",
        variant.html,
        variant.text,
        now,
    )
    for address in addresses:
        rendered = message.render(Person(PROOF_SUBSCRIBER_ID, address, ""))
        transport.send(rendered.sender, [address], rendered.data)
