"""partners: a referral carries the referring organisation's own client reference

Revision ID: 0014_partners_refs
Revises: 0008_faults_flags
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0014_partners_refs"
down_revision: str | Sequence[str] | None = "0008_faults_flags"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("referral", sa.Column("client_reference", sa.String(length=128), nullable=True))


def downgrade() -> None:
    op.drop_column("referral", "client_reference")
