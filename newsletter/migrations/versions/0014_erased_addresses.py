"""erased people's addresses, kept as keyed hashes only; subscriber events by time

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-30 16:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import newsletter.db

revision: str = '0014'
down_revision: str | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'erased_addresses',
        sa.Column('digest', sa.String(length=64), nullable=False),
        sa.Column('erased_at', newsletter.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('erased_by', sa.String(length=320), nullable=False),
        sa.PrimaryKeyConstraint('digest', name=op.f('pk_erased_addresses')),
    )
    op.create_index('ix_subscriber_events_at', 'subscriber_events', ['at'])


def downgrade() -> None:
    op.drop_index('ix_subscriber_events_at', table_name='subscriber_events')
    op.drop_table('erased_addresses')
