"""Erasing one person deletes what names them, and nothing that names anyone else."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from newsletter.runtime import Runtime
from subscribers.erasure import erase, is_erased
from subscribers.models import RateLimit, Subscriber
from tests import factories

NOW = datetime(2026, 11, 26, 14, 0, tzinfo=UTC)


def test_erasing_an_address_with_wildcard_characters_spares_its_lookalikes(
    runtime: Runtime,
) -> None:
    with runtime.sessions.begin() as session:
        factories.add_subscriber(session, "a_b@example.org", NOW)
        for address in ("a_b@example.org", "axb@example.org", "a%b@example.org"):
            session.add(RateLimit(key=f"subscribe-email:{address}", window_start=NOW, count=1))
    with runtime.sessions.begin() as session:
        person = session.scalars(select(Subscriber)).one()
        erase(session, person, runtime.signing_key, NOW, "pub@example.org")
    with runtime.sessions() as session:
        left = set(session.scalars(select(RateLimit.key)))
        assert left == {"subscribe-email:axb@example.org", "subscribe-email:a%b@example.org"}
        assert is_erased(session, [runtime.signing_key], "A_B@example.org")
        assert not is_erased(session, [runtime.signing_key], "axb@example.org")
