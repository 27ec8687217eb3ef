"""`newsletter doctor` as run from a shell: one line per check, exit 1 when one fails."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from newsletter.cli.main import app
from newsletter.runtime import Runtime
from tests.cli.process import service_env
from tests.deliver.sending_domain import FROM, RELAY, dkim_key, good_records
from tests.dns_server import dns_server


def _doctor(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> tuple[int, str]:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    result = CliRunner().invoke(app, ["doctor"])
    return result.exit_code, result.output


def test_doctor_passes_a_good_setup_and_fails_a_missing_dmarc(
    runtime: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    records = good_records(dkim_key(tmp_path / "dkim.pem"))
    env = service_env(
        runtime,
        f"smtp://{RELAY}:587",
        MAIL__FROM_ADDRESS=f"newsletter@{FROM}",
        DELIVERY__DKIM_SELECTOR="mail",
        DELIVERY__DKIM_DOMAIN=FROM,
        DELIVERY__DKIM_PRIVATE_KEY=str(tmp_path / "dkim.pem"),
    )
    with dns_server(records):
        code, output = _doctor(monkeypatch, env)
    assert code == 0, output
    lines = output.splitlines()
    assert lines[0].startswith("ok   Database:")
    assert [line.split(":")[0] for line in lines[1:]] == [
        "ok   Relay",
        "ok   SPF",
        "ok   DKIM",
        "ok   DMARC",
        "ok   One-click unsubscribe",
    ]
    with dns_server(records[:3]):
        code, output = _doctor(monkeypatch, env)
    assert code == 1
    assert f"FAIL DMARC: no DMARC record at _dmarc.{FROM}" in output
