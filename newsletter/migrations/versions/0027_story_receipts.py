"""the story receipts ledger, and the stories each stored variant shows

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-01 05:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import newsletter.db

revision: str = '0027'
down_revision: str | None = '0026'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Variants stored before now keep None: the deliveries already planned from them wrote no
    # receipts, and nothing can lay out again what an old copy showed without the renderer.
    with op.batch_alter_table('issue_variants') as batch:
        batch.add_column(sa.Column('post_ids', sa.Text(), nullable=True))
    op.create_table(
        'story_receipts',
        sa.Column('subscriber_id', sa.Integer(), nullable=False),
        sa.Column('post_id', sa.Integer(), nullable=False),
        sa.Column('issue_id', sa.Integer(), nullable=False),
        sa.Column('created_at', newsletter.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ['issue_id'], ['issues.id'],
            name=op.f('fk_story_receipts_issue_id_issues'), ondelete='CASCADE',
        ),
        sa.ForeignKeyConstraint(
            ['post_id'], ['posts.id'],
            name=op.f('fk_story_receipts_post_id_posts'), ondelete='CASCADE',
        ),
        sa.ForeignKeyConstraint(
            ['subscriber_id'], ['subscribers.id'],
            name=op.f('fk_story_receipts_subscriber_id_subscribers'), ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('subscriber_id', 'post_id', name=op.f('pk_story_receipts')),
    )
    op.create_index(
        'ix_story_receipts_issue_subscriber', 'story_receipts', ['issue_id', 'subscriber_id']
    )


def downgrade() -> None:
    op.drop_index('ix_story_receipts_issue_subscriber', table_name='story_receipts')
    op.drop_table('story_receipts')
    with op.batch_alter_table('issue_variants') as batch:
        batch.drop_column('post_ids')
