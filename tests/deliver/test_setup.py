"""The per-site message setup: it warns when the site cannot offer one-click unsubscribe."""

from __future__ import annotations

import logging

import pytest

from newsletter.config import load_settings
from newsletter.deliver.setup import mail_setup


def test_an_http_site_is_warned_about_at_start(caplog: pytest.LogCaptureFixture) -> None:
    settings = load_settings(site={"url": "http://news.example.org"})
    with caplog.at_level(logging.WARNING, logger="newsletter.deliver.setup"):
        setup = mail_setup(settings, "s3cret")
    assert not setup.one_click
    assert "not https" in caplog.text
    assert "List-Unsubscribe-Post" in caplog.text
    assert "s3cret" not in caplog.text


def test_an_https_site_is_not(caplog: pytest.LogCaptureFixture) -> None:
    settings = load_settings(site={"url": "https://news.example.org"})
    with caplog.at_level(logging.WARNING, logger="newsletter.deliver.setup"):
        assert mail_setup(settings, "s3cret").one_click
    assert caplog.text == ""
