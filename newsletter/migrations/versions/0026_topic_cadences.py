"""each subscriber topic's cadence (weekly, daily, each story), and a pending signup's choice

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-01 02:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0026'
down_revision: str | None = '0025'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Every existing choice becomes weekly, which is what those readers have been getting.
    with op.batch_alter_table('subscriber_topics') as batch:
        batch.add_column(
            sa.Column(
                'cadence',
                sa.Enum(
                    'weekly', 'daily', 'each', name='cadence', native_enum=False,
                    create_constraint=True, length=20,
                ),
                server_default='weekly',
                nullable=False,
            )
        )
    with op.batch_alter_table('signup_requests') as batch:
        batch.add_column(sa.Column('cadences', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('signup_requests') as batch:
        batch.drop_column('cadences')
    with op.batch_alter_table('subscriber_topics') as batch:
        # SQLite's copy of the table would keep a CHECK naming the column it no longer has.
        batch.drop_constraint(op.f('ck_subscriber_topics_cadence'), type_='check')
        batch.drop_column('cadence')
