"""Need to know: label overrides on goals and actions, the break-glass procedure.

Revision ID: 0016_labels
Revises: 0012_house_drop_expiry_warning
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0016_labels"
down_revision: str | None = "0012_house_drop_expiry_warning"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("goal", sa.Column("label", sa.String(length=16), nullable=True))
    op.add_column("action", sa.Column("label", sa.String(length=16), nullable=True))
    op.create_table(
        "break_glass",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("conference_id", sa.Uuid(), nullable=False),
        sa.Column("membership_id", sa.Uuid(), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("reason", sa.String(length=1000), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["case.id"], name=op.f("fk_break_glass_case_id_case")),
        sa.ForeignKeyConstraint(["conference_id"], ["conference.id"],
                                name=op.f("fk_break_glass_conference_id_conference")),
        sa.ForeignKeyConstraint(["membership_id"], ["membership.id"],
                                name=op.f("fk_break_glass_membership_id_membership")),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisation.id"],
                                name=op.f("fk_break_glass_organisation_id_organisation")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_break_glass")),
    )
    op.create_index(op.f("ix_break_glass_case_id"), "break_glass", ["case_id"], unique=False)
    op.create_index(op.f("ix_break_glass_membership_id"), "break_glass", ["membership_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_break_glass_membership_id"), table_name="break_glass")
    op.drop_index(op.f("ix_break_glass_case_id"), table_name="break_glass")
    op.drop_table("break_glass")
    op.drop_column("action", "label")
    op.drop_column("goal", "label")
