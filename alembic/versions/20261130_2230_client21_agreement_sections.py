"""agreement sections and the client's markers: the relapse plan and evaluation date of an
agreement (templates version 3), the client's plain-language marker and processing restriction

Revision ID: client21_01
Revises: 0011_accesslog_json
Create Date: 2026-11-30 22:30:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "client21_01"
down_revision: str | Sequence[str] | None = "0011_accesslog_json"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("agreement", sa.Column("relapse_wishes", sa.Text(), server_default="", nullable=False))
    op.add_column(
        "agreement", sa.Column("relapse_told", sa.String(length=1000), server_default="", nullable=False)
    )
    op.add_column("agreement", sa.Column("evaluation_on", sa.Date(), nullable=True))
    op.add_column("client", sa.Column("plain_language", sa.Boolean(), server_default=sa.false(), nullable=False))
    op.add_column("client", sa.Column("restricted_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column("client", "restricted_at")
    op.drop_column("client", "plain_language")
    op.drop_column("agreement", "evaluation_on")
    op.drop_column("agreement", "relapse_told")
    op.drop_column("agreement", "relapse_wishes")
