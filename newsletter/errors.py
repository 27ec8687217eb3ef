"""The service's exception tree; every expected failure is a NewsletterError.

    NewsletterError            carries a one-line, user-facing message
    ├── ConfigError            a setting is missing, malformed or out of range (exit code 2)
    ├── UsageError             a command's argument is malformed, like a date (exit code 2)
    ├── DatabaseError          the database cannot be reached or migrated
    ├── CollectError           a source could not be read (names the source)
    │   ├── FetchError         HTTP: timeout, refused, too large, too many redirects, 4xx/5xx
    │   ├── SourceFormatError  the response is not what the source kind expects
    │   └── EntrySkipped       one entry is unusable (no link, no title, impossible date)
    ├── PublishError           a feed cannot be built or written (which feed, which file)
    ├── DigestError            an issue cannot be built, rendered or found (which issue, why)
    ├── MessageError           a stored issue or a subscriber cannot be made into a message
    ├── SendError              an issue cannot be sent (unknown, not approved, being sent, ...)
    ├── BounceError            a bounce mailbox cannot be read
    ├── WebhookError           a relay's webhook call is not taken (deliver/relay_events/)
    │   ├── WebhookRefused     its signature, token or age does not check out (403)
    │   └── WebhookInvalid     its body is not the provider's payload (400)
    ├── ScheduleError          the scheduler cannot start, or a job cannot be listed
    ├── DeliveryError          a message could not be handed to the mail server
    │   ├── TemporaryFailure   4xx, timeout, dropped connection: try again later
    │   │   └── TransportFault the relay or outbox takes no message at all (unreachable,
    │   │                      outbox not writable): no recipient's fault, pause the send
    │   └── PermanentFailure   5xx: this recipient will not take this message
    ├── AccountError           an editor account cannot be created or changed (editors/accounts.py)
    ├── ReviewError            the issue's status does not allow this change (issue_status.py)
    └── SubscribersError       the audience package's root (subscribers/errors.py); each names
        │                      what it refused, as attributes as well as in its message
        ├── InvalidAddress     not an address we can mail (.address, .reason)
        ├── InvalidName        a name that cannot go into a header (.name, .reason)
        ├── UnknownTopic       a slug that is not one of the site's topics (.slug)
        ├── UnknownCadence     not weekly, daily or each story (.value)
        ├── InvalidToken       a link forged, altered or no longer good (.purpose)
        │   └── ExpiredToken   a genuine link past its purpose's age
        ├── InvalidPause       a pause longer than the preferences allow (.weeks)
        ├── TransitionError    a change of state the lifecycle refuses (.address, .current, .to)
        ├── ImportFileError    a CSV that cannot be imported at all (.line, .reason): nothing was
        └── QueueFull          too many signups wait to be sent (.waiting)

A branch may live beside the code that raises it (editors/, subscribers/): this module imports
nothing, so every package can import it and none must import the others for their errors.
Each error carries the context a user needs: which source, which row, which subscriber.
"""

from __future__ import annotations


class NewsletterError(Exception):
    """Base of every error the service expects and explains in one line."""

    exit_code = 1


class ConfigError(NewsletterError):
    """A setting is wrong; the message names the key and what is allowed."""

    exit_code = 2


class UsageError(NewsletterError):
    """A command's argument cannot be read (a date, an address list); the message says why."""

    exit_code = 2


class DatabaseError(NewsletterError):
    """The database is unreachable or its schema cannot be brought up to date."""


class DigestError(NewsletterError):
    """An issue cannot be built or rendered: already sent, not found, a template is broken."""


class CollectError(NewsletterError):
    """A source could not be collected; the message says which and why."""


class FetchError(CollectError):
    """The HTTP fetch failed after its retries, or its answer broke a limit."""


class SourceFormatError(CollectError):
    """The source answered, but not with a feed, page or API response we can read."""


class EntrySkipped(CollectError):
    """One entry of a source is unusable; the source carries on without it."""


class PublishError(NewsletterError):
    """A feed could not be built, stored or exported; the message names it."""


class DeliveryError(NewsletterError):
    """A message was not accepted; `code` is the SMTP reply code when there was one."""

    def __init__(self, message: str, code: int | None = None, enhanced: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.enhanced = enhanced  # RFC 3463 status such as "5.1.1", when the server gave one


class TemporaryFailure(DeliveryError):
    """Worth retrying: the server or the network said "not now"."""


class TransportFault(TemporaryFailure):
    """The way out itself is broken: the relay is unreachable, the outbox cannot be written."""


class PermanentFailure(DeliveryError):
    """Not worth retrying: the server refused this recipient or message for good."""


class MessageError(NewsletterError):
    """A stored issue or a subscriber's details cannot be made into a safe message."""


class ReviewError(NewsletterError):
    """The issue's status does not allow this action; the message says what it is and needs."""


class SendError(NewsletterError):
    """An issue cannot be sent now; the message says why and what to do."""


class BounceError(NewsletterError):
    """A bounce mailbox is missing or not a maildir or mbox."""


class WebhookError(NewsletterError):
    """A relay's webhook call is not taken; the message never quotes a secret or the body."""


class WebhookRefused(WebhookError):
    """The call is not signed by the provider (bad signature or token), or is too old: a replay."""


class WebhookInvalid(WebhookError):
    """The body is not a payload the provider sends (not JSON, missing fields)."""


class ScheduleError(NewsletterError):
    """The scheduler cannot do what was asked: no lease, an unreadable job store, ..."""


def first_line(exc: BaseException | None) -> str:
    """An exception's message cut to its first line (drivers append SQL and hints below it).

    A message-less exception is named by its type, so the user sees at least what went wrong.
    """
    if exc is None:
        return "unknown error"
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
