"""Referrals from the wider ring (issue 17): the kind of a referral (a member, a referrer of a
non-member organisation, a worry from the social surroundings, a consultation turned referral)
and, for a worry from the surroundings, who reported it and their relation.

Revision ID: ring17a_01
Revises: ring17b_01
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "ring17a_01"
down_revision: str | None = "ring17b_01"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("referral", sa.Column("kind", sa.String(length=16), nullable=False,
                                        server_default="professional"))
    op.alter_column("referral", "kind", server_default=None)
    op.add_column("referral", sa.Column("reporter", sa.String(length=200), nullable=True))
    op.add_column("referral", sa.Column("reporter_relation", sa.String(length=16), nullable=True))


def downgrade() -> None:
    op.drop_column("referral", "reporter_relation")
    op.drop_column("referral", "reporter")
    op.drop_column("referral", "kind")
