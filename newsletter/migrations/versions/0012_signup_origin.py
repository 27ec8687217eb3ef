"""where each signup came from: page, referrer and utm tags, with the consent record

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30 15:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0012'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('signup_requests') as batch:
        batch.add_column(sa.Column('origin', sa.JSON(), nullable=True))
    with op.batch_alter_table('subscribers') as batch:
        batch.add_column(sa.Column('signup_source', sa.String(length=500), nullable=True))
        batch.add_column(sa.Column('signup_origin', sa.JSON(), nullable=True))
        batch.create_index('ix_subscribers_signup_source', ['signup_source'])


def downgrade() -> None:
    with op.batch_alter_table('subscribers') as batch:
        batch.drop_index('ix_subscribers_signup_source')
        batch.drop_column('signup_origin')
        batch.drop_column('signup_source')
    with op.batch_alter_table('signup_requests') as batch:
        batch.drop_column('origin')
