"""The audience package's errors: one root; each carries the address, line, slug or link."""

from __future__ import annotations

from typing import TYPE_CHECKING

from newsletter.errors import NewsletterError

if TYPE_CHECKING:
    from subscribers.models import Status


class SubscribersError(NewsletterError):
    """A subscriber, an address, a link or a list was refused; the message says which and why.

    The message is written for the person who typed the input (a form shows it as it is);
    the attributes let a caller that knows more (the CLI: which file) say it its own way.
    """


class InvalidAddress(SubscribersError):
    """Not an address we can mail; `reason` says why in words a subscriber understands."""

    def __init__(self, reason: str, address: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.address = address


class InvalidName(SubscribersError):
    """A name that cannot go into an email header; `reason` says why, in plain words."""

    def __init__(self, reason: str, name: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.name = name


class UnknownTopic(SubscribersError):
    """A topic slug that is not one of the site's topics."""

    def __init__(self, slug: str) -> None:
        super().__init__(f"unknown topic {slug!r}")
        self.slug = slug


class UnknownCadence(SubscribersError):
    """A cadence that is not one of weekly, daily or each story."""

    def __init__(self, value: str, *, offered: bool = True) -> None:
        known = "unknown frequency" if offered else "frequency not offered here:"
        super().__init__(f"{known} {value[:40]!r}")
        self.value = value


class InvalidToken(SubscribersError):
    """A link that is forged, altered, for another purpose or no longer means anything."""

    def __init__(self, reason: str = "this link is not valid", purpose: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.purpose = purpose


class ExpiredToken(InvalidToken):
    """A genuine link that is older than its purpose allows."""

    def __init__(self, reason: str = "this link has expired", purpose: str = "") -> None:
        super().__init__(reason, purpose)


class InvalidPause(SubscribersError):
    """A pause outside what the preferences allow."""

    def __init__(self, weeks: int, most: int) -> None:
        super().__init__(f"a pause lasts between 0 and {most} weeks")
        self.weeks = weeks


class TransitionError(SubscribersError):
    """A change of state the lifecycle does not allow."""

    def __init__(self, address: str, current: Status | None, to: Status) -> None:
        super().__init__(f"{address}: cannot go from {current} to {to}")
        self.address = address
        self.current = current
        self.to = to


class ImportFileError(SubscribersError):
    """The file as a whole cannot be imported (no header, no email column); nothing was.

    `line` is the line at fault (1, the header) or None when the file as a whole is.
    """

    def __init__(self, reason: str, line: int | None = None) -> None:
        super().__init__(f"line {line}: {reason}" if line is not None else reason)
        self.reason = reason
        self.line = line


class QueueFull(SubscribersError):
    """Too many signups wait to be sent; new ones are refused until the queue drains."""

    def __init__(self, waiting: int) -> None:
        super().__init__(f"{waiting} signups are waiting to be sent")
        self.waiting = waiting
