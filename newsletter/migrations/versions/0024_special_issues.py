"""special issues: an issue's kind, audience, body, call to action, and leave-out choice

Revision ID: 0024
Revises: 0023
Create Date: 2026-11-30 22:05:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0024'
down_revision: str | None = '0023'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('issues') as batch:
        batch.add_column(
            sa.Column('kind', sa.String(length=20), nullable=False, server_default='weekly')
        )
        batch.add_column(
            sa.Column('audience', sa.String(length=1000), nullable=False, server_default='')
        )
        batch.add_column(sa.Column('body_markdown', sa.Text(), nullable=False, server_default=''))
        batch.add_column(sa.Column('cta_label', sa.String(length=100), nullable=True))
        batch.add_column(sa.Column('cta_url', sa.String(length=2000), nullable=True))
        batch.add_column(
            sa.Column(
                'leave_out_of_weekly', sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )


def downgrade() -> None:
    with op.batch_alter_table('issues') as batch:
        for name in (
            'leave_out_of_weekly', 'cta_url', 'cta_label', 'body_markdown', 'audience', 'kind'
        ):
            batch.drop_column(name)
