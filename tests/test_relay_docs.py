"""docs/relays/*.md name only settings that exist, and their TOML examples load as written."""

from __future__ import annotations

import re
import tomllib
import types
import typing
from pathlib import Path

import pytest
from pydantic import BaseModel

from newsletter.config import FLAT_ENV, Settings, load_settings
from newsletter.errors import ConfigError

DOCS = Path(__file__).resolve().parent.parent / "docs" / "relays"
PROVIDERS = ("ses", "postmark", "sendgrid", "mailgun", "brevo")
PAGES = [DOCS / f"{provider}.md" for provider in PROVIDERS]

# `a.b.c` in backticks: a setting's path, unless it is a host or a file name.
_DOTTED = re.compile(r"`\[?([a-z_]+(?:\.[a-z_<>]+)+)\]?`")
_NOT_SETTINGS = re.compile(r"\.(com|net|org|io|md|toml|py|html)$")
_ENV = re.compile(r"\bNEWSLETTER_[A-Z_]+\b")
_TOML = re.compile(r"```toml\n(.*?)```", re.DOTALL)
# The variable that names the settings file, not a setting.
_NOT_ENV_SETTINGS = {"NEWSLETTER_CONFIG"}


def _model_of(annotation: object) -> type[BaseModel] | None:
    """The settings model a field holds: itself, or inside Optional[...] or list[...]."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if typing.get_origin(annotation) in (typing.Union, types.UnionType, list):
        for argument in typing.get_args(annotation):
            found = _model_of(argument)
            if found is not None:
                return found
    return None


def setting_exists(path: list[str]) -> bool:
    model: type[BaseModel] | None = Settings
    for part in path:
        if model is None or part not in model.model_fields:
            return False
        model = _model_of(model.model_fields[part].annotation)
    return True


def _names(text: str) -> set[str]:
    names = set()
    for name in _DOTTED.findall(text):
        if _NOT_SETTINGS.search(name):
            continue
        names.add(name)
    return names


@pytest.mark.parametrize("page", PAGES, ids=PROVIDERS)
def test_every_setting_a_page_names_exists(page: Path) -> None:
    text = page.read_text()
    names = _names(text)
    assert names, "the page names no setting"
    for name in names:
        # `[webhooks.<provider>]` in prose stands for each provider's section.
        for provider in PROVIDERS if "<provider>" in name else ("",):
            path = name.replace("<provider>", provider).split(".")
            assert setting_exists(path), f"{page.name}: `{name}` is not a setting"
    for variable in set(_ENV.findall(text)) - _NOT_ENV_SETTINGS:
        if variable in FLAT_ENV:
            path = list(FLAT_ENV[variable])
        else:
            path = variable.removeprefix("NEWSLETTER_").lower().split("__")
        assert setting_exists(path), f"{page.name}: {variable} is not a setting's variable"


@pytest.mark.parametrize("page", PAGES, ids=PROVIDERS)
def test_every_toml_example_loads(page: Path) -> None:
    blocks = _TOML.findall(page.read_text())
    assert blocks, "the page shows no settings"
    provider = page.stem
    sections = []
    for block in blocks:
        # Each example loads on its own, with the checks a real start applies (URLs, keys).
        data = tomllib.loads(block)
        load_settings(**data)
        sections.append(data)
    # The page configures its provider's webhook.
    assert any(provider in data.get("webhooks", {}) for data in sections)
    # And relays, as the settings take them.
    assert any(data.get("delivery", {}).get("relays") for data in sections)


def test_the_checker_catches_a_wrong_name() -> None:
    assert setting_exists(["webhooks", "mailgun", "signing_key"])
    assert setting_exists(["delivery", "relays", "rate_per_second"])
    assert not setting_exists(["webhooks", "mailgun", "secret"])
    assert not setting_exists(["webhook", "ses", "topic_arns"])
    assert not setting_exists(["smtp_url", "host"])
    assert _names("set `webhooks.mailgun.signing_key` on `smtp.mailgun.org`") == {
        "webhooks.mailgun.signing_key"
    }
    with pytest.raises(ConfigError, match="unknown setting"):
        load_settings(
            **tomllib.loads('[webhooks.mailgun]\nsigning_key = "0123456789abcdef"\nsecret = "x"')
        )


def test_the_readme_links_every_page() -> None:
    readme = (DOCS.parent.parent / "README.md").read_text()
    for provider in PROVIDERS:
        assert f"(docs/relays/{provider}.md)" in readme
