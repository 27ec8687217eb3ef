"""Jinja2 environments over the site's own template folder, then the packaged templates."""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from newsletter.config import Settings

_HERE = Path(__file__).resolve().parent


def packaged_templates() -> Path:
    """Inside an installed wheel the templates sit in the package; in a checkout, beside it."""
    for candidate in (_HERE / "templates", _HERE.parent / "templates"):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError("the packaged templates folder is missing from this installation")


def search_path(settings: Settings) -> list[Path]:
    """A site's own folder first, so any template can be overridden file by file."""
    paths = [packaged_templates()]
    if settings.site.template_dir is not None:
        paths.insert(0, settings.site.template_dir)
    return paths


def environment(settings: Settings) -> Environment:
    return Environment(
        loader=FileSystemLoader(search_path(settings)),
        # .txt templates are plain text (email parts); everything else is escaped.
        autoescape=select_autoescape(["html", "htm", "xml"], default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
