"""Message building, pure: headers, quoted-printable substitution, line limits, DKIM."""

from __future__ import annotations

import base64
import quopri
import shutil
import subprocess
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import dkim
import pytest

from newsletter.deliver.message import Dkim, IssueMessage, MailSetup, Person, qp
from newsletter.deliver.verp import parse_verp, verp_matches
from newsletter.digest.placeholders import html_marker, marker
from newsletter.errors import MessageError

DATE = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)
SETUP = MailSetup(
    from_name="Example Council News",
    from_address="newsletter@example.org",
    site_url="https://news.example.org",
    secret="s3cret",
    bounce_domain="example.org",
    list_id="newsletter.example.org",
)
LONG = "word " * 60


def _issue(setup: MailSetup = SETUP) -> IssueMessage:
    link = html_marker("unsubscribe_url")
    html = f'<p>Dear {html_marker("name")},</p><p>{LONG}</p><a href="{link}">x</a>'
    text = f"Dear {marker('name')},\n\n{LONG}\n\nLeave: {marker('unsubscribe_url')}\n"
    return IssueMessage(setup, 7, "Déjà vu — the week", html, text, DATE)


def _parse(data: bytes) -> EmailMessage:
    message = message_from_bytes(data, policy=policy.default)
    assert isinstance(message, EmailMessage)
    return message


def test_substitution_is_exact_and_lines_stay_short() -> None:
    person = Person(42, "zoe@example.net", 'Zoë "Zed" <O\'Neil> & co ' + "x" * 120)
    rendered = _issue().render(person)
    message = _parse(rendered.data)
    assert message["To"].addresses[0].display_name == person.name
    assert message["To"].addresses[0].addr_spec == person.email
    assert message["Subject"] == "Déjà vu — the week"
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None
    assert html is not None
    url = str(message["List-Unsubscribe"]).split(">")[0][1:]
    assert text.get_content().replace("\r\n", "\n") == (
        f"Dear {person.name},\n\n{LONG}\n\nLeave: {url}\n"
    )
    assert "Dear Zoë &quot;Zed&quot; &lt;O&#x27;Neil&gt; &amp; co" in html.get_content()
    body = rendered.data.split(b"\r\n\r\n", 1)[1]
    assert max(len(line) for line in body.split(b"\r\n")) <= 76
    assert max(len(line) for line in rendered.data.split(b"\r\n")) <= 998
    assert all(byte < 128 for byte in rendered.data)  # 7-bit clean: QP and RFC 2047 throughout


def test_headers_ids_and_return_path() -> None:
    issue = _issue()
    one = issue.render(Person(42, "a@example.net", "A"))
    again = issue.render(Person(42, "a@example.net", "A"))
    other = issue.render(Person(43, "b@example.net", "B"))
    assert one.message_id == again.message_id != other.message_id
    message = _parse(one.data)
    assert message["Message-ID"] == one.message_id
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["Date"] == "Fri, 27 Nov 2026 15:00:00 +0000"
    verp = parse_verp(one.sender)
    assert verp is not None
    assert verp[:2] == ("bounces", 42)
    assert len(one.sender.split("@")[0]) <= 64
    assert verp_matches("s3cret", *verp, "a@example.net")
    assert not verp_matches("s3cret", *verp, "b@example.net")


@pytest.mark.parametrize("name", ["Eve\r\nBcc: victim@example.org", "line\nbreak"])
def test_line_breaks_in_header_values_are_refused(name: str) -> None:
    with pytest.raises(MessageError, match="line break"):
        _issue().render(Person(1, "e@example.org", name))
    with pytest.raises(MessageError, match="line break"):
        IssueMessage(SETUP, 1, "Subject\r\nBcc: x@example.org", "", "", DATE)


def test_qp_never_splits_an_escape() -> None:
    for n in range(70, 80):
        encoded = qp(("a" * n + "é" * 5).encode())
        assert all(len(line) <= 75 for line in encoded.split(b"\r\n")[-1:])
        assert quopri.decodestring(encoded + b"=\r\n") == ("a" * n + "é" * 5).encode()


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs openssl (.ci/run installs it)")
def test_dkim_signature_verifies_and_covers_list_unsubscribe(tmp_path: Path) -> None:
    key = tmp_path / "dkim.pem"
    subprocess.run(
        ["openssl", "genrsa", "-traditional", "-out", str(key), "2048"],
        check=True,
        capture_output=True,
    )
    public = subprocess.run(
        ["openssl", "rsa", "-in", str(key), "-pubout", "-outform", "DER"],
        check=True,
        capture_output=True,
    ).stdout
    record = b"v=DKIM1; k=rsa; p=" + base64.b64encode(public)
    setup = MailSetup(**{**SETUP.__dict__, "dkim": Dkim.load("news", "example.org", key)})
    data = _issue(setup).render(Person(5, "r@example.net", "R")).data
    assert data.startswith(b"DKIM-Signature:")
    signature = _parse(data)["DKIM-Signature"].replace(" ", "").replace("\t", "")
    assert "list-unsubscribe:list-unsubscribe-post" in signature.lower()
    assert dkim.verify(data, dnsfunc=lambda name, timeout=5: record)
    for before, after in ((b"?token=", b"?token=x"), (b"word word", b"ward word")):
        assert before in data
        tampered = data.replace(before, after, 1)
        assert not dkim.verify(tampered, dnsfunc=lambda name, timeout=5: record)


def test_unknown_placeholders_are_an_error() -> None:
    with pytest.raises(MessageError, match="unknown placeholder 'coupon'"):
        IssueMessage(SETUP, 1, "S", "", f"{marker('coupon')}", DATE)


def test_one_click_unsubscribe_is_promised_only_over_https() -> None:
    """RFC 8058 §3: the List-Unsubscribe URI must be https for List-Unsubscribe-Post."""
    plain = MailSetup(**{**SETUP.__dict__, "site_url": "http://news.example.org"})
    message = _parse(_issue(plain).render(Person(42, "a@example.net", "A")).data)
    assert message["List-Unsubscribe-Post"] is None
    # The links themselves still go out: the http page and the mailto: address both work.
    unsubscribe = str(message["List-Unsubscribe"])
    assert unsubscribe.startswith("<http://news.example.org/unsubscribe?token=")
    assert "<mailto:unsubscribe+" in unsubscribe
    secure = _parse(_issue().render(Person(42, "a@example.net", "A")).data)
    assert secure["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_reply_to_names_the_person_readers_reach_and_is_absent_unless_set() -> None:
    person = Person(3, "ana@example.net", "Ana")
    plain = _parse(_issue().render(person).data)
    assert plain["Reply-To"] is None
    setup = MailSetup(**{**SETUP.__dict__, "reply_to": "editor@example.org"})
    message = _parse(_issue(setup).render(person).data)
    assert [a.addr_spec for a in message["Reply-To"].addresses] == ["editor@example.org"]
    assert message["From"].addresses[0].addr_spec == "newsletter@example.org"


def test_a_reply_to_with_a_line_break_is_refused() -> None:
    setup = MailSetup(**{**SETUP.__dict__, "reply_to": "a@example.org\r\nBcc: x@example.org"})
    with pytest.raises(MessageError, match="line break"):
        _issue(setup)
