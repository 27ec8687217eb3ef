"""Settings: environment over newsletter.toml over defaults, and one clear line when wrong."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from newsletter.config import load_settings
from newsletter.errors import ConfigError


def test_defaults_run_with_no_file_at_all() -> None:
    settings = load_settings()
    assert settings.database_url == "sqlite:///var/newsletter.db"
    assert settings.smtp_url is None
    assert settings.outbox_dir == Path("var/outbox")
    assert settings.digest.send == "fri 10:00"
    assert settings.organization.donate_heading == "Make a contribution"


def test_file_is_read_and_environment_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "site.toml"
    config.write_text(
        '[site]\nname = "Border News"\nurl = "https://file.example.org"\n'
        'timezone = "Europe/Berlin"\n'
        "[digest]\nmax_posts = 7\n"
        '[[topics]]\nslug = "asylum"\nname = "Asylum"\n'
        '[[sources]]\nname = "border-page"\nkind = "html"\n'
        'url = "https://file.example.org/topics/border"\ntopics = ["asylum"]\n'
        '[sources.selectors]\nitem = "article.post"\n'
    )
    monkeypatch.setenv("NEWSLETTER_CONFIG", str(config))
    monkeypatch.setenv("NEWSLETTER_SITE_URL", "https://env.example.org/")
    monkeypatch.setenv("NEWSLETTER_DIGEST__MAX_POSTS", "9")
    monkeypatch.setenv("NEWSLETTER_DONATE_URL", "https://env.example.org/give")

    settings = load_settings()

    assert settings.site.name == "Border News"
    assert settings.site.base_url == "https://env.example.org"
    assert settings.site.timezone == "Europe/Berlin"
    assert settings.digest.max_posts == 9
    assert str(settings.organization.donate_url) == "https://env.example.org/give"
    assert [topic.slug for topic in settings.topics] == ["asylum"]
    assert settings.sources[0].selectors is not None
    assert settings.sources[0].selectors.item == "article.post"


def test_newsletter_toml_in_the_working_folder_is_found() -> None:
    Path("newsletter.toml").write_text('[mail]\nfrom_address = "news@example.net"\n')
    assert load_settings().mail.from_address == "news@example.net"


def test_postgres_urls_get_the_psycopg_driver() -> None:
    settings = load_settings(database_url="postgres://u:p@db:5432/news")
    assert settings.database_url == "postgresql+psycopg://u:p@db:5432/news"


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("NEWSLETTER_DATABASE_URL", "nonsense://", "invalid setting NEWSLETTER_DATABASE_URL: "),
        ("NEWSLETTER_DATABASE_URL", "mysql://x@y/z", "'mysql' databases are not supported"),
        ("NEWSLETTER_TIMEZONE", "Mars/Olympus", "site.timezone (NEWSLETTER_TIMEZONE)"),
        ("NEWSLETTER_SITE_URL", "not a url", "site.url (NEWSLETTER_SITE_URL)"),
        ("NEWSLETTER_SMTP_URL", "http://mail", "NEWSLETTER_SMTP_URL: 'http://mail' is not an SMTP"),
        ("NEWSLETTER_DIGEST__SEND", "friday", "digest.send (NEWSLETTER_DIGEST__SEND)"),
        ("NEWSLETTER_DIGEST__MAX_POSTS", "0", "digest.max_posts"),
    ],
)
def test_a_wrong_value_names_its_key_in_one_line(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, expected: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError) as raised:
        load_settings()
    message = str(raised.value)
    assert expected in message
    assert "\n" not in message


@pytest.mark.parametrize(
    ("toml", "expected"),
    [
        ('[site]\nnmae = "x"\n', "invalid setting site.nmae: unknown setting"),
        ('[[sources]]\nname = "a"\nkind = "rss"\nurl = "https://e.org"\n', "sources[0].kind"),
        ('[[sources]]\nname = "a"\nkind = "feed"\n', "source 'a' of kind 'feed' needs a url"),
        ('[[topics]]\nslug = "Border Enforcement"\nname = "B"\n', "is not a slug"),
        ('[[topics]]\nslug = "a"\nname = "A"\n[[topics]]\nslug = "a"\nname = "B"\n', "twice"),
        ("[site\n", "not valid TOML"),
    ],
)
def test_a_wrong_file_names_what_is_wrong(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, toml: str, expected: str
) -> None:
    config = tmp_path / "bad.toml"
    config.write_text(toml)
    monkeypatch.setenv("NEWSLETTER_CONFIG", str(config))
    with pytest.raises(ConfigError, match=None) as raised:
        load_settings()
    assert expected in str(raised.value)


def test_a_missing_config_file_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSLETTER_CONFIG", "/nowhere/newsletter.toml")
    with pytest.raises(ConfigError, match=r"no such file '/nowhere/newsletter\.toml'"):
        load_settings()


def test_generated_signing_key_is_private_and_stable(tmp_path: Path) -> None:
    settings = load_settings(var_dir=tmp_path / "var")
    first = settings.signing_key()
    assert len(first) >= 32
    assert load_settings(var_dir=tmp_path / "var").signing_key() == first
    mode = stat.S_IMODE((tmp_path / "var" / "secret_key").stat().st_mode)
    assert mode == 0o600


def test_configured_signing_key_wins(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("NEWSLETTER_SECRET_KEY", "s3cret-from-the-environment")
    settings = load_settings(var_dir=tmp_path / "var")
    assert settings.signing_key() == "s3cret-from-the-environment"
    assert not (tmp_path / "var" / "secret_key").exists()


def test_example_file_names_every_key() -> None:
    """newsletter.example.toml is the reference: it loads, and names every key (some commented)."""
    import re
    import tomllib

    from newsletter.config import Settings

    example = Path(__file__).resolve().parent.parent / "newsletter.example.toml"
    text = example.read_text()
    settings = load_settings(**tomllib.loads(text))
    assert settings.topics
    assert settings.sources

    def named(key: str) -> bool:
        return re.search(rf"^(# )?({key} = |\[\S*\b{key}\])", text, re.MULTILINE) is not None

    for name, field in Settings.model_fields.items():
        model = getattr(field.annotation, "model_fields", None)
        if model is None and name not in ("topics", "sources"):
            assert named(name), name
        for key in model or {}:
            assert named(key), f"{name}.{key}"
    from newsletter.config import SelectorSettings, SourceSettings, TopicSettings

    for section in (TopicSettings, SourceSettings, SelectorSettings):
        for key in section.model_fields:
            assert named(key), key
