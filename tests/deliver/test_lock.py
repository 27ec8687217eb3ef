"""One sender per issue: a second holder is refused; other schemas' issues are not this one."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from newsletter.deliver.lock import issue_lock
from newsletter.errors import SendError
from newsletter.runtime import Runtime
from tests.conftest import POSTGRES_URL


def test_a_second_sender_of_the_same_issue_is_refused(runtime: Runtime, tmp_path: Path) -> None:
    with issue_lock(runtime.engine, tmp_path, 7):
        with (
            pytest.raises(SendError, match="being sent by another process"),
            issue_lock(runtime.engine, tmp_path, 7),
        ):
            pass
        with issue_lock(runtime.engine, tmp_path, 8):  # another issue is free
            pass
    with issue_lock(runtime.engine, tmp_path, 7):  # released on exit
        pass


@pytest.fixture
def two_schemas() -> Iterator[tuple[Engine, Engine]]:
    if not POSTGRES_URL:
        pytest.skip("PostgreSQL only (NEWSLETTER_TEST_DATABASE_URL)")
    admin = create_engine(POSTGRES_URL)
    names = [f"newsletter_lock_{secrets.token_hex(4)}" for _ in range(2)]
    with admin.begin() as connection:
        for name in names:
            connection.execute(text(f'CREATE SCHEMA "{name}"'))
    engines = [
        create_engine(make_url(POSTGRES_URL).update_query_dict({"options": f"-csearch_path={n}"}))
        for n in names
    ]
    yield engines[0], engines[1]
    for engine in engines:
        engine.dispose()
    with admin.begin() as connection:
        for name in names:
            connection.execute(text(f'DROP SCHEMA "{name}" CASCADE'))
    admin.dispose()


def test_services_in_other_schemas_do_not_share_issue_locks(
    two_schemas: tuple[Engine, Engine], tmp_path: Path
) -> None:
    first, second = two_schemas
    with (
        issue_lock(first, tmp_path, 1),
        issue_lock(second, tmp_path, 1),
        pytest.raises(SendError),
        issue_lock(first, tmp_path, 1),
    ):
        pass
