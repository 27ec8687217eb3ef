"""core → deliver: what `newsletter doctor` and the deliverability report say of this setup."""

from __future__ import annotations

from newsletter.deliver.domain import Finding, Verdict, check_domain
from newsletter.deliver.setup import mail_setup
from newsletter.errors import DatabaseError, MessageError
from newsletter.runtime import Runtime
from newsletter.schema_version import require_current


def check_database(runtime: Runtime) -> Finding:
    try:
        require_current(runtime.engine)
    except DatabaseError as exc:
        return Finding("Database", Verdict.FAIL, str(exc))
    return Finding("Database", Verdict.PASS, f"{runtime.engine.dialect.name}, schema current")


def check_sending(runtime: Runtime) -> list[Finding]:
    """How mail leaves (relay or outbox) and the sending domain's DNS."""
    settings = runtime.settings
    try:
        setup = mail_setup(settings, runtime.signing_key)
    except MessageError as exc:
        return [Finding("Mail setup", Verdict.FAIL, str(exc))]
    if settings.smtp_url or settings.delivery.relays:
        leaves = Finding("Relay", Verdict.PASS, "mail goes out by SMTP")
    else:
        leaves = Finding(
            "Relay",
            Verdict.WARN,
            f"no NEWSLETTER_SMTP_URL: every message is written to {settings.outbox_dir}",
        )
    return [leaves, *check_domain(settings, setup)]


def examine(runtime: Runtime) -> list[Finding]:
    """Every check, the database first: the rest reads its settings, not its rows."""
    return [check_database(runtime), *check_sending(runtime)]
