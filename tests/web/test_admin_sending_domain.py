"""The sending domain's screen: each check in words, asked of a real DNS server."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.testclient import TestClient

from newsletter.config import load_settings
from newsletter.editors.models import Role
from newsletter.runtime import Runtime
from newsletter.web.app import create_app
from tests.deliver.sending_domain import FROM, RELAY, dkim_key, good_records
from tests.dns_server import dns_server
from tests.web.admin_helpers import make_editor, sign_in


def test_editors_see_each_check_and_what_to_fix(runtime: Runtime, tmp_path: Path) -> None:
    public = dkim_key(tmp_path / "dkim.pem")
    settings = load_settings(
        **{
            **runtime.settings.model_dump(include={"database_url", "var_dir"}),
            "site": {"url": "https://news.example.org"},
            "smtp_url": f"smtp://{RELAY}:587",
            "mail": {"from_address": f"newsletter@{FROM}"},
            "delivery": {
                "dkim_selector": "mail",
                "dkim_domain": FROM,
                "dkim_private_key": str(tmp_path / "dkim.pem"),
            },
        }
    )
    site = Runtime(settings, runtime.engine, runtime.sessions)
    make_editor(site, "ed@example.org", Role.EDITOR)
    client = TestClient(create_app(site), base_url="https://news.example.org")
    assert client.get("/admin/sending-domain", follow_redirects=False).status_code == 303
    sign_in(client, "ed@example.org")
    with dns_server(good_records(public)[:3]):  # no DMARC record
        page = client.get("/admin/sending-domain")
    assert page.status_code == 200
    said = re.findall(r'"verdict">(\w+)</strong>\s*<span class="check">([^<]+)<', page.text)
    assert said == [
        ("OK", "Relay"),
        ("OK", "SPF"),
        ("OK", "DKIM"),
        ("Fix", "DMARC"),
        ("OK", "One-click unsubscribe"),
    ]
    assert f"no DMARC record at _dmarc.{FROM}" in page.text
