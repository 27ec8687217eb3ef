"""schedule

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-28 12:19:19.224085
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import newsletter.db

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('job_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('job_id', sa.String(length=100), nullable=False),
    sa.Column('holder', sa.String(length=200), nullable=False),
    sa.Column('scheduled_for', newsletter.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('started_at', newsletter.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('finished_at', newsletter.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('outcome', sa.String(length=20), nullable=False),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_job_runs'))
    )
    with op.batch_alter_table('job_runs', schema=None) as batch_op:
        batch_op.create_index('ix_job_runs_job_started', ['job_id', 'started_at'], unique=False)

    op.create_table('scheduler_lease',
    sa.Column('name', sa.String(length=50), nullable=False),
    sa.Column('holder', sa.String(length=200), nullable=False),
    sa.Column('acquired_at', newsletter.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('renewed_at', newsletter.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', newsletter.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_scheduler_lease'))
    )
    with op.batch_alter_table('issues', schema=None) as batch_op:
        batch_op.add_column(sa.Column('held_at', newsletter.db.UTCDateTime(timezone=True), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('issues', schema=None) as batch_op:
        batch_op.drop_column('held_at')

    op.drop_table('scheduler_lease')
    with op.batch_alter_table('job_runs', schema=None) as batch_op:
        batch_op.drop_index('ix_job_runs_job_started')

    op.drop_table('job_runs')
