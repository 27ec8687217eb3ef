"""entry ids minted once per post, and a source's last warning

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30 15:15:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import newsletter.db

revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('posts') as batch:
        batch.add_column(sa.Column('entry_id', sa.String(length=500), nullable=True))
        batch.create_unique_constraint('uq_posts_entry_id', ['entry_id'])
    with op.batch_alter_table('sources') as batch:
        batch.add_column(sa.Column('last_warning', sa.Text(), nullable=True))
        batch.add_column(
            sa.Column('last_warning_at', newsletter.db.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table('sources') as batch:
        batch.drop_column('last_warning_at')
        batch.drop_column('last_warning')
    with op.batch_alter_table('posts') as batch:
        batch.drop_constraint('uq_posts_entry_id', type_='unique')
        batch.drop_column('entry_id')
