"""What every signup route shares: the form's fields, the queueing, and the refusals alike."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Form, Request

from newsletter.confirmations import ConfirmationSender
from newsletter.pipeline.signup import SignupForm, TooManySignups, take_signup
from newsletter.web.public import error
from newsletter.web.state import runtime_of
from subscribers.errors import (
    InvalidAddress,
    InvalidName,
    QueueFull,
    UnknownCadence,
    UnknownTopic,
)

FormStr = Annotated[str, Form()]
FormList = Annotated[list[str] | None, Form()]
# The errors that are the form's fault, and the field each is about (aria-describedby, the API).
FIELD_OF: dict[type[Exception], str] = {
    InvalidAddress: "email",
    InvalidName: "name",
    UnknownTopic: "topics",
    UnknownCadence: "cadence",
}
FieldError = tuple(FIELD_OF)


@dataclass(frozen=True)
class SignupFields:
    """What every signup form posts: the reader's address, name and topics, the honeypot,
    and the page the form was on (when the form knows it)."""

    email: str
    name: str
    topics: list[str]
    website: str
    origin_page: str
    cadence: str = ""


def _signup_fields(
    email: FormStr = "",
    name: FormStr = "",
    topics: FormList = None,
    website: FormStr = "",
    origin_page: FormStr = "",
    cadence: FormStr = "",
) -> SignupFields:
    return SignupFields(email, name, topics or [], website, origin_page, cadence)


SignupFieldsDep = Annotated[SignupFields, Depends(_signup_fields)]


def queue_signup(request: Request, form: SignupForm) -> None:
    """Queue the signup and wake the sender; FieldError for the caller's page to show.

    Over a rate limit or a full queue it answers with the error page, for every route alike.
    """
    try:
        queued = take_signup(runtime_of(request), form)
    except TooManySignups:
        raise error(429, "Too many signups from your network. Please try again later.") from None
    except FieldError:
        raise
    except QueueFull:
        message = "We are receiving too many signups right now. Please try again in an hour."
        raise error(503, message) from None
    if queued:
        wake_sender(request)


def wake_sender(request: Request) -> None:
    """The web process's confirmation sender, if it runs here, starts on the new request now."""
    sender: ConfirmationSender | None = getattr(request.app.state, "confirmation_sender", None)
    if sender is not None:
        sender.wake()
