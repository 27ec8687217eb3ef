"""the welcome email (due once a subscriber confirms) and requests for new links

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-30 15:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import newsletter.db

revision: str = '0013'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('subscribers') as batch:
        batch.add_column(
            sa.Column('welcome_due_at', newsletter.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch.create_index('ix_subscribers_welcome_due_at', ['welcome_due_at'])
    with op.batch_alter_table('signup_requests') as batch:
        batch.add_column(
            sa.Column('kind', sa.String(length=20), nullable=False, server_default='signup')
        )


def downgrade() -> None:
    with op.batch_alter_table('signup_requests') as batch:
        batch.drop_column('kind')
    with op.batch_alter_table('subscribers') as batch:
        batch.drop_index('ix_subscribers_welcome_due_at')
        batch.drop_column('welcome_due_at')
