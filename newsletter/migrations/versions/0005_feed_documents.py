"""feed documents

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28 11:34:07.306825
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import newsletter.db

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('feed_documents',
    sa.Column('path', sa.String(length=300), nullable=False),
    sa.Column('media_type', sa.String(length=100), nullable=False),
    sa.Column('body', sa.LargeBinary(), nullable=False),
    sa.Column('etag', sa.String(length=100), nullable=False),
    sa.Column('last_modified', newsletter.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('built_at', newsletter.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('path', name=op.f('pk_feed_documents'))
    )


def downgrade() -> None:
    op.drop_table('feed_documents')
