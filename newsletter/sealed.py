"""Secrets kept in the database sealed (Fernet) under keys derived from the signing keys."""

from __future__ import annotations

import base64
from functools import cached_property

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from newsletter.errors import ConfigError
from newsletter.keys import SigningKeys

# Each use derives its own key: a sealed secret is no token of any other kind.
_PURPOSE = b"newsletter: secrets sealed in the database"


def _fernet(signing_key: str) -> Fernet:
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_PURPOSE).derive(
        signing_key.encode()
    )
    return Fernet(base64.urlsafe_b64encode(derived))


class Sealer:
    """Seals with the current signing key; opens with it or any rotated-out one."""

    def __init__(self, keys: SigningKeys) -> None:
        self._keys = keys

    @cached_property
    def _box(self) -> MultiFernet:
        return MultiFernet([_fernet(key) for key in self._keys.verification])

    def seal(self, secret: str) -> str:
        return self._box.encrypt(secret.encode()).decode()

    def open(self, sealed: str) -> str:
        try:
            return self._box.decrypt(sealed.encode()).decode()
        except InvalidToken:
            raise ConfigError(
                "a sealed secret opens with none of the secret keys (was NEWSLETTER_SECRET_KEY "
                "changed without keeping the old one in secret_keys_previous?)"
            ) from None

    def is_current(self, sealed: str) -> bool:
        """Whether the value is sealed with the current key (else worth sealing again)."""
        try:
            _fernet(self._keys.current).decrypt(sealed.encode())
        except InvalidToken:
            return False
        return True
