"""stories added by hand to an issue, reusable blocks and their places in issues

Revision ID: 0025
Revises: 0023
Create Date: 2026-11-30 22:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import newsletter.db

revision: str = '0025'
# The merger sets this to '0024' (written in parallel on another branch).
down_revision: str | None = '0024'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('posts') as batch:
        batch.add_column(
            sa.Column('added_by', sa.String(length=320), nullable=True)
        )
    op.create_table(
        'blocks',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('body_markdown', sa.Text(), nullable=False),
        sa.Column('edited_by', sa.String(length=320), nullable=True),
        sa.Column('created_at', newsletter.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('updated_at', newsletter.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_blocks')),
        sa.UniqueConstraint('name', name=op.f('uq_blocks_name')),
    )
    op.create_table(
        'issue_blocks',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('issue_id', sa.Integer(), nullable=False),
        sa.Column('block_id', sa.Integer(), nullable=False),
        sa.Column('after_story', sa.Integer(), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ['issue_id'], ['issues.id'], name=op.f('fk_issue_blocks_issue_id_issues'),
            ondelete='CASCADE',
        ),
        sa.ForeignKeyConstraint(
            ['block_id'], ['blocks.id'], name=op.f('fk_issue_blocks_block_id_blocks'),
            ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_issue_blocks')),
    )
    op.create_index(op.f('ix_issue_blocks_issue_id'), 'issue_blocks', ['issue_id'])


def downgrade() -> None:
    op.drop_index(op.f('ix_issue_blocks_issue_id'), table_name='issue_blocks')
    op.drop_table('issue_blocks')
    op.drop_table('blocks')
    with op.batch_alter_table('posts') as batch:
        batch.drop_column('added_by')
