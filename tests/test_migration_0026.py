"""Migration 0026: every existing topic choice becomes weekly, a CHECK refuses other values, and
it comes back down without losing the choices."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import Engine, inspect, text
from sqlalchemy.exc import IntegrityError

from newsletter import migrate
from newsletter.config import Settings
from newsletter.runtime import Runtime


def _downgrade(engine: Engine, revision: str) -> None:
    config = migrate.alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def _columns(engine: Engine, table: str) -> set[str]:
    return {column["name"] for column in inspect(engine).get_columns(table)}


def test_cadence_up_and_down(settings: Settings) -> None:
    runtime = Runtime.build(settings)
    engine = runtime.engine
    try:
        migrate.upgrade(engine, "0025")
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO topics (id, slug, name, description) "
                    "VALUES (1, 'asylum', 'Asylum', '')"
                )
            )
            connection.execute(
                text(
                    "INSERT INTO subscribers (id, email, name, status, attributes, soft_bounces,"
                    " created_at, updated_at) VALUES (1, 'ana@example.org', '', 'active', '{}',"
                    " 0, '2026-11-27 15:00:00', '2026-11-27 15:00:00')"
                )
            )
            connection.execute(text("INSERT INTO subscriber_topics VALUES (1, 1)"))
        migrate.upgrade(engine)
        with engine.connect() as connection:
            rows = connection.execute(
                text("SELECT subscriber_id, topic_id, cadence FROM subscriber_topics")
            )
            assert rows.all() == [(1, 1, "weekly")]
        assert "cadences" in _columns(engine, "signup_requests")
        with pytest.raises(IntegrityError), engine.begin() as connection:
            connection.execute(text("UPDATE subscriber_topics SET cadence = 'hourly'"))
        with engine.begin() as connection:
            connection.execute(text("UPDATE subscriber_topics SET cadence = 'daily'"))
        _downgrade(engine, "0025")
        assert "cadence" not in _columns(engine, "subscriber_topics")
        assert "cadences" not in _columns(engine, "signup_requests")
        with engine.connect() as connection:
            assert connection.execute(text("SELECT * FROM subscriber_topics")).all() == [(1, 1)]
        migrate.upgrade(engine)  # and up again: the head the code needs
        assert "cadence" in _columns(engine, "subscriber_topics")
    finally:
        runtime.close()
