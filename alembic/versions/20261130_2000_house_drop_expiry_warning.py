"""drop agreement_expiry_warning: the expiry job writes notifications (kind agreement_expiring)

The table was written only by a job that was never scheduled; warnings to case directors are
rows of the one `notification` table, written by the job `expiry.warnings`.

Revision ID: 0012_house_drop_expiry_warning
Revises: 0014_partners_refs
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0012_house_drop_expiry_warning"
down_revision: str | Sequence[str] | None = "0014_partners_refs"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index(op.f("ix_agreement_expiry_warning_case_id"), table_name="agreement_expiry_warning")
    op.drop_index(op.f("ix_agreement_expiry_warning_agreement_id"), table_name="agreement_expiry_warning")
    op.drop_table("agreement_expiry_warning")


def downgrade() -> None:
    op.create_table(
        "agreement_expiry_warning",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("agreement_id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("recipient_id", sa.Uuid(), nullable=True),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["agreement_id"], ["agreement.id"],
                                name=op.f("fk_agreement_expiry_warning_agreement_id_agreement")),
        sa.ForeignKeyConstraint(["case_id"], ["case.id"], name=op.f("fk_agreement_expiry_warning_case_id_case")),
        sa.ForeignKeyConstraint(["recipient_id"], ["membership.id"],
                                name=op.f("fk_agreement_expiry_warning_recipient_id_membership")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agreement_expiry_warning")),
        sa.UniqueConstraint("agreement_id", "ends_on", name=op.f("uq_agreement_expiry_warning_agreement_id_ends_on")),
    )
    op.create_index(op.f("ix_agreement_expiry_warning_agreement_id"), "agreement_expiry_warning", ["agreement_id"],
                    unique=False)
    op.create_index(op.f("ix_agreement_expiry_warning_case_id"), "agreement_expiry_warning", ["case_id"],
                    unique=False)
