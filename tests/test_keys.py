"""Signing keys: the configured one, else a generated var/secret_key; read once per process."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from newsletter.config import load_settings
from newsletter.errors import ConfigError
from newsletter.keys import signing_keys
from newsletter.runtime import Runtime

STRONG_KEY = "Qm9yZGVyTmV3cy1zaWduaW5nLWtleS1mb3ItdGVzdHMtb25seQ"
OLD_KEY = "b2xkLWtleS10aGF0LXNpZ25lZC1saW5rcy1sYXN0LXllYXI"


def test_generated_signing_key_is_private_and_stable(tmp_path: Path) -> None:
    first = signing_keys(load_settings(var_dir=tmp_path / "var")).current
    assert len(first) >= 32
    assert signing_keys(load_settings(var_dir=tmp_path / "var")).current == first
    mode = stat.S_IMODE((tmp_path / "var" / "secret_key").stat().st_mode)
    assert mode == 0o600


def test_configured_signing_key_wins(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("NEWSLETTER_SECRET_KEY", STRONG_KEY)
    keys = signing_keys(load_settings(var_dir=tmp_path / "var"))
    assert keys.current == STRONG_KEY
    assert not (tmp_path / "var" / "secret_key").exists()


def test_a_weak_key_in_the_key_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "var").mkdir()
    (tmp_path / "var" / "secret_key").write_text("change-me\n")
    with pytest.raises(ConfigError, match="delete the file to generate one") as raised:
        signing_keys(load_settings(var_dir=tmp_path / "var"))
    assert "change-me" not in str(raised.value)


def test_loading_settings_touches_no_file(tmp_path: Path) -> None:
    settings = load_settings(var_dir=tmp_path / "var")
    assert settings.secret_key is None
    assert not (tmp_path / "var").exists()


def test_the_runtime_resolves_the_keys_once(tmp_path: Path) -> None:
    settings = load_settings(
        var_dir=tmp_path / "var",
        database_url=f"sqlite:///{tmp_path / 'n.db'}",
        secret_keys_previous=[OLD_KEY],
    )
    runtime = Runtime.build(settings)
    try:
        key_file = tmp_path / "var" / "secret_key"
        generated = key_file.read_text().strip()
        assert runtime.signing_key == generated
        assert runtime.verification_keys == (generated, OLD_KEY)
        # Requests never read the file again: a key replaced under a running process (or a
        # deleted one) changes nothing until it restarts.
        key_file.unlink()
        assert runtime.signing_key == generated
        assert not key_file.exists()
    finally:
        runtime.close()


def test_a_weak_key_file_stops_the_runtime(tmp_path: Path) -> None:
    (tmp_path / "var").mkdir()
    (tmp_path / "var" / "secret_key").write_text("a" * 40)
    settings = load_settings(var_dir=tmp_path / "var", database_url="sqlite://")
    with pytest.raises(ConfigError, match="too repetitive"):
        Runtime.build(settings)
