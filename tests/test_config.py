"""Settings: environment over newsletter.toml over defaults, and one clear line when wrong."""

from __future__ import annotations

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


def test_reply_to_is_unset_by_default_and_read_when_given() -> None:
    assert load_settings().mail.reply_to is None
    Path("newsletter.toml").write_text('[mail]\nreply_to = " Editor@Example.net "\n')
    assert load_settings().mail.reply_to == "Editor@example.net"


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
        ('[mail]\nreply_to = "editor at example.org"\n', "is not an email address"),
        ('[mail]\nreply_to = "a@example.org\\r\\nBcc: x@example.org"\n', "mail.reply_to"),
        # Keys are matched as written: a capitalised table is a misspelling, not [site].
        ('[Site]\nname = "x"\n', "invalid setting NEWSLETTER_SITE: unknown setting"),
        (
            '[[delivery.relays]]\nname = "a"\nurl = "smtp://h"\n'
            '[[delivery.relays]]\nname = "a"\nurl = "smtp://h2"\n',
            "invalid setting delivery.relays (NEWSLETTER_DELIVERY__RELAYS): relay name 'a' appears",
        ),
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


@pytest.mark.parametrize(
    ("key", "problem"),
    [
        ("", "is empty"),
        ("   ", "is empty"),
        ("change-me-in-production", "shorter than 32 bytes"),
        ("s3cret-from-the-environment", "shorter than 32 bytes"),
        ("change-me-in-production-please-really-now", "placeholder"),
        ("Your_Secret_Key_goes_here_0123456789abc", "placeholder"),
        ("a" * 64, "too repetitive"),
    ],
)
def test_a_weak_secret_key_is_refused_without_echoing_it(
    monkeypatch: pytest.MonkeyPatch, key: str, problem: str
) -> None:
    monkeypatch.setenv("NEWSLETTER_SECRET_KEY", key)
    with pytest.raises(ConfigError) as raised:
        load_settings()
    message = str(raised.value)
    assert message.startswith("invalid setting NEWSLETTER_SECRET_KEY: the secret key")
    assert problem in message
    assert "secrets.token_urlsafe(48)" in message
    if key.strip():
        assert key not in message


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("NEWSLETTER_SMTP_URL", "smtp://user:hunter2@mail.example.org:bad"),
        ("NEWSLETTER_SMTP_URL", "smtpx://user:hunter2@mail.example.org"),
        ("NEWSLETTER_DATABASE_URL", "postgresql+nodriver://app:hunter2@db/news"),
        ("NEWSLETTER_DATABASE_URL", "postgresql+psycopg://app:hunter2@db:port/news"),
        ("NEWSLETTER_BROKER_URL", "http://:hunter2@redis:6379/0"),
        ("NEWSLETTER_REDIS_URL", "kafka://u:hunter2@redis:6379/0"),
        ("NEWSLETTER_DELIVERY__RELAYS", '[{"name": "a", "url": "smtp://u:hunter2@h:x"}]'),
    ],
)
def test_url_errors_mask_the_password(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError) as raised:
        load_settings()
    assert "hunter2" not in str(raised.value)
    assert ":***@" in str(raised.value)


def test_mask_url_keeps_what_helps() -> None:
    from newsletter.config import mask_url

    assert mask_url("smtp://me:p%40ss@host:25") == "smtp://me:***@host:25"
    assert mask_url("redis://redis:6379/0") == "redis://redis:6379/0"
    assert mask_url("smtp://me@host") == "smtp://me@host"
    assert mask_url("postgresql://u:s3cr3t@with@at@db/x") == "postgresql://u:***@db/x"


def test_credentials_in_any_text_are_masked() -> None:
    from newsletter.config import mask_credentials

    line = "cannot reach postgresql://app:hun@ter2@db/x nor redis://:pw@r:6379/0 (see smtp://u@h)"
    assert mask_credentials(line) == (
        "cannot reach postgresql://app:***@db/x nor redis://:***@r:6379/0 (see smtp://u@h)"
    )


def test_a_config_file_that_is_not_utf8_is_one_config_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    config = tmp_path / "latin1.toml"
    config.write_bytes('[site]\nname = "Café"\n'.encode("latin-1"))
    monkeypatch.setenv("NEWSLETTER_CONFIG", str(config))
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_settings()


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


def test_compose_requires_a_secret_key_and_gives_none() -> None:
    """docker-compose.yml must not fall back to a key everyone can read in the repository."""
    import re

    compose = (Path(__file__).resolve().parent.parent / "docker-compose.yml").read_text()
    values = re.findall(r"^\s*NEWSLETTER_SECRET_KEY:\s*(\S.*)$", compose, re.MULTILINE)
    assert values, "the service gets no NEWSLETTER_SECRET_KEY"
    for value in values:
        assert value.startswith("${NEWSLETTER_SECRET_KEY:?"), value


def test_offered_cadences_must_keep_weekly_and_name_known_ones() -> None:
    assert load_settings().digest.cadences == ["weekly"]
    both = load_settings(digest={"cadences": ["weekly", "daily", "weekly"]})
    assert both.digest.cadences == ["weekly", "daily"]
    with pytest.raises(ConfigError, match=r"digest\.cadences") as raised:
        load_settings(digest={"cadences": ["daily"]})
    assert "must include weekly" in str(raised.value)
    with pytest.raises(ConfigError, match=r"digest\.cadences"):
        load_settings(digest={"cadences": ["weekly", "hourly"]})


def test_daily_and_per_story_timing_defaults_and_parsed_forms() -> None:
    from datetime import time

    digest = load_settings().digest
    assert (digest.daily_send, digest.daily_send_time) == ("07:00", time(7))
    assert (digest.daily_lookback_hours, digest.each_delay_minutes) == (36, 15)
    assert (digest.quiet_hours, digest.quiet_window) == ("21:00-07:00", (time(21), time(7)))
    assert (digest.policy_daily, digest.policy_each) == ("automatic", "delay")
    given = load_settings(digest={"daily_send": " 18:30 ", "quiet_hours": "22:15 - 06:45"}).digest
    assert (given.daily_send, given.quiet_hours) == ("18:30", "22:15-06:45")
    assert given.quiet_window == (time(22, 15), time(6, 45))
    assert load_settings(digest={"quiet_hours": ""}).digest.quiet_window is None


@pytest.mark.parametrize(
    ("digest", "expected"),
    [
        (
            {"daily_send": "7:00"},
            "digest.daily_send (NEWSLETTER_DIGEST__DAILY_SEND): must look like",
        ),
        ({"daily_send": "24:00"}, "must look like 07:00"),
        ({"daily_send": "fri 07:00"}, "must look like 07:00"),
        ({"quiet_hours": "21-07"}, "quiet_hours must look like 21:00-07:00"),
        ({"quiet_hours": "21:00 to 07:00"}, "quiet_hours must look like 21:00-07:00"),
        ({"quiet_hours": "21:00-07:60"}, "quiet_hours must look like 21:00-07:00"),
        ({"quiet_hours": "21:00-21:00"}, "quiet_hours must look like 21:00-07:00"),
        ({"quiet_hours": "21:00-07:00-08:00"}, "quiet_hours must look like 21:00-07:00"),
        ({"policy_each": "later"}, "digest.policy_each"),
        ({"policy_daily": "Automatic"}, "'automatic', 'delay' or 'approval'"),
        ({"daily_lookback_hours": 0}, "digest.daily_lookback_hours"),
        ({"daily_lookback_hours": 169}, "digest.daily_lookback_hours"),
        ({"each_delay_minutes": -1}, "digest.each_delay_minutes"),
        ({"each_delay_minutes": 1441}, "digest.each_delay_minutes"),
    ],
)
def test_wrong_timing_settings_are_one_clear_line(digest: dict[str, object], expected: str) -> None:
    with pytest.raises(ConfigError) as raised:
        load_settings(digest=digest)
    message = str(raised.value)
    assert expected in message
    assert "\n" not in message


def test_quiet_hours_from_the_environment_are_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSLETTER_DIGEST__QUIET_HOURS", "late-early")
    with pytest.raises(ConfigError, match=r"digest\.quiet_hours .*must look like 21:00-07:00"):
        load_settings()
