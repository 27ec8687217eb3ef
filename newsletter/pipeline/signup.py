"""web form → subscribers: the signup policy (honeypot, rate limits, checks), then one queued row.

The confirmation sender (newsletter/confirmations.py) stores the request and mails the link;
nothing here tells a known address from a new one, in its answer or its timing.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from newsletter.metrics import SIGNUPS
from newsletter.runtime import Runtime
from subscribers.addresses import normalise
from subscribers.cadences import for_request, parse_cadence
from subscribers.errors import QueueFull, SubscribersError
from subscribers.models import Cadence
from subscribers.origin import SignupOrigin
from subscribers.queue import enqueue
from subscribers.ratelimit import DatabaseStore, Limit, RateLimiter
from subscribers.signup import check_name
from subscribers.topics import known_topics

log = logging.getLogger(__name__)


class TooManySignups(SubscribersError):
    """Over the per-client limit: this network has signed up too often in the window."""


@dataclass(frozen=True)
class SignupForm:
    email: str
    name: str
    topics: Sequence[str]
    honeypot: str  # a field people never see: only a bot fills it
    client: str  # the visitor's network address, for the per-client limit and the logs
    # The page, referrer and campaign, kept with the consent record.
    origin: SignupOrigin = field(default_factory=SignupOrigin)
    # "How often": one cadence for every topic ticked; blank is weekly.
    cadence: str = ""


def take_signup(runtime: Runtime, form: SignupForm) -> bool:
    """True when a request was queued (wake the sender); False when it was dropped unseen.

    Dropped (the honeypot, the per-address limit) answers as a queued one does. Raises
    TooManySignups, InvalidAddress, InvalidName, UnknownTopic, UnknownCadence (the form's
    fault, before any row is written) or QueueFull (too many wait to be sent).
    """
    settings = runtime.settings.subscribers
    now = runtime.clock.now()
    if form.honeypot:
        log.info("signup from %s dropped: the honeypot field was filled", form.client)
        return False
    limiter = RateLimiter(DatabaseStore(runtime.sessions))
    window = settings.rate_limit_window
    per_client = Limit("subscribe-client", settings.rate_limit_per_client, window)
    if not limiter.allow(per_client, form.client, now):
        log.warning("signup from %s refused: over the per-client rate limit", form.client)
        raise TooManySignups("too many signups from this network")
    with runtime.sessions() as session:
        address = normalise(form.email, check_deliverability=settings.check_deliverability)
        name = check_name(form.name)
        topics = known_topics(session)
        chosen = topics.ids(form.topics)
        cadence = parse_cadence(form.cadence, runtime.cadences)
    if not chosen and cadence != Cadence.WEEKLY:
        # No topic ticked means every topic; a cadence other than weekly needs them by name.
        chosen = topics.all
    # Over the per-address limit the visitor sees the same page: it must not tell anyone
    # whether the address is known, and a real owner has already been mailed.
    per_address = Limit("subscribe-email", settings.rate_limit_per_email, window)
    if not limiter.allow(per_address, address, now):
        log.warning("signup for an address from %s dropped: per-address rate limit", form.client)
        return False
    # The same work for every address, known or not: one row queued.
    try:
        with runtime.sessions.begin() as session:
            enqueue(
                session,
                address,
                name,
                chosen,
                form.client,
                now,
                form.origin.as_json(),
                cadences=for_request(dict.fromkeys(chosen, cadence)),
            )
    except QueueFull as exc:
        log.warning("signup from %s refused: %s", form.client, exc)
        raise
    SIGNUPS.inc()
    return True


def take_link_request(runtime: Runtime, email: str, client: str) -> bool:
    """A reader whose link expired asks for fresh ones: queue it, known address or not.

    The sender mails an active subscriber their preferences and unsubscribe links, a pending
    one the confirmation again, anyone else nothing; the answer is the same for all. Raises
    TooManySignups (per client), InvalidAddress (not an address at all) or QueueFull.
    """
    settings = runtime.settings.subscribers
    now = runtime.clock.now()
    limiter = RateLimiter(DatabaseStore(runtime.sessions))
    window = settings.rate_limit_window
    if not limiter.allow(
        Limit("links-client", settings.rate_limit_per_client, window), client, now
    ):
        log.warning("new-link request from %s refused: over the per-client rate limit", client)
        raise TooManySignups("too many requests from this network")
    address = normalise(email, check_deliverability=False)
    # One email an address a window at most: asking again must not flood anyone's inbox.
    if not limiter.allow(Limit("links-email", settings.rate_limit_per_email, window), address, now):
        log.warning("new-link request from %s dropped: per-address rate limit", client)
        return False
    with runtime.sessions.begin() as session:
        enqueue(session, address, "", frozenset(), client, now, kind="links")
    return True
