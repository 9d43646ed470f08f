"""faults: one signed agreement per template and case at any date (an exclusion constraint)

Revision ID: 0008_faults_agreements
Revises: 0014_partners_shapes
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008_faults_agreements"
down_revision: str | Sequence[str] | None = "0014_partners_shapes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # btree_gist: equality on uuid and text inside a GiST exclusion constraint (a trusted
    # extension since PostgreSQL 13: the database owner may create it).
    op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    op.execute(
        """
        ALTER TABLE agreement ADD CONSTRAINT ex_agreement_one_active
        EXCLUDE USING gist (case_id WITH =, template_id WITH =, daterange(starts_on, ends_on, '[]') WITH &&)
        WHERE (status = 'signed')
        """
    )


def downgrade() -> None:
    op.execute("ALTER TABLE agreement DROP CONSTRAINT ex_agreement_one_active")
    op.execute("DROP EXTENSION IF EXISTS btree_gist")
