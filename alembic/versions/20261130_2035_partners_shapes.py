"""partners: a webhook subscription chooses its payload shape (Standard Webhooks or ZGW Notificaties)

Revision ID: 0014_partners_shapes
Revises: 0009_admin_scope
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0014_partners_shapes"
down_revision: str | Sequence[str] | None = "0009_admin_scope"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "webhook_subscription",
        sa.Column("payload_shape", sa.String(length=24), server_default="standard-webhooks", nullable=False),
    )


def downgrade() -> None:
    op.drop_column("webhook_subscription", "payload_shape")
