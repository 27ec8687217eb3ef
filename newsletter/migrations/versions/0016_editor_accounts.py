"""editor accounts: one-time set-password links, two-factor sign-in (TOTP), recovery codes

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-30 16:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import newsletter.db

revision: str = '0016'
down_revision: str | None = '0015'
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
        batch.add_column(sa.Column('totp_secret', sa.String(length=64), nullable=True))
        batch.add_column(sa.Column('totp_pending', sa.String(length=64), nullable=True))
        batch.add_column(sa.Column('totp_last_step', sa.Integer(), nullable=True))
    op.create_table('editor_recovery_codes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('editor_id', sa.Integer(), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('used_at', newsletter.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['editor_id'], ['editors.id'], name=op.f('fk_editor_recovery_codes_editor_id_editors'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_editor_recovery_codes'))
    )
    with op.batch_alter_table('editor_recovery_codes') as batch:
        batch.create_index(batch.f('ix_editor_recovery_codes_editor_id'), ['editor_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('editor_recovery_codes') as batch:
        batch.drop_index(batch.f('ix_editor_recovery_codes_editor_id'))
    op.drop_table('editor_recovery_codes')
    with op.batch_alter_table('editors') as batch:
        batch.drop_column('totp_last_step')
        batch.drop_column('totp_pending')
        batch.drop_column('totp_secret')
        batch.drop_column('invite_expires_at')
        batch.drop_column('invite_digest')
