"""the subscriber API's tokens

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-30 18:50:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import newsletter.db

revision: str = '0019'
down_revision: str | None = '0018'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'api_tokens',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('scopes', sa.JSON(), nullable=False),
        sa.Column('digest', sa.String(length=64), nullable=False),
        sa.Column('created_by', sa.String(length=320), nullable=False),
        sa.Column('created_at', newsletter.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('last_used_at', newsletter.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('revoked_at', newsletter.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('revoked_by', sa.String(length=320), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_api_tokens')),
    )


def downgrade() -> None:
    op.drop_table('api_tokens')
