"""signup requests: the queue between the signup form and the background confirmation sender

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30 13:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import newsletter.db

revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('signup_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('topics', sa.JSON(), nullable=False),
    sa.Column('client_address', sa.String(length=64), nullable=True),
    sa.Column('requested_at', newsletter.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('due_at', newsletter.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('subscriber_id', sa.Integer(), nullable=True),
    sa.Column('claimed_at', newsletter.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('previous_sent_at', newsletter.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['subscriber_id'], ['subscribers.id'], name=op.f('fk_signup_requests_subscriber_id_subscribers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_signup_requests'))
    )
    with op.batch_alter_table('signup_requests', schema=None) as batch_op:
        batch_op.create_index('ix_signup_requests_due', ['due_at', 'id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('signup_requests', schema=None) as batch_op:
        batch_op.drop_index('ix_signup_requests_due')

    op.drop_table('signup_requests')
