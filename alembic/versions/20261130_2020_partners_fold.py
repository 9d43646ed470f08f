"""partners: repeated signals fold into the open flag (count, last seen, last told); snoozes

Revision ID: 0014_partners_fold
Revises: 0011_accesslog_keyed
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0014_partners_fold"
down_revision: str | Sequence[str] | None = "0011_accesslog_keyed"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("case_flag", sa.Column("count", sa.Integer(), server_default="1", nullable=False))
    op.add_column("case_flag", sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("case_flag", sa.Column("notified_at", sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE case_flag SET last_seen_at = created_at, notified_at = created_at")
    op.create_table(
        "signal_snooze",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("until", sa.Date(), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("created_by_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_reason", sa.String(length=16), nullable=True),
        sa.Column("broken_by_event_id", sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["case.id"], name=op.f("fk_signal_snooze_case_id_case")),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["membership.id"], name=op.f("fk_signal_snooze_created_by_id_membership")
        ),
        sa.ForeignKeyConstraint(
            ["broken_by_event_id"], ["partner_event.id"],
            name=op.f("fk_signal_snooze_broken_by_event_id_partner_event"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signal_snooze")),
    )
    op.create_index(op.f("ix_signal_snooze_case_id"), "signal_snooze", ["case_id"], unique=False)
    op.create_index(
        "uq_signal_snooze_active", "signal_snooze", ["case_id", "kind"], unique=True,
        postgresql_where=sa.text("ended_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("uq_signal_snooze_active", table_name="signal_snooze", postgresql_where=sa.text("ended_at IS NULL"))
    op.drop_index(op.f("ix_signal_snooze_case_id"), table_name="signal_snooze")
    op.drop_table("signal_snooze")
    op.drop_column("case_flag", "notified_at")
    op.drop_column("case_flag", "last_seen_at")
    op.drop_column("case_flag", "count")
