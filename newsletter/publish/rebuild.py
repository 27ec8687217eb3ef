"""The publish stage in one place: read posts, render every format, store what changed, ping."""

from __future__ import annotations

import logging
from dataclasses import replace

from sqlalchemy.orm import Session

from newsletter.publish import channels, store
from newsletter.publish.model import MEDIA_TYPES, Channel, Format
from newsletter.publish.render import render
from newsletter.publish.websub import BackgroundNotifier, NoNotifier, Notifier
from newsletter.runtime import Runtime

log = logging.getLogger(__name__)


def notifier_for(runtime: Runtime) -> Notifier:
    hub = runtime.settings.feeds.websub_hub
    return BackgroundNotifier(str(hub)) if hub else NoNotifier()


def _differs(session: Session, channel: Channel, bodies: dict[Format, bytes]) -> bool:
    return any(
        store.current_etag(session, channel.path(fmt)) != store.etag_for(body)
        for fmt, body in bodies.items()
    )


def rebuild(
    runtime: Runtime,
    changed_topics: set[str] | None = None,
    notifier: Notifier | None = None,
) -> list[str]:
    """Rebuild the site and archive feeds and those of `changed_topics` (every topic when None).

    Returns the paths whose bytes changed, and tells the WebSub hub about exactly those.
    Feeds whose bytes are unchanged keep their ETag and Last-Modified.
    """
    now = runtime.clock.now()
    changed: list[str] = []
    with runtime.sessions.begin() as session:
        previous = store.last_modified_by_path(session)
        for channel in channels.channels(session, runtime.settings, changed_topics, previous, now):
            bodies = render(channel)
            if not channel.entries and _differs(session, channel, bodies):
                # An empty feed dates itself by its last change; this is one.
                bodies = render(replace(channel, updated=now.replace(microsecond=0)))
            for fmt, body in bodies.items():
                path = channel.path(fmt)
                if store.save(session, path, MEDIA_TYPES[fmt], body, now):
                    changed.append(path)
    if changed:
        log.info("feeds changed: %s", ", ".join(changed))
        base = runtime.settings.site.base_url
        (notifier or notifier_for(runtime)).publish([base + path for path in changed])
    return changed


def rebuild_all(runtime: Runtime, hub_wait: float) -> list[str]:
    """Rebuild every feed and wait up to `hub_wait` seconds for the hub's pings, then return.

    For a process that exits next (a command): the pings would otherwise die with it.
    """
    notifier = notifier_for(runtime)
    changed = rebuild(runtime, None, notifier)
    if isinstance(notifier, BackgroundNotifier):
        notifier.join(hub_wait)
    return changed
