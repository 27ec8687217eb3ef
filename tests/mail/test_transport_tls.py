"""STARTTLS, SMTPS and AUTH against the real test server, with a throwaway certificate authority."""

from __future__ import annotations

import ssl
import time
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import trustme
from aiosmtpd.smtp import AuthResult, LoginPassword

from newsletter.errors import TemporaryFailure
from newsletter.mail.transport import SmtpTransport
from tests.smtpd import SmtpServer, smtp_server

MESSAGE = b"From: a@example.org\r\nTo: r@example.org\r\nSubject: Hi\r\n\r\nHello\r\n"
USER, PASSWORD = "relay-user", "s3cret pass:word@"


def _authenticator(
    server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
) -> AuthResult:
    ok = (
        isinstance(auth_data, LoginPassword)
        and auth_data.login == USER.encode()
        and auth_data.password == PASSWORD.encode()
    )
    return AuthResult(success=ok, handled=False)  # aiosmtpd then says 535 itself


@pytest.fixture
def ca(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> trustme.CA:
    authority = trustme.CA()
    bundle = tmp_path / "ca.pem"
    authority.cert_pem.write_to_path(str(bundle))
    # The transport trusts the system's certificate store; this points OpenSSL at ours.
    monkeypatch.setenv("SSL_CERT_FILE", str(bundle))
    return authority


def _server_context(authority: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("127.0.0.1").configure_cert(context)
    return context


def _starttls_server(authority: trustme.CA) -> AbstractContextManager[SmtpServer]:
    """A server that wants STARTTLS (with a certificate `authority` signed) before AUTH."""
    return smtp_server(
        tls_context=_server_context(authority),
        require_starttls=True,
        authenticator=_authenticator,
        auth_required=True,
    )


def _url(scheme: str, server: SmtpServer, password: str = PASSWORD, query: str = "") -> str:
    return f"{scheme}://{USER}:{quote(password, safe='')}@127.0.0.1:{server.port}{query}"


def _all_closed(server: SmtpServer) -> bool:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if all(s.transport is None or s.transport.is_closing() for s in server.handler.sessions):
            return True
        time.sleep(0.05)
    return False


def test_starttls_then_auth_delivers(ca: trustme.CA) -> None:
    with _starttls_server(ca) as server:
        transport = SmtpTransport.from_url(_url("smtp", server, query="?starttls=true"))
        transport.send("b@example.org", ["r@example.org"], MESSAGE)
        transport.send("b@example.org", ["s@example.org"], MESSAGE)
        transport.close()
        assert [r.recipients for r in server.received] == [["r@example.org"], ["s@example.org"]]
        # Both over the one encrypted connection (its EHLO, again after STARTTLS, counts twice).
        assert len({id(session) for session in server.handler.sessions}) == 1


# aiosmtpd warns that AUTH without STARTTLS is unsafe; here the whole connection is TLS.
@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_smtps_then_auth_delivers(ca: trustme.CA) -> None:
    # TLS from the first byte; aiosmtpd counts only STARTTLS as TLS for AUTH, hence the flag.
    with smtp_server(
        ssl_context=_server_context(ca),
        authenticator=_authenticator,
        auth_required=True,
        auth_require_tls=False,
    ) as server:
        transport = SmtpTransport.from_url(_url("smtps", server))
        transport.send("b@example.org", ["r@example.org"], MESSAGE)
        transport.close()
        assert [r.data for r in server.received] == [MESSAGE]


def test_a_wrong_password_is_temporary_says_so_and_closes_the_connection(
    ca: trustme.CA,
) -> None:
    # A relay that refuses our credentials says nothing about the subscriber: the delivery is
    # retried later (and the issue pauses after enough failures in a row), never failed.
    with _starttls_server(ca) as server:
        transport = SmtpTransport.from_url(
            _url("smtp", server, password="wrong", query="?starttls=true")
        )
        with pytest.raises(TemporaryFailure, match=rf"cannot sign in to 127\.0\.0\.1.* {USER}"):
            transport.send("b@example.org", ["r@example.org"], MESSAGE)
        assert server.received == []
        assert _all_closed(server)


def test_an_untrusted_certificate_is_refused_and_nothing_is_sent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stranger = trustme.CA()  # signs the server's certificate; the transport does not trust it
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "empty.pem"))
    (tmp_path / "empty.pem").write_text("")
    with _starttls_server(stranger) as server:
        transport = SmtpTransport.from_url(_url("smtp", server, query="?starttls=true"))
        with pytest.raises(TemporaryFailure, match="certificate verify failed"):
            transport.send("b@example.org", ["r@example.org"], MESSAGE)
        assert server.received == []
