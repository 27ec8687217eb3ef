"""Shared fixtures: every database test runs on SQLite, and on PostgreSQL when one is given."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError

from newsletter import migrate
from newsletter.config import Settings, load_settings
from newsletter.runtime import Runtime
from tests.smtpd import SmtpServer, smtp_server

# --regen-golden and the end-of-run check that a regenerating run never passes.
pytest_plugins = ("tests.golden",)

POSTGRES_URL = os.environ.get("NEWSLETTER_TEST_DATABASE_URL")
REDIS_URL = os.environ.get("NEWSLETTER_TEST_REDIS_URL")
BACKENDS = ["sqlite"] + (["postgresql"] if POSTGRES_URL else [])


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No developer's NEWSLETTER_* variables or newsletter.toml leak into a test."""
    for name in list(os.environ):
        if name.startswith("NEWSLETTER_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


@pytest.fixture(scope="session")
def postgres_schema_url() -> Iterator[str | None]:
    """One throwaway schema per test session, dropped at the end."""
    if not POSTGRES_URL:
        yield None
        return
    schema = f"newsletter_test_{secrets.token_hex(4)}"
    admin = create_engine(POSTGRES_URL)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    # pg_trgm where production databases usually have it: in public, outside the schemas each
    # test drops (dropping one with the extension in it would drop other sessions' indexes).
    public_trigrams(admin)
    url = make_url(POSTGRES_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def public_trigrams(admin: Engine) -> None:
    """pg_trgm in the public schema, unless the database has it somewhere already."""
    try:
        with admin.begin() as connection:
            connection.execute(text("CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public"))
    except IntegrityError:  # another session created it at the same moment
        pass


def _empty_postgres(url: str) -> None:
    """Each test starts from an empty schema, as a SQLite test starts from a new file."""
    engine = create_engine(url)
    with engine.begin() as connection:
        schema = connection.execute(text("SELECT current_schema()")).scalar_one()
        connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine.dispose()


@pytest.fixture(params=BACKENDS)
def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, postgres_schema_url: str | None
) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'newsletter.db'}"
    assert postgres_schema_url is not None
    _empty_postgres(postgres_schema_url)
    return postgres_schema_url


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return load_settings(
        database_url=database_url,
        var_dir=tmp_path / "var",
        site={"url": "https://news.example.org", "timezone": "America/New_York"},
        topics=[
            {"slug": "border-enforcement", "name": "Border Enforcement"},
            {"slug": "asylum", "name": "Asylum"},
        ],
    )


@pytest.fixture
def runtime(settings: Settings) -> Iterator[Runtime]:
    """A migrated database and the service wired to it."""
    built = Runtime.build(settings)
    migrate.upgrade(built.engine)
    yield built
    built.close()


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    """A real SMTP server on a free local port; set `smtp.faults` to make it misbehave."""
    with smtp_server() as server:
        yield server


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    """A key prefix (and Celery queue) of this test's own in NEWSLETTER_TEST_REDIS_URL's DB."""
    if not REDIS_URL:
        pytest.skip("NEWSLETTER_TEST_REDIS_URL is not set")
    import redis

    prefix = f"newsletter-test-{secrets.token_hex(4)}"
    yield prefix
    client = redis.Redis.from_url(REDIS_URL)
    keys = [*client.scan_iter(f"{prefix}*"), *client.scan_iter(f"*{prefix}*")]
    if keys:
        client.delete(*set(keys))
    client.close()


@pytest.fixture
def redis_url(redis_prefix: str) -> str:
    assert REDIS_URL is not None
    return REDIS_URL
