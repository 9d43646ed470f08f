"""faults: one open flag per kind and case, held by a partial unique index

Revision ID: 0008_faults_flags
Revises: 0009_admin_amounts
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0008_faults_flags"
down_revision: str | Sequence[str] | None = "0009_admin_amounts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Flags doubled by concurrent events before this index existed: keep the oldest open one of
    # each kind and case, clear the others at the time they were raised.
    op.execute(
        """
        UPDATE case_flag f SET cleared_at = f.created_at
        FROM (
            SELECT id, row_number() OVER (PARTITION BY case_id, kind ORDER BY created_at, id) AS n
            FROM case_flag WHERE cleared_at IS NULL
        ) d
        WHERE d.id = f.id AND d.n > 1
        """
    )
    op.create_index(
        "uq_case_flag_open", "case_flag", ["case_id", "kind"], unique=True,
        postgresql_where=sa.text("cleared_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("uq_case_flag_open", table_name="case_flag", postgresql_where=sa.text("cleared_at IS NULL"))
