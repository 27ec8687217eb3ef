"""UTM parameters naming the issue on every link to the site and the donate page."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit


def with_params(url: str, params: Mapping[str, str]) -> str:
    """The URL with `params` set (replacing any of the same name), other query and fragment kept."""
    if not params:
        return url
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        return url
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in params]
    query.extend(params.items())
    return urlunsplit(parts._replace(query=urlencode(query)))


@dataclass(frozen=True)
class Tracker:
    """Adds the issue's UTM parameters to links whose host is one of ours."""

    params: Mapping[str, str]
    hosts: frozenset[str]

    @classmethod
    def for_issue(
        cls,
        key: str,
        *,
        enabled: bool,
        source: str,
        medium: str,
        campaign: str,
        urls: Iterable[str],
    ) -> Tracker:
        if not enabled:
            return cls({}, frozenset())
        params = {
            "utm_source": source,
            "utm_medium": medium,
            "utm_campaign": campaign.replace("{issue}", key),
        }
        hosts = frozenset(urlsplit(url).netloc.lower() for url in urls if url)
        return cls(params, hosts)

    def __call__(self, url: str) -> str:
        if not self.params or urlsplit(url).netloc.lower() not in self.hosts:
            return url
        return with_params(url, self.params)
