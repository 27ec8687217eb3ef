"""The service's exception tree; every expected failure is a NewsletterError.

    NewsletterError            carries a one-line, user-facing message
    ├── ConfigError            a setting is missing, malformed or out of range (exit code 2)
    └── DatabaseError          the database cannot be reached or migrated

Later stages add their own branches here (collect, deliver, ...), each carrying
the context a user needs: which source, which row, which subscriber.
"""

from __future__ import annotations


class NewsletterError(Exception):
    """Base of every error the service expects and explains in one line."""

    exit_code = 1


class ConfigError(NewsletterError):
    """A setting is wrong; the message names the key and what is allowed."""

    exit_code = 2


class DatabaseError(NewsletterError):
    """The database is unreachable or its schema cannot be brought up to date."""
