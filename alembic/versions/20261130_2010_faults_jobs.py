"""faults: job runs can be abandoned (heartbeat), and an abandoned slot claimed again

Revision ID: 0008_faults_jobs
Revises: 0016_labels
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0008_faults_jobs"
down_revision: str | Sequence[str] | None = "0016_labels"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("job_run", sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True))
    op.drop_constraint("uq_job_run_job_id_slot", "job_run", type_="unique")
    op.create_index(
        "uq_job_run_slot", "job_run", ["job_id", "slot"], unique=True,
        postgresql_where=sa.text("outcome <> 'abandoned'"),
    )


def downgrade() -> None:
    op.drop_index("uq_job_run_slot", table_name="job_run", postgresql_where=sa.text("outcome <> 'abandoned'"))
    # Retries of abandoned slots leave several rows per slot: keep the latest of each.
    op.execute(
        """
        DELETE FROM job_run r USING job_run newer
        WHERE r.job_id = newer.job_id AND r.slot = newer.slot
          AND (r.started_at, r.id) < (newer.started_at, newer.id)
        """
    )
    op.create_unique_constraint("uq_job_run_job_id_slot", "job_run", ["job_id", "slot"])
    op.drop_column("job_run", "heartbeat_at")
