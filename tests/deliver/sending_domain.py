"""A sending domain whose DNS is right: its records, and the DKIM key they publish."""

from __future__ import annotations

import base64
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.dns_server import txt

FROM = "news.example.org"
RELAY = "smtp.relay.example.net"


def dkim_key(path: Path) -> str:
    """A new RSA key written to `path`; its public half as a DKIM record's p= value."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(public).decode()


def good_records(public: str) -> list[str]:
    return [
        txt(FROM, "v=spf1 a:" + RELAY + " -all"),
        f"{RELAY}. 300 IN A 127.0.0.1",
        txt(f"mail._domainkey.{FROM}", f"v=DKIM1; k=rsa; p={public}"),
        txt(f"_dmarc.{FROM}", "v=DMARC1; p=reject; rua=mailto:dmarc@example.org"),
    ]
