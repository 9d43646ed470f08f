"""Outcomes: the neighbourhood (wijk) of a case, by which outcome figures are filtered.

Revision ID: outcomes18_01
Revises: ring17a_03
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "outcomes18_01"
down_revision: str | None = "ring17a_03"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("case", sa.Column("area", sa.String(length=64), nullable=True))


def downgrade() -> None:
    op.drop_column("case", "area")
