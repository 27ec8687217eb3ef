"""issue story overrides: an issue's own title, teaser and image for a story, the post unchanged

Revision ID: 0022
Revises: 0021
Create Date: 2026-11-30 18:55:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0022'
down_revision: str | None = '0021'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('issue_posts') as batch:
        batch.add_column(sa.Column('title_override', sa.String(length=500), nullable=True))
        batch.add_column(sa.Column('teaser_override', sa.Text(), nullable=True))
        batch.add_column(sa.Column('image_url_override', sa.String(length=2000), nullable=True))
        batch.add_column(sa.Column('image_alt_override', sa.String(length=500), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('issue_posts') as batch:
        batch.drop_column('image_alt_override')
        batch.drop_column('image_url_override')
        batch.drop_column('teaser_override')
        batch.drop_column('title_override')
