"""relay webhook events already handled, so a provider's retry is a no-op

Revision ID: 0023
Revises: 0022
Create Date: 2026-11-30 18:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import newsletter.db

revision: str = '0023'
down_revision: str | None = '0022'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'relay_events',
        sa.Column('provider', sa.String(length=20), nullable=False),
        sa.Column('event_id', sa.String(length=128), nullable=False),
        sa.Column('received_at', newsletter.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('outcome', sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint('provider', 'event_id', name=op.f('pk_relay_events')),
    )


def downgrade() -> None:
    op.drop_table('relay_events')
