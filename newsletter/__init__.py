"""Newsletter and syndication service for a publisher's site."""

__version__ = "0.1.0"

# Every log line the service writes, the access log's included, has this shape.
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
