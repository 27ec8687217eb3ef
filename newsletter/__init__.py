"""Newsletter and syndication service for a publisher's site."""

__version__ = "0.1.0"
