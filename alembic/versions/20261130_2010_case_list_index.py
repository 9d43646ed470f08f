"""case list index: (conference_id, opened_at DESC, id), the list's order within a conference

Revision ID: 0015_perf_case_list_index
Revises: 0015_perf_auth_notify
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0015_perf_case_list_index"
down_revision: str | Sequence[str] | None = "0015_perf_auth_notify"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_case_conference_opened", "case", ["conference_id", sa.text("opened_at DESC"), "id"])


def downgrade() -> None:
    op.drop_index("ix_case_conference_opened", table_name="case")
