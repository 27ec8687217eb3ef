"""Per-recipient message bytes: one template built per issue variant, filled in per subscriber.

Both parts are quoted-printable. Every marker is cut out onto a line of its own between soft
line breaks ("=" CRLF), and each value is itself quoted-printable-encoded before it goes in, so
however long or non-ASCII a name or URL is, every line stays within RFC 2045's 76 characters
and the decoded text is exactly the variant with the values substituted. (8bit would need the
values to be re-wrapped against the 998-octet limit around them; base64 cannot be spliced.)
"""

from __future__ import annotations

import binascii
import hashlib
import re
from dataclasses import dataclass
from datetime import datetime
from email.policy import SMTP
from email.utils import format_datetime, formataddr
from pathlib import Path

from newsletter.clicktokens import make_reader_mark
from newsletter.deliver.msgid import MessageIds
from newsletter.deliver.verp import verp_address
from newsletter.digest.placeholders import _SPLIT, PERSONAL_FIELDS, Template, marker, values_for
from newsletter.errors import MessageError
from subscribers.tokens import Purpose, make_token

# The headers a DKIM signature covers; RFC 8058 requires the List-Unsubscribe pair among them.
SIGNED_HEADERS = (
    b"from",
    b"to",
    b"subject",
    b"date",
    b"message-id",
    b"mime-version",
    b"list-id",
    b"list-unsubscribe",
    b"list-unsubscribe-post",
    b"content-type",
)
_KNOWN = frozenset(PERSONAL_FIELDS) | {f"{name}.html" for name in PERSONAL_FIELDS}
_CRLF = re.compile(r"[\r\n]")


@dataclass(frozen=True)
class Dkim:
    selector: str
    domain: str
    private_key: bytes

    @classmethod
    def load(cls, selector: str, domain: str, path: Path) -> Dkim:
        try:
            key = path.read_bytes()
        except OSError as exc:
            raise MessageError(f"DKIM private key {str(path)!r}: {exc.strerror}") from None
        return cls(selector, domain, key)


@dataclass(frozen=True)
class MailSetup:
    """Everything about a message that is the same for every issue and recipient."""

    from_name: str
    from_address: str
    site_url: str  # without a trailing slash
    secret: str
    bounce_domain: str
    list_id: str
    dkim: Dkim | None = None
    reply_to: str | None = None  # where readers' replies go; None: to from_address

    @property
    def one_click(self) -> bool:
        """RFC 8058 one-click unsubscribe needs an https URL; over http the header would lie."""
        return self.site_url.lower().startswith("https://")


@dataclass(frozen=True)
class Person:
    subscriber_id: int
    email: str
    name: str


@dataclass(frozen=True)
class Rendered:
    sender: str  # the envelope sender (VERP)
    message_id: str
    data: bytes


def check_header(what: str, value: str) -> str:
    """A header value as given, or MessageError when it could smuggle in a header of its own."""
    if _CRLF.search(value):
        raise MessageError(
            f"{what} {value!r} contains a line break; refusing to put it in a header"
        )
    return value


def _soft_end(encoded: bytes) -> bytes:
    """Leave room on the last line for the soft break that follows it (76 characters at most)."""
    start = encoded.rfind(b"\n") + 1
    if len(encoded) - start <= 75:
        return encoded
    cut = start + 75
    # Never split an =XX escape.
    for back in (1, 2):
        if encoded[cut - back : cut - back + 1] == b"=":
            cut -= back
            break
    return encoded[:cut] + b"=\r\n" + encoded[cut:]


def qp(data: bytes) -> bytes:
    """Quoted-printable with CRLF line ends, its last line short enough to take a soft break."""
    lines = data.replace(b"\r\n", b"\n").split(b"\n")
    encoded = [binascii.b2a_qp(line).replace(b"=\n", b"=\r\n") for line in lines]
    return b"\r\n".join([*encoded[:-1], _soft_end(encoded[-1])])


def _qp_template(text: str) -> bytes:
    """A part's body in quoted-printable, each marker X on its own line as marker X.qp."""
    parts = _SPLIT.split(text.encode())
    out: list[bytes] = []
    for index, part in enumerate(parts):
        if index % 2 == 0:
            out.append(qp(part))
            continue
        name = part.decode()
        if name not in _KNOWN:
            raise MessageError(f"unknown placeholder {name!r} in the stored issue")
        out.append(b"=\r\n" + marker(f"{name}.qp").encode() + b"=\r\n")
    return b"".join(out)


def _header(name: str, value: str) -> bytes:
    header = SMTP.header_factory(name, check_header(name, value))
    folded: str = header.fold(policy=SMTP)
    return folded.encode("ascii")


class IssueMessage:
    """One issue variant, compiled once; render() costs a few joins and two HMACs per recipient."""

    def __init__(
        self, setup: MailSetup, issue_id: int, subject: str, html: str, text: str, date: datetime
    ) -> None:
        self.setup = setup
        self.issue_id = issue_id
        self.date = date
        domain = setup.bounce_domain
        boundary = "=_nl_" + hashlib.sha256(f"{issue_id}:{subject}".encode()).hexdigest()[:24]
        head = b"".join(
            [
                _header("From", formataddr((setup.from_name, setup.from_address), "utf-8")),
                _header("Reply-To", setup.reply_to) if setup.reply_to else b"",
                b"To: " + marker("to").encode() + b"\r\n",
                _header("Subject", subject),
                _header("Date", format_datetime(date)),
                b"Message-ID: " + marker("message_id").encode() + b"\r\n",
                b"MIME-Version: 1.0\r\n",
                _header("List-Id", f"<{check_header('list id', setup.list_id)}>"),
                b"List-Unsubscribe: <" + marker("unsubscribe_url").encode() + b">,\r\n <mailto:",
                marker("unsubscribe_mailto").encode() + b"?subject=unsubscribe>\r\n",
                b"List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"
                if setup.one_click
                else b"",
                f'Content-Type: multipart/alternative; boundary="{boundary}"\r\n'.encode(),
            ]
        )
        part = "--{b}\r\nContent-Type: text/{kind}; charset=utf-8\r\n"
        part += "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
        body = b"".join(
            [
                b"\r\n",
                part.format(b=boundary, kind="plain").encode(),
                _qp_template(text),
                b"\r\n",
                part.format(b=boundary, kind="html").encode(),
                _qp_template(html),
                f"\r\n--{boundary}--\r\n".encode(),
            ]
        )
        self.template = Template(head + body)
        self._body_names = {n for n in self.template.names if n.endswith(".qp")}
        self._message_ids = MessageIds(setup.secret)
        self.domain = domain

    def message_id(self, subscriber_id: int) -> str:
        """Stable per issue and subscriber; signed, so a bounce quoting it names the delivery."""
        return self._message_ids.make(self.issue_id, subscriber_id, self.domain)

    def fields(self, person: Person) -> dict[str, str]:
        secret = self.setup.secret
        unsubscribe = make_token(
            secret, Purpose.UNSUBSCRIBE, person.subscriber_id, person.email, self.date
        )
        preferences = make_token(
            secret, Purpose.PREFERENCES, person.subscriber_id, person.email, self.date
        )
        base = self.setup.site_url
        return {
            "name": person.name,
            "email": person.email,
            "unsubscribe_url": f"{base}/unsubscribe?token={unsubscribe}",
            "preferences_url": f"{base}/preferences?token={preferences}",
            # Lands only in links of an issue rendered with analytics.per_subscriber on.
            "reader_mark": "." + make_reader_mark(secret, self.issue_id, person.subscriber_id),
            "unsubscribe_mailto": verp_address(
                secret, person.subscriber_id, person.email, self.domain, prefix="unsubscribe"
            ),
        }

    def render(self, person: Person) -> Rendered:
        check_header("subscriber name", person.name)
        check_header("subscriber address", person.email)
        fields = self.fields(person)
        values = values_for(fields)
        values["to"] = (
            formataddr((person.name, person.email), "utf-8").replace("\n", "\r\n").encode()
        )
        message_id = self.message_id(person.subscriber_id)
        values["message_id"] = message_id.encode()
        for name in self._body_names:
            values[name] = qp(values[name[:-3]])
        data = self.template.fill(values)
        if self.setup.dkim is not None:
            data = sign(data, self.setup.dkim)
        sender = verp_address(self.setup.secret, person.subscriber_id, person.email, self.domain)
        return Rendered(sender=sender, message_id=message_id, data=data)


def sign(data: bytes, key: Dkim) -> bytes:
    """Prepend a DKIM-Signature (relaxed/simple) over SIGNED_HEADERS and the body."""
    # dkimpy and the DNS library it loads (2 MB more for `digest send`) only for sites that sign.
    import dkim

    try:
        signature = dkim.sign(
            data,
            key.selector.encode(),
            key.domain.encode(),
            key.private_key,
            include_headers=list(SIGNED_HEADERS),
            linesep=b"\r\n",
        )
    except dkim.DKIMException as exc:
        raise MessageError(f"DKIM signing failed: {exc}") from None
    return bytes(signature) + data
