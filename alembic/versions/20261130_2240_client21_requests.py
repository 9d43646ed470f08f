"""client requests under the AVG (inzage, correctie, verwijdering, beperking, bezwaar, klacht)
and the corrections applied on them

Revision ID: client21_02
Revises: client21_01
Create Date: 2026-11-30 22:40:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "client21_02"
down_revision: str | Sequence[str] | None = "client21_01"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "client_request",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("conference_id", sa.Uuid(), nullable=False),
        sa.Column("client_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column("on_behalf_of", sa.String(length=200), nullable=True),
        sa.Column("description", sa.String(length=4000), nullable=False),
        sa.Column("deadline_on", sa.Date(), nullable=False),
        sa.Column("extended_until", sa.Date(), nullable=True),
        sa.Column("extension_reason", sa.String(length=2000), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("decision", sa.String(length=16), nullable=True),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("answered_on", sa.Date(), nullable=True),
        sa.Column("recorded_by_id", sa.Uuid(), nullable=False),
        sa.Column("answered_by_id", sa.Uuid(), nullable=True),
        sa.Column("overdue_notified_on", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["answered_by_id"], ["membership.id"], name="fk_client_request_answered_by_id_membership"),
        sa.ForeignKeyConstraint(["client_id"], ["client.id"], name="fk_client_request_client_id_client"),
        sa.ForeignKeyConstraint(["conference_id"], ["conference.id"], name="fk_client_request_conference_id_conference"),
        sa.ForeignKeyConstraint(["recorded_by_id"], ["membership.id"], name="fk_client_request_recorded_by_id_membership"),
        sa.PrimaryKeyConstraint("id", name="pk_client_request"),
    )
    op.create_index("ix_client_request_client_id", "client_request", ["client_id"])
    op.create_index("ix_client_request_open", "client_request", ["conference_id", "status", "deadline_on"])
    op.create_table(
        "client_correction",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("request_id", sa.Uuid(), nullable=False),
        sa.Column("field", sa.String(length=16), nullable=False),
        sa.Column("entity_id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=True),
        sa.Column("old_value", sa.Text(), nullable=False),
        sa.Column("new_value", sa.Text(), nullable=False),
        sa.Column("told_organisation_ids", sa.ARRAY(sa.Uuid()), nullable=False),
        sa.Column("corrected_by_id", sa.Uuid(), nullable=False),
        sa.Column("corrected_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["case.id"], name="fk_client_correction_case_id_case"),
        sa.ForeignKeyConstraint(
            ["corrected_by_id"], ["membership.id"], name="fk_client_correction_corrected_by_id_membership"
        ),
        sa.ForeignKeyConstraint(
            ["request_id"], ["client_request.id"], name="fk_client_correction_request_id_client_request"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_client_correction"),
    )
    op.create_index("ix_client_correction_request_id", "client_correction", ["request_id"])


def downgrade() -> None:
    op.drop_index("ix_client_correction_request_id", table_name="client_correction")
    op.drop_table("client_correction")
    op.drop_index("ix_client_request_open", table_name="client_request")
    op.drop_index("ix_client_request_client_id", table_name="client_request")
    op.drop_table("client_request")
