"""identity: per-organisation flag requiring `typ: at+jwt` access tokens

Revision ID: 0002_identity
Revises: 0006_agreements
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0002_identity"
down_revision: str | Sequence[str] | None = "0006_agreements"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "organisation",
        sa.Column("require_typ_at_jwt", sa.Boolean(), server_default=sa.false(), nullable=False),
    )


def downgrade() -> None:
    op.drop_column("organisation", "require_typ_at_jwt")
