"""amounts: actions' resource amounts and mandates' maxima are bigint (the schema allows 10^10)

Revision ID: 0009_admin_amounts
Revises: 0003_audit
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0009_admin_amounts"
down_revision: str | Sequence[str] | None = "0003_audit"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.alter_column("action", "resource_amount_cents", type_=sa.BigInteger(), existing_nullable=True)
    op.alter_column("mandate", "max_amount_cents", type_=sa.BigInteger(), existing_nullable=True)


def downgrade() -> None:
    # Values beyond 32 bits cannot go back: refuse rather than truncate.
    op.alter_column("mandate", "max_amount_cents", type_=sa.Integer(), existing_nullable=True)
    op.alter_column("action", "resource_amount_cents", type_=sa.Integer(), existing_nullable=True)
