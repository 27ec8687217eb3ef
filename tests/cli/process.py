"""Run the installed `newsletter` command as a user would: a subprocess with a clean environment."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from newsletter.runtime import Runtime

NEWSLETTER = str(Path(sys.executable).parent / "newsletter")


def clean_env() -> dict[str, str]:
    """This process's environment without a NEWSLETTER_ variable: nothing leaks from the shell."""
    return {k: v for k, v in os.environ.items() if not k.startswith("NEWSLETTER_")}


def service_env(runtime: Runtime, smtp_url: str, **settings: str) -> dict[str, str]:
    """A `newsletter` process's environment on this test's database, mail server and var folder.

    `settings` are further NEWSLETTER_ variables, named without the prefix (DELIVERY__LANES="2").
    """
    return {
        **clean_env(),
        "NEWSLETTER_DATABASE_URL": runtime.settings.database_url,
        "NEWSLETTER_SMTP_URL": smtp_url,
        "NEWSLETTER_VAR_DIR": str(runtime.settings.var_dir),
        "NEWSLETTER_SITE_URL": "https://news.example.org",
        **{f"NEWSLETTER_{name}": value for name, value in settings.items()},
    }


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [NEWSLETTER, *args],
        capture_output=True,
        text=True,
        env={**clean_env(), **(env or {})},
        timeout=120,
        check=False,
    )
