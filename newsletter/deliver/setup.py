"""The per-site constants of every message, read from the settings once per sender."""

from __future__ import annotations

import logging

from newsletter.config import Settings
from newsletter.deliver.message import Dkim, MailSetup
from newsletter.errors import MessageError

log = logging.getLogger(__name__)


def mail_setup(settings: Settings, secret: str) -> MailSetup:
    """`secret` is the runtime's signing key (unsubscribe links, VERP addresses, Message-IDs)."""
    delivery = settings.delivery
    domain = delivery.bounce_domain or settings.mail.from_address.rpartition("@")[2]
    dkim = None
    if delivery.dkim_selector and delivery.dkim_domain and delivery.dkim_private_key:
        dkim = Dkim.load(delivery.dkim_selector, delivery.dkim_domain, delivery.dkim_private_key)
    elif delivery.dkim_selector or delivery.dkim_domain or delivery.dkim_private_key:
        raise MessageError(
            "DKIM needs delivery.dkim_selector, delivery.dkim_domain and "
            "delivery.dkim_private_key together"
        )
    setup = MailSetup(
        from_name=settings.mail.from_name,
        from_address=settings.mail.from_address,
        reply_to=settings.mail.reply_to,
        site_url=settings.site.base_url,
        secret=secret,
        bounce_domain=domain,
        list_id=delivery.list_id or f"newsletter.{domain}",
        dkim=dkim,
    )
    if not setup.one_click:
        log.warning(
            "site.url %s is not https: digests go out without List-Unsubscribe-Post, so "
            "mail providers offer no one-click unsubscribe (RFC 8058 requires https)",
            setup.site_url,
        )
    return setup
