"""The double opt-in email: built from templates, sent at most once per interval per address."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage

from jinja2 import Environment
from sqlalchemy import select
from sqlalchemy.orm import Session

from newsletter.config import Settings
from newsletter.deliver.transactional import from_templates
from newsletter.errors import NewsletterError, first_line
from newsletter.mail.transport import Transport
from newsletter.models import Topic
from newsletter.runtime import Runtime
from newsletter.welcome import drain_welcomes
from subscribers import queue
from subscribers.cadences import from_request
from subscribers.erasure import is_erased
from subscribers.links import link
from subscribers.models import SignupRequest, Status, Subscriber, SubscriberTopic
from subscribers.origin import SignupOrigin
from subscribers.signup import claim_confirmation, release_confirmation, signup
from subscribers.tokens import Purpose
from subscribers.topics import known_topics

log = logging.getLogger(__name__)


def build_confirmation(
    settings: Settings,
    templates: Environment,
    *,
    to: str,
    confirm_url: str,
    topics: list[str],
    now: datetime,
) -> EmailMessage:
    """A multipart text + HTML message with nothing in it that the visitor typed.

    Anyone can put any address in the signup form: a name (or any other visitor text) in this
    email would let them send their words from our domain to a stranger.
    """
    context = {
        "site": settings.site,
        "organization": settings.organization,
        "confirm_url": confirm_url,
        "topics": topics,
        "max_age_days": settings.subscribers.confirmation_max_age_days,
    }
    return from_templates(settings, templates, "confirm", to=[to], context=context, now=now)


@dataclass
class SendReport:
    sent: list[int] = field(default_factory=list)
    # Already mailed within the resend interval, or no longer pending.
    skipped: list[int] = field(default_factory=list)
    failed: dict[int, str] = field(default_factory=dict)


def _topic_names(session: Session, subscriber_id: int) -> list[str]:
    return list(
        session.scalars(
            select(Topic.name)
            .join(SubscriberTopic, SubscriberTopic.topic_id == Topic.id)
            .where(SubscriberTopic.subscriber_id == subscriber_id)
            .order_by(Topic.name)
        )
    )


def _confirmation(
    session: Session,
    settings: Settings,
    templates: Environment,
    secret: str,
    subscriber: Subscriber,
    now: datetime,
) -> EmailMessage:
    """The confirmation mail for one subscriber, with a fresh signed link."""
    url = link(
        settings.site.base_url, secret, Purpose.CONFIRM, subscriber.id, subscriber.email, now
    )
    return build_confirmation(
        settings,
        templates,
        to=subscriber.email,
        confirm_url=url,
        topics=_topic_names(session, subscriber.id),
        now=now,
    )


def send_confirmations(
    runtime: Runtime, templates: Environment, transport: Transport, subscriber_ids: list[int]
) -> SendReport:
    """Mail each pending subscriber its confirmation link, at most once per resend interval.

    The send time is claimed (and committed) before the email goes out, so that concurrent
    signups send one email; a failed send gives the claim back and is logged. The subscriber
    stays stored as pending either way: nothing the visitor typed is lost.
    """
    settings = runtime.settings
    interval = timedelta(hours=settings.subscribers.confirmation_resend_hours)
    secret = runtime.signing_key
    report = SendReport()
    for subscriber_id in subscriber_ids:
        now = runtime.clock.now()
        with runtime.sessions.begin() as session:
            claim = claim_confirmation(session, subscriber_id, now, interval)
            subscriber = session.get(Subscriber, subscriber_id) if claim.granted else None
            if subscriber is None:
                report.skipped.append(subscriber_id)
                continue
            message = _confirmation(session, settings, templates, secret, subscriber, now)
            email = subscriber.email
        try:
            transport.send(settings.mail.from_address, [email], message.as_bytes())
        except (OSError, NewsletterError) as exc:
            # Any transport fault (a refusal, a full disk under the outbox): one line, no traceback.
            log.error("confirmation email to subscriber %s failed: %s", subscriber_id, _why(exc))
            with runtime.sessions.begin() as session:
                release_confirmation(session, subscriber_id, claim.previous)
            report.failed[subscriber_id] = _why(exc)
            continue
        report.sent.append(subscriber_id)
    return report


def _why(exc: BaseException) -> str:
    """One line naming the fault; an OSError's message alone ("[Errno 28] ...") is too terse."""
    if isinstance(exc, OSError):
        return f"{type(exc).__name__}: {first_line(exc)}"
    return first_line(exc)


# -- the signup queue: what the web form took, sent off the request path ----------------------


@dataclass
class DrainReport:
    sent: int = 0
    # Active already, mailed within the resend interval, or no longer pending: nothing to send.
    skipped: int = 0
    retrying: int = 0
    given_up: int = 0


@dataclass(frozen=True)
class _Outgoing:
    subscriber_id: int
    email: str
    message: EmailMessage
    attempts: int


def drain_signups(
    runtime: Runtime,
    templates: Environment,
    transport_factory: Callable[[], Transport],
    stop: threading.Event | None = None,
    limit: int = 500,
) -> DrainReport:
    """Store each due signup request and mail its confirmation; failed sends are retried later.

    A request is deleted only once its email went out (or none is owed), so a crash at any
    point leaves it to be picked up again when its lease runs out.
    """
    report = DrainReport()
    with runtime.sessions() as session:
        ids = queue.due(session, runtime.clock.now(), limit)
    if not ids:
        return report
    transport = transport_factory()
    try:
        for request_id in ids:
            if stop is not None and stop.is_set():
                break
            try:
                _work_on(runtime, templates, transport, request_id, report)
            except Exception as exc:  # one bad request must not hold up the others
                log.error("signup request %s: %s", request_id, _why(exc))
    finally:
        transport.close()
    return report


def _prepare(runtime: Runtime, templates: Environment, request_id: int) -> _Outgoing | None:
    """Lease the request, store the signup, claim the send; None when nothing is to be sent."""
    settings = runtime.settings
    interval = timedelta(hours=settings.subscribers.confirmation_resend_hours)
    now = runtime.clock.now()
    # The lease is committed on its own: whatever goes wrong next, the request is hidden for
    # the lease and its attempt counted, so a request that always fails cannot spin.
    with runtime.sessions.begin() as session:
        leased = queue.lease(session, request_id, now)
        if leased is not None and leased.attempts > queue.MAX_ATTEMPTS:
            log.error("signup request %s failed %s times; dropped", request_id, queue.MAX_ATTEMPTS)
            session.delete(leased)
            leased = None
    if leased is None:
        return None  # another sender has it, or it was dropped
    with runtime.sessions.begin() as session:
        request = session.get(SignupRequest, request_id)
        if request is None:
            return None
        if request.kind == "links":
            subscriber = session.scalar(select(Subscriber).where(Subscriber.email == request.email))
            if subscriber is None or subscriber.status not in (Status.ACTIVE, Status.PENDING):
                session.delete(request)  # nobody to send links to: the same answer was given
                return None
            if subscriber.status == Status.ACTIVE:
                return _links(session, runtime, templates, request, subscriber, now)
            request.subscriber_id = subscriber.id  # pending: the confirmation, as below
        if request.subscriber_id is None and is_erased(
            session, runtime.verification_keys, request.email
        ):
            # Erased at the person's request: never stored or mailed again, whoever asks.
            log.info("signup request %s dropped: the address was erased", request_id)
            session.delete(request)
            return None
        if request.subscriber_id is None:
            # Topics removed from the site since the signup are dropped, not an error.
            outcome = signup(
                session,
                request.email,
                request.name,
                known_topics(session).all & set(request.topics),
                now,
                client_address=request.client_address,
                origin=SignupOrigin.from_json(request.origin),
                cadences=from_request(request.cadences),
            )
            if not outcome.needs_confirmation:
                session.delete(request)
                return None
            request.subscriber_id = outcome.subscriber_id
        subscriber = session.get(Subscriber, request.subscriber_id)
        if subscriber is None or subscriber.status != Status.PENDING:
            session.delete(request)
            return None
        if request.claimed_at is not None and subscriber.confirmation_sent_at == request.claimed_at:
            # Our own claim, left by a sender that stopped before it could send: send it now.
            subscriber.confirmation_sent_at = now
        else:
            claim = claim_confirmation(session, subscriber.id, now, interval)
            if not claim.granted:
                session.delete(request)  # one went out within the resend interval
                return None
            request.previous_sent_at = claim.previous
        request.claimed_at = now
        message = _confirmation(session, settings, templates, runtime.signing_key, subscriber, now)
        return _Outgoing(subscriber.id, subscriber.email, message, request.attempts)


def _links(
    session: Session,
    runtime: Runtime,
    templates: Environment,
    request: SignupRequest,
    subscriber: Subscriber,
    now: datetime,
) -> _Outgoing:
    """An active reader's fresh preferences and unsubscribe links (theirs expired)."""
    settings = runtime.settings
    base, secret = settings.site.base_url, runtime.signing_key
    context = {
        "site": settings.site,
        "organization": settings.organization,
        "preferences_url": link(
            base, secret, Purpose.PREFERENCES, subscriber.id, subscriber.email, now
        ),
        "unsubscribe_url": link(
            base, secret, Purpose.UNSUBSCRIBE, subscriber.id, subscriber.email, now
        ),
    }
    message = from_templates(
        settings, templates, "links", to=[subscriber.email], context=context, now=now
    )
    # No confirmation is claimed: a failed send gives back exactly what was there.
    request.subscriber_id = subscriber.id
    request.previous_sent_at = subscriber.confirmation_sent_at
    return _Outgoing(subscriber.id, subscriber.email, message, request.attempts)


def _work_on(
    runtime: Runtime,
    templates: Environment,
    transport: Transport,
    request_id: int,
    report: DrainReport,
) -> None:
    outgoing = _prepare(runtime, templates, request_id)
    if outgoing is None:
        report.skipped += 1
        return
    try:
        transport.send(
            runtime.settings.mail.from_address, [outgoing.email], outgoing.message.as_bytes()
        )
    except (OSError, NewsletterError) as exc:
        _failed(runtime, request_id, outgoing, _why(exc), report)
        return
    with runtime.sessions.begin() as session:
        request = session.get(SignupRequest, request_id)
        if request is not None:
            session.delete(request)
    report.sent += 1


def _failed(
    runtime: Runtime, request_id: int, outgoing: _Outgoing, reason: str, report: DrainReport
) -> None:
    """Give the claim back, so the address is not held up by our fault, and retry or give up."""
    wait = queue.retry_after(outgoing.attempts)
    with runtime.sessions.begin() as session:
        request = session.get(SignupRequest, request_id)
        if request is None:
            return
        release_confirmation(session, outgoing.subscriber_id, request.previous_sent_at)
        request.claimed_at = None
        if wait is None:
            session.delete(request)
        else:
            request.due_at = runtime.clock.now() + wait
    attempt = f"attempt {outgoing.attempts} of {queue.MAX_ATTEMPTS}"
    if wait is None:
        report.given_up += 1
        log.error(
            "confirmation email to subscriber %s failed (%s), giving up: %s",
            outgoing.subscriber_id,
            attempt,
            reason,
        )
    else:
        report.retrying += 1
        log.warning(
            "confirmation email to subscriber %s failed (%s), retrying in %s: %s",
            outgoing.subscriber_id,
            attempt,
            wait,
            reason,
        )


class ConfirmationSender:
    """A thread of the web process that drains the signup queue, then the welcomes due: woken
    by each signup and confirmation, and every `poll_seconds` for retries and for what a
    stopped process left behind."""

    def __init__(
        self,
        runtime: Runtime,
        templates: Environment,
        transport_factory: Callable[[], Transport],
        poll_seconds: float = 30.0,
    ) -> None:
        self.runtime = runtime
        self.templates = templates
        self.transport_factory = transport_factory
        self.poll_seconds = poll_seconds
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._wake.set()  # what an earlier process left waiting goes out at once
        self._thread = threading.Thread(target=self._run, name="confirmation-sender", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self, timeout: float = 30.0) -> None:
        """Finish the email being sent, then stop; what is left waits in the queue."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.poll_seconds)
            self._wake.clear()
            if self._stop.is_set():
                return
            try:
                drain_signups(self.runtime, self.templates, self.transport_factory, self._stop)
                drain_welcomes(self.runtime, self.templates, self.transport_factory, self._stop)
            except Exception as exc:  # a database hiccup must not end the thread for good
                log.error("confirmation sender: %s", _why(exc))
