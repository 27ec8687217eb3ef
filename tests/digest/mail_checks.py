"""The digest as a finished message, for the real tools' checks (SpamAssassin, doiuse-email)."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import make_msgid

from newsletter.digest.placeholders import Template, values_for
from newsletter.digest.render import Rendered


def demo_values() -> dict[str, bytes]:
    return values_for(
        {
            "name": "Ana Reader",
            "email": "ana@example.com",
            "unsubscribe_url": "https://demo.example.org/unsubscribe?token=InR5cCI6IkpXVCJ9.a1b2",
            "preferences_url": "https://demo.example.org/preferences?token=InR5cCI6IkpXVCJ9.c3d4",
        }
    )


def message(rendered: Rendered, sent_at_rfc: str | None = None) -> bytes:
    """A multipart/alternative message as the deliver stage frames one, placeholders filled."""
    values = demo_values()
    html = Template(rendered.html.encode()).fill(values).decode()
    text = Template(rendered.text.encode()).fill(values).decode()
    msg = EmailMessage()
    msg["From"] = "Demo Immigration News <newsletter@demo.example.org>"
    msg["To"] = "Ana Reader <ana@example.com>"
    msg["Subject"] = rendered.subject
    msg["Date"] = sent_at_rfc or "Fri, 05 May 2023 10:00:00 -0400"
    msg["Message-ID"] = make_msgid(domain="demo.example.org")
    msg["List-Unsubscribe"] = "<https://demo.example.org/unsubscribe?token=InR5cCI6IkpXVCJ9.a1b2>"
    msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    msg["List-Id"] = "Demo Immigration News <digest.demo.example.org>"
    msg.set_content(text, cte="quoted-printable")
    msg.add_alternative(html, subtype="html", cte="quoted-printable")
    return msg.as_bytes()
