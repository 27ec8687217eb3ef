"""The double opt-in and one-click unsubscribe against a real `newsletter serve` process."""

from __future__ import annotations

import os
import re
import subprocess
import time
from pathlib import Path

import httpx

from tests.smtpd import SmtpServer
from tests.web.test_serve import NEWSLETTER, _free_port


def test_signup_confirm_and_one_click_unsubscribe_over_http(
    tmp_path: Path, database_url: str, smtp: SmtpServer
) -> None:
    port = _free_port()
    config = tmp_path / "n.toml"
    config.write_text(f'[site]\nurl = "http://127.0.0.1:{port}"\n')
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSLETTER_")}
    env |= {
        "NEWSLETTER_DATABASE_URL": database_url,
        "NEWSLETTER_SMTP_URL": smtp.url,
        "NEWSLETTER_CONFIG": str(config),
        "NEWSLETTER_SECRET_KEY": "serve-test-secret-0123456789-abcdefghijklmnop",
    }
    subprocess.run([NEWSLETTER, "init"], env=env, check=True, capture_output=True, timeout=120)
    server = subprocess.Popen(
        [NEWSLETTER, "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        with httpx.Client(base_url=base, timeout=5) as browser:
            while True:
                try:
                    form = browser.get("/subscribe")
                    break
                except httpx.TransportError:
                    assert server.poll() is None, server.stderr.read() if server.stderr else ""
                    assert time.monotonic() < deadline, "server did not start within 30 s"
                    time.sleep(0.2)
            csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
            assert csrf
            done = browser.post(
                "/subscribe", data={"email": "ana@example.org", "csrf_token": csrf.group(1)}
            )
            assert done.status_code == 200
            assert "Check your inbox" in done.text
            # The server's background sender mails it, after the answer.
            while not smtp.to("ana@example.org"):
                assert time.monotonic() < deadline + 30, "no confirmation email within 30 s"
                time.sleep(0.1)
            [mail] = smtp.to("ana@example.org")
            text = mail.message.get_payload()[0].get_payload(decode=True).decode()  # type: ignore[index,union-attr]
            url = re.search(rf"{re.escape(base)}/confirm\?token=(\S+)", text)
            assert url
            page = browser.get(f"/confirm?token={url.group(1)}")
            csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
            assert csrf
            confirmed = browser.post(
                "/confirm", data={"token": url.group(1), "csrf_token": csrf.group(1)}
            )
            assert "You are subscribed" in confirmed.text
            preferences = re.search(r'href="([^"]*/preferences\?token=[^"]+)"', confirmed.text)
            assert preferences
            settings_page = browser.get(preferences.group(1))
            unsubscribe = re.search(
                r'action="([^"]*/unsubscribe\?token=[^"]+)"', settings_page.text
            )
            assert unsubscribe
        # The mail provider's one-click POST: a fresh client, no cookies, no redirects.
        one_click = httpx.post(
            unsubscribe.group(1).replace("&amp;", "&"),
            data={"List-Unsubscribe": "One-Click"},
            timeout=5,
        )
        assert one_click.status_code == 200
        assert "You are unsubscribed" in one_click.text
    finally:
        server.terminate()
        server.wait(timeout=10)
