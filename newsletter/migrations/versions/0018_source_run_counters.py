"""sources: runs and failed runs counted, for /metrics

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-30 18:45:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0018'
down_revision: str | None = '0017'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('sources') as batch:
        batch.add_column(sa.Column('runs_total', sa.Integer(), server_default='0', nullable=False))
        batch.add_column(
            sa.Column('errors_total', sa.Integer(), server_default='0', nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table('sources') as batch:
        batch.drop_column('errors_total')
        batch.drop_column('runs_total')
