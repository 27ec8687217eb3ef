"""What the planning benches share: their command line, and a one-topic site to run on."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from newsletter.config import Settings, load_settings


def arguments(doc: str) -> argparse.Namespace:
    """--subscribers (default 100,000), --rounds (3), --database-url (default: SQLite)."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--database-url")
    return parser.parse_args()


def settings(folder: str, database_url: str | None, **more: Any) -> Settings:
    """A site with the one topic "asylum", its files (and SQLite, by default) in `folder`."""
    return load_settings(
        database_url=database_url or f"sqlite:///{Path(folder) / 'bench.db'}",
        var_dir=Path(folder) / "var",
        site={"url": "https://news.example.org", "timezone": "America/New_York"},
        topics=[{"slug": "asylum", "name": "Asylum"}],
        **more,
    )
