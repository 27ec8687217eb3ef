"""trigram indexes for the subscriber search on PostgreSQL; room for sealed TOTP secrets

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-30 18:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0017'
down_revision: str | None = '0016'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ("email", "name")


SECRETS = ("totp_secret", "totp_pending")


def upgrade() -> None:
    # A Fernet token of a 32-character secret is 140 characters; 255 leaves room for more.
    with op.batch_alter_table("editors") as batch:
        for column in SECRETS:
            batch.alter_column(
                column, type_=sa.String(length=255), existing_type=sa.String(length=64)
            )
    if op.get_bind().dialect.name != "postgresql":
        return
    # pg_trgm ships with PostgreSQL and is a trusted extension (13+): a database's owner may
    # create it without being a superuser. It may exist already in another schema than ours
    # (public, most often), out of the search path: its operator class is named with its schema.
    bind = op.get_bind()
    # Two processes migrating a new database at once (web and worker starting together) can
    # both find it missing; the second's CREATE then fails, harmlessly, in its own savepoint.
    try:
        with bind.begin_nested():
            bind.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
    except sa.exc.IntegrityError:
        pass
    schema = op.get_bind().scalar(
        sa.text(
            "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
            "WHERE e.extname = 'pg_trgm'"
        )
    )
    quoted = op.get_bind().dialect.identifier_preparer.quote_schema(schema)
    for column in COLUMNS:
        op.create_index(
            f"ix_subscribers_{column}_trgm",
            "subscribers",
            [column],
            postgresql_using="gin",
            postgresql_ops={column: f"{quoted}.gin_trgm_ops"},
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for column in COLUMNS:
            op.drop_index(f"ix_subscribers_{column}_trgm", table_name="subscribers")
    with op.batch_alter_table("editors") as batch:
        for column in SECRETS:
            batch.alter_column(
                column, type_=sa.String(length=64), existing_type=sa.String(length=255)
            )
