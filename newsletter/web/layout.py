"""What every public page's layout shows: the site, its organisation, its topics, its links."""

from __future__ import annotations

from typing import Any

from newsletter.config import Settings


def layout_globals(settings: Settings) -> dict[str, Any]:
    """Template globals for web/base.html; a page's own context may still override them."""
    site = settings.site
    return {
        "site": site,
        "organization": settings.organization,
        "nav_topics": [(topic.slug, topic.name) for topic in settings.topics],
        "privacy_href": str(site.privacy_url) if site.privacy_url else "/privacy",
        "nav": "",  # which main navigation item is this page (aria-current), if any
    }
