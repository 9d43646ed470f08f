"""Notifications read per person: one row per notification and reader (issuer and subject).

Revision ID: webshell_01
Revises: ring17b_03
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "webshell_01"
down_revision: str | None = "ring17b_03"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "notification_read",
        sa.Column("notification_id", sa.Uuid(), nullable=False),
        sa.Column("issuer", sa.String(length=500), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["notification_id"], ["notification.id"], ondelete="CASCADE",
                                name=op.f("fk_notification_read_notification_id_notification")),
        sa.PrimaryKeyConstraint("notification_id", "issuer", "subject", name=op.f("pk_notification_read")),
    )


def downgrade() -> None:
    op.drop_table("notification_read")
