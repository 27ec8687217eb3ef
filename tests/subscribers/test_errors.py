"""One root for the audience package's errors, each naming what it refused, drawn in the tree."""

from __future__ import annotations

import importlib
import inspect
import io
import pkgutil
from datetime import UTC, datetime, timedelta

import pytest

import newsletter.errors
import subscribers
from newsletter.errors import NewsletterError
from subscribers.addresses import normalise
from subscribers.csv_parse import Parser
from subscribers.errors import (
    ImportFileError,
    InvalidAddress,
    InvalidName,
    InvalidToken,
    SubscribersError,
    TransitionError,
    UnknownTopic,
)
from subscribers.lifecycle import transition
from subscribers.models import Cause, Status, Subscriber
from subscribers.signup import check_name
from subscribers.tokens import Purpose, make_token, read_token
from subscribers.topics import Topics

NOW = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)


def _errors_of_the_package() -> set[type[BaseException]]:
    found: set[type[BaseException]] = set()
    for info in pkgutil.iter_modules(subscribers.__path__):
        module = importlib.import_module(f"subscribers.{info.name}")
        for _, value in inspect.getmembers(module, inspect.isclass):
            if issubclass(value, BaseException) and value.__module__.startswith("subscribers."):
                found.add(value)
    return found


def test_every_error_of_the_package_has_the_one_root() -> None:
    errors = _errors_of_the_package()
    assert {InvalidAddress, UnknownTopic, InvalidToken, TransitionError, ImportFileError} <= errors
    assert all(issubclass(error, SubscribersError) for error in errors), errors
    # Under the service's root: the CLI prints it as one line and exits 1.
    assert issubclass(SubscribersError, NewsletterError)
    assert SubscribersError.exit_code == 1


def test_the_tree_in_newsletter_errors_draws_every_one() -> None:
    tree = newsletter.errors.__doc__ or ""
    for error in _errors_of_the_package() | {SubscribersError}:
        assert f"── {error.__name__} " in tree, error.__name__
    assert "── AccountError " in tree
    assert "── ReviewError " in tree


def test_each_error_carries_what_it_refused() -> None:
    with pytest.raises(InvalidAddress) as address:
        normalise(" not-an-address ")
    assert address.value.address == " not-an-address "
    assert str(address.value) == address.value.reason
    with pytest.raises(UnknownTopic) as topic:
        Topics({"asylum": 1}).ids(["asylum", "astrology"])
    assert topic.value.slug == "astrology"
    assert str(topic.value) == "unknown topic 'astrology'"
    with pytest.raises(InvalidName) as name:
        check_name("Ana\nBcc: everyone")
    assert name.value.name == "Ana\nBcc: everyone"
    with pytest.raises(ImportFileError) as header:
        Parser(io.BytesIO(b"name,topics\n"), Topics({}))
    assert header.value.line == 1
    assert str(header.value).startswith("line 1: the header has no 'email' column")
    token = make_token("k" * 32, Purpose.CONFIRM, 7, "ana@example.org", NOW)
    with pytest.raises(InvalidToken) as link:
        read_token("k" * 32, Purpose.UNSUBSCRIBE, token, NOW + timedelta(minutes=1))
    assert link.value.purpose == Purpose.UNSUBSCRIBE


def test_a_refused_transition_names_the_address_and_both_states() -> None:
    ana = Subscriber(email="ana@example.org", status=Status.UNSUBSCRIBED)
    with pytest.raises(TransitionError) as refused:
        transition(None, ana, Status.ACTIVE, Cause.IMPORT, NOW)  # type: ignore[arg-type]
    assert (refused.value.address, refused.value.current, refused.value.to) == (
        "ana@example.org",
        Status.UNSUBSCRIBED,
        Status.ACTIVE,
    )
    assert str(refused.value) == "ana@example.org: cannot go from unsubscribed to active"
