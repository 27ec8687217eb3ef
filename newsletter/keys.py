"""The signing keys, resolved once per process: the configured key, else var/secret_key."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from newsletter.config import MAKE_SECRET, Settings, secret_key_problem
from newsletter.errors import ConfigError

KEY_FILE = "secret_key"


@dataclass(frozen=True)
class SigningKeys:
    """The key that signs (sessions, CSRF, every mailed link) and those that still verify."""

    current: str
    previous: tuple[str, ...] = ()

    @property
    def verification(self) -> tuple[str, ...]:
        """The keys a link may be signed with: the current one first, then the previous ones."""
        return (self.current, *self.previous)


def signing_keys(settings: Settings) -> SigningKeys:
    """NEWSLETTER_SECRET_KEY, else the key kept under var/ (generated on first use).

    The generated key lives in a file so that links already mailed keep working across
    restarts; production sets NEWSLETTER_SECRET_KEY. A weak key in the file is a ConfigError.
    """
    previous = tuple(key.get_secret_value() for key in settings.secret_keys_previous)
    if settings.secret_key is not None:
        return SigningKeys(settings.secret_key.get_secret_value(), previous)
    return SigningKeys(_key_file(settings.var_dir), previous)


def _key_file(var_dir: Path) -> str:
    path = var_dir / KEY_FILE
    try:
        return _checked(path)
    except FileNotFoundError:
        pass
    var_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    # Several processes may start at once: each writes its own file, the first link wins.
    tmp = path.with_suffix(f".{secrets.token_hex(8)}.tmp")
    tmp.write_text(key)
    tmp.chmod(0o600)
    try:
        os.link(tmp, path)  # never replaces: a key another process already uses stays
    except FileExistsError:
        pass
    finally:
        tmp.unlink()
    return _checked(path)


def _checked(path: Path) -> str:
    """The generated key, unless someone replaced it with a weak one."""
    key = path.read_text(errors="replace").strip()
    problem = secret_key_problem(key)
    if problem:
        raise ConfigError(
            f"the secret key in {path} {problem}; delete the file to generate one, "
            f"or set NEWSLETTER_SECRET_KEY (make one with {MAKE_SECRET})"
        )
    return key
