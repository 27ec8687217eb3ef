"""The schema: migrations match the models, run twice harmlessly, and keep time zones."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError, StatementError

from newsletter import migrate
from newsletter.db import Base, make_engine
from newsletter.models import Post, Source, Topic
from newsletter.runtime import Runtime
from newsletter.schema_version import HEAD, current_revision
from subscribers.models import Subscriber, SubscriberTopic
from tests.conftest import POSTGRES_URL


def test_migrations_build_exactly_the_models(runtime: Runtime) -> None:
    with runtime.engine.connect() as connection:
        include = migrate.compared(connection.dialect.name)
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "include_object": include}
        )
        assert compare_metadata(context, Base.metadata) == []
    assert current_revision(runtime.engine) == migrate.head_revision() == HEAD


def test_upgrading_twice_is_harmless(runtime: Runtime) -> None:
    with runtime.sessions.begin() as session:
        session.add(Topic(slug="asylum", name="Asylum", description=""))
    migrate.upgrade(runtime.engine)
    with runtime.sessions() as session:
        assert session.scalars(select(Topic.slug)).all() == ["asylum"]


def _post(url: str, at: datetime) -> Post:
    return Post(
        url=url,
        content_hash="0" * 64,
        title="Beyond A Border Solution",
        published_at=at,
        updated_at=at,
        first_seen_at=at,
    )


def test_timestamps_come_back_aware_and_in_utc(runtime: Runtime) -> None:
    new_york = timezone(timedelta(hours=-4))
    published = datetime(2023, 5, 2, 8, 0, tzinfo=new_york)
    with runtime.sessions.begin() as session:
        session.add(_post("https://demo.example.org/a", published))
    with runtime.sessions() as session:
        stored = session.scalars(select(Post)).one()
    assert stored.published_at.tzinfo is not None
    assert stored.published_at == published
    assert stored.published_at.utcoffset() == timedelta(0)
    assert stored.published_at.hour == 12


def test_naive_timestamps_are_refused(runtime: Runtime) -> None:
    with pytest.raises(StatementError, match="naive datetime"), runtime.sessions.begin() as session:
        session.add(_post("https://demo.example.org/b", datetime(2023, 5, 2, 8, 0)))


def test_foreign_keys_are_enforced(runtime: Runtime) -> None:
    with runtime.sessions() as session:
        session.add(SubscriberTopic(subscriber_id=999, topic_id=999))
        with pytest.raises(IntegrityError):
            session.flush()


def test_unique_addresses(runtime: Runtime) -> None:
    now = datetime.now(UTC)
    with runtime.sessions() as session:
        session.add(Subscriber(email="ana@example.org", created_at=now, updated_at=now))
        session.flush()
        session.add(Subscriber(email="ana@example.org", created_at=now, updated_at=now))
        with pytest.raises(IntegrityError):
            session.flush()


def test_database_errors_do_not_carry_the_values(runtime: Runtime) -> None:
    # Error text reaches logs and the CLI's error line; an address in it is personal data.
    now = datetime.now(UTC)
    with runtime.sessions() as session:
        session.add(Subscriber(email="hidden@example.org", created_at=now, updated_at=now))
        session.flush()
        session.add(Subscriber(email="hidden@example.org", created_at=now, updated_at=now))
        with pytest.raises(IntegrityError) as caught:
            session.flush()
    # PostgreSQL's own DETAIL line may name the key (the CLI prints only the first line of a
    # driver's message); what SQLAlchemy adds, the statement's values, must not be there.
    added = str(caught.value)[str(caught.value).index("[SQL:") :]
    assert "hidden@example.org" not in added
    assert "parameters hidden" in added.lower()


def test_sqlite_uses_wal(runtime: Runtime) -> None:
    if runtime.engine.dialect.name != "sqlite":
        pytest.skip("SQLite only")
    with runtime.engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar_one() == "wal"
        assert connection.execute(text("PRAGMA foreign_keys")).scalar_one() == 1


def test_source_defaults(runtime: Runtime) -> None:
    now = datetime.now(UTC)
    with runtime.sessions.begin() as session:
        session.add(Source(name="border-page", kind="html", url="https://e.org", created_at=now))
    with runtime.sessions() as session:
        source = session.scalars(select(Source)).one()
    assert source.enabled is True
    assert source.etag is None


def test_trigram_indexes_use_pg_trgm_from_outside_the_search_path(database_url: str) -> None:
    """pg_trgm is often in `public` already while the service's schema is another. In a database
    of the test's own: moving the extension is no business of other sessions' databases."""
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL only")
    assert POSTGRES_URL is not None
    name = f"trgm_probe_{secrets.token_hex(4)}"
    server = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    own = make_url(POSTGRES_URL).set(database=name)
    try:
        admin = create_engine(own)
        with admin.begin() as connection:
            connection.execute(text('CREATE SCHEMA "home"'))
            connection.execute(text('CREATE EXTENSION pg_trgm SCHEMA "home"'))
            connection.execute(text('CREATE SCHEMA "service"'))
        admin.dispose()
        service = own.update_query_dict({"options": "-csearch_path=service"})
        engine = make_engine(service.render_as_string(hide_password=False))
        migrate.upgrade(engine)
        with engine.connect() as connection:
            found = set(connection.scalars(text("SELECT indexname FROM pg_indexes")))
        engine.dispose()
        assert {"ix_subscribers_email_trgm", "ix_subscribers_name_trgm"} <= found
    finally:
        with server.connect() as connection:
            connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        server.dispose()
