"""A real IMAP server for the tests: Debian's Dovecot, started on a free port with a temp config.

TLS only (imaps), a certificate made here for 127.0.0.1, one user in a plain-text passdb, and a
maildir the tests fill directly. Run as root (CI), Dovecot's login and mail processes take
Debian's dovenull and dovecot users; run as anyone else, they all run as that user.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import ssl
import subprocess
import tempfile
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from ipaddress import IPv4Address
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from tests.certificates import self_signed

DOVECOT = shutil.which("dovecot") or (
    "/usr/sbin/dovecot" if Path("/usr/sbin/dovecot").exists() else None
)
USER = "bounces"
PASSWORD = "imap-test-password-4f1c"
# Waiting on an event that is never set, not time.sleep: under libfaketime (the suite's
# shifted-clock run) time.sleep fails.
_pause = threading.Event().wait


@dataclass
class Dovecot:
    port: int
    cafile: Path
    maildir: Path
    uid: int
    gid: int

    def url(self, password: str = PASSWORD, folder: str = "INBOX") -> str:
        return f"imaps://{USER}:{password}@127.0.0.1:{self.port}/{folder}"

    def context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.cafile))

    def deliver(self, text: str) -> None:
        """A message into the maildir's new/, as a local delivery agent puts it there."""
        path = self.maildir / "new" / f"{uuid.uuid4().hex}.test"
        path.write_text(text)
        os.chown(path, self.uid, self.gid)


def _certificate(directory: Path) -> Path:
    key = ec.generate_private_key(ec.SECP256R1())
    # The wall clock, not the tests' fixed one: TLS checks the certificate against it.
    address = x509.IPAddress(IPv4Address("127.0.0.1"))
    certificate = self_signed(key, "127.0.0.1", datetime.now(UTC), 30, [address])
    (directory / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    cafile = directory / "cert.pem"
    cafile.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    return cafile


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _config(directory: Path, port: int, uid: int, gid: int) -> str:
    if os.geteuid() == 0:
        login, internal, group = "dovenull", "dovecot", "dovecot"
    else:
        login = internal = pwd.getpwuid(os.geteuid()).pw_name
        group = str(os.getegid())
    return f"""
base_dir = {directory}/run
state_dir = {directory}/state
log_path = {directory}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = required
ssl_cert = <{directory}/cert.pem
ssl_key = <{directory}/key.pem
auth_mechanisms = plain
default_login_user = {login}
default_internal_user = {internal}
default_internal_group = {group}
first_valid_uid = {min(uid, 1)}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {directory}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={directory}/home/%u
}}
mail_location = maildir:~/Maildir
service imap-login {{
  chroot =
  inet_listener imap {{
    port = 0
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {port}
  }}
}}
service anvil {{
  chroot =
}}
"""


def _wait_for(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    for _ in range(200):
        if process.poll() is not None:
            raise RuntimeError(f"dovecot exited: {log.read_text() if log.exists() else ''}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            _pause(0.05)
    raise RuntimeError("dovecot did not start listening")


@contextmanager
def dovecot() -> Iterator[Dovecot]:
    """Dovecot serving one user's maildir over imaps on a free port, stopped afterwards."""
    assert DOVECOT is not None
    # Not under pytest's tmp_path: that is private to this user, and Dovecot's own users must
    # reach the maildir.
    directory = Path(tempfile.mkdtemp(prefix="newsletter-dovecot-"))
    directory.chmod(0o755)
    if os.geteuid() == 0:
        account = pwd.getpwnam("dovecot")
        uid, gid = account.pw_uid, account.pw_gid
    else:
        uid, gid = os.geteuid(), os.getegid()
    maildir = directory / "home" / USER / "Maildir"
    for sub in ("new", "cur", "tmp"):
        (maildir / sub).mkdir(parents=True)
    for path in (directory / "home", directory / "home" / USER, maildir, *maildir.iterdir()):
        os.chown(path, uid, gid)
    (directory / "run").mkdir()
    (directory / "state").mkdir()
    cafile = _certificate(directory)
    (directory / "passwd").write_text(f"{USER}:{{PLAIN}}{PASSWORD}\n")
    port = _free_port()
    config = directory / "dovecot.conf"
    config.write_text(_config(directory, port, uid, gid))
    process = subprocess.Popen(
        [DOVECOT, "-F", "-c", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        _wait_for(port, process, directory / "dovecot.log")
        yield Dovecot(port, cafile, maildir, uid, gid)
    finally:
        process.terminate()
        process.wait(timeout=10)
        shutil.rmtree(directory, ignore_errors=True)
