"""a source's whole configuration in the database, who last edited sources and topics, and
the alerts editors were sent (a source in trouble, a paused send)

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-30 16:15:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import newsletter.db

revision: str = '0015'
down_revision: str | None = '0014'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('sources') as batch:
        batch.add_column(sa.Column('topics', sa.JSON(), nullable=True))
        batch.add_column(sa.Column('selectors', sa.JSON(), nullable=True))
        batch.add_column(sa.Column('max_pages', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('api_key_sha256', sa.String(length=64), nullable=True))
        batch.add_column(sa.Column('edited_by', sa.String(length=320), nullable=True))
        batch.add_column(
            sa.Column('edited_at', newsletter.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch.add_column(
            sa.Column('failures_in_row', sa.Integer(), nullable=False, server_default='0')
        )
        batch.add_column(sa.Column('alert', sa.String(length=500), nullable=True))
    with op.batch_alter_table('issues') as batch:
        batch.add_column(
            sa.Column('pause_told_at', newsletter.db.UTCDateTime(timezone=True), nullable=True)
        )
    with op.batch_alter_table('topics') as batch:
        batch.add_column(sa.Column('edited_by', sa.String(length=320), nullable=True))
        batch.add_column(
            sa.Column('edited_at', newsletter.db.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table('topics') as batch:
        batch.drop_column('edited_at')
        batch.drop_column('edited_by')
    with op.batch_alter_table('issues') as batch:
        batch.drop_column('pause_told_at')
    with op.batch_alter_table('sources') as batch:
        for name in ('alert', 'failures_in_row', 'edited_at', 'edited_by', 'api_key_sha256', 'max_pages', 'selectors', 'topics'):
            batch.drop_column(name)
