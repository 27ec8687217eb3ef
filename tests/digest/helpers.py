"""The digest tests' builders now live in tests/factories.py; these names stay for old imports."""

from tests.factories import add_post, add_subscriber, add_topics

__all__ = ["add_post", "add_subscriber", "add_topics"]
