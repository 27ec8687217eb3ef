"""editor invitations: a one-time set-password link per editor

Revision ID: 0016
Revises: 0013
Create Date: 2026-11-30 16:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import newsletter.db

revision: str = '0016'
down_revision: str | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('editors') as batch:
        batch.add_column(sa.Column('invite_digest', sa.String(length=64), nullable=True))
        batch.add_column(
            sa.Column(
                'invite_expires_at', newsletter.db.UTCDateTime(timezone=True), nullable=True
            )
        )


def downgrade() -> None:
    with op.batch_alter_table('editors') as batch:
        batch.drop_column('invite_expires_at')
        batch.drop_column('invite_digest')
